//! The digest of a multi-file model: one SHA-256 over its sorted manifest.
//!
//! ```text
//! SHA-256( "catalog-core/manifest/v1"
//!          || for each file, by path (bytewise ascending):
//!             path_len u32 LE || path (UTF-8) || digest (32 bytes) || size u64 LE )
//! ```
//! Two models with the same files at the same paths have the same manifest
//! digest, whatever order the files were listed in; it names their view.

use crate::digest::Digest;
use crate::entry::ManifestFile;
use sha2::{Digest as _, Sha256};

const DOMAIN: &[u8] = b"catalog-core/manifest/v1";

/// The manifest digest of `files`.
pub(crate) fn manifest_digest(files: &[ManifestFile]) -> Digest {
    let mut sorted: Vec<&ManifestFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut h = Sha256::new();
    h.update(DOMAIN);
    for f in sorted {
        // Paths are bounded by MAX_PATH_LEN (4096), far below u32::MAX.
        h.update((f.path.len() as u32).to_le_bytes());
        h.update(f.path.as_bytes());
        h.update(f.digest.as_bytes());
        h.update(f.size_bytes.to_le_bytes());
    }
    Digest::sha256(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, body: &[u8]) -> ManifestFile {
        ManifestFile::new(path, Digest::of_bytes(body), body.len() as u64)
    }

    #[test]
    fn order_does_not_matter_but_every_field_does() {
        let a = [file("config.json", b"{}"), file("w.safetensors", b"w")];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(manifest_digest(&a), manifest_digest(&b));
        let renamed = [file("config2.json", b"{}"), a[1].clone()];
        let changed = [file("config.json", b"{ }"), a[1].clone()];
        let mut resized = a.clone();
        resized[0].size_bytes += 1;
        for other in [&renamed[..], &changed[..], &resized[..], &a[..1]] {
            assert_ne!(manifest_digest(&a), manifest_digest(other));
        }
        // Path boundaries are unambiguous.
        assert_ne!(
            manifest_digest(&[file("ab", b"x"), file("c", b"y")]),
            manifest_digest(&[file("a", b"x"), file("bc", b"y")])
        );
    }
}
