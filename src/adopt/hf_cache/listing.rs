//! The publisher's listing of a commit, as huggingface_hub (2.x) keeps it
//! beside the snapshot, at `<repo>/trees/<commit>.json` (written by
//! `snapshot_download`, whatever `allow_patterns` it was given; not by
//! `hf_hub_download` alone):
//!
//! ```text
//! {
//!  "format_version": 1,
//!  "files": {
//!   "config.json": {"size": 41, "blob_id": "<git blob id, 40 hex>"},
//!   "model.safetensors": {"size": 300000, "blob_id": "<40 hex>",
//!                         "lfs_sha256": "<64 hex>", "lfs_size": 300000,
//!                         "xet_hash": "<64 hex>"}
//!  }
//! }
//! ```
//!
//! It is the reference for a snapshot: which files the commit has (a
//! snapshot lacking some is partial), and each file's digest (its
//! `lfs_sha256`, else its git `blob_id`), also for a snapshot that holds
//! real files instead of symlinks. A listing of another `format_version`,
//! one that does not parse, or one naming a path the catalog cannot store
//! is not used (huggingface_hub ignores it too) and says why.

use super::super::plan::is_hex;
use crate::digest::Digest;
use std::collections::BTreeMap;
use std::path::Path;

/// The only `format_version` huggingface_hub 2.x writes.
pub(crate) const FORMAT_VERSION: u64 = 1;
/// Largest listing read (a listing of 100,000 files of long names fits).
const MAX_LISTING_LEN: u64 = 64 << 20;

/// One file of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listed {
    /// Its size.
    pub size: u64,
    /// The digest its publisher gives it: the LFS SHA-256, else the git
    /// blob id.
    pub digest: Digest,
}

/// Why a listing that is there is not used.
#[derive(Debug)]
pub(crate) struct Unusable(pub String);

/// The listing of `commit` in `repo`: `Ok(None)` when there is none.
pub(crate) fn read(
    repo: &Path,
    commit: &str,
) -> Result<Option<BTreeMap<String, Listed>>, Unusable> {
    let path = repo.join("trees").join(format!("{commit}.json"));
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(Unusable("it is not a regular file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Unusable(e.to_string())),
    }
    // Never blocks: a FIFO swapped in since the look is refused.
    let bytes =
        crate::fs::read_regular(&path, MAX_LISTING_LEN + 1).map_err(|e| Unusable(e.to_string()))?;
    if bytes.len() as u64 > MAX_LISTING_LEN {
        return Err(Unusable(format!("larger than {MAX_LISTING_LEN} bytes")));
    }
    parse(&bytes).map(Some)
}

/// Parses a listing's bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<BTreeMap<String, Listed>, Unusable> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Unusable(format!("not JSON: {e}")))?;
    let version = json.get("format_version").and_then(|v| v.as_u64());
    if version != Some(FORMAT_VERSION) {
        return Err(Unusable(format!(
            "format_version {}, not {FORMAT_VERSION}",
            json.get("format_version")
                .map_or("absent".to_string(), |v| v.to_string())
        )));
    }
    let files = json
        .get("files")
        .and_then(|f| f.as_object())
        .ok_or_else(|| Unusable("no `files` object".into()))?;
    let mut out = BTreeMap::new();
    for (path, info) in files {
        crate::entry::check_relative_path("path", path)
            .map_err(|e| Unusable(format!("`{path}`: {e}")))?;
        let bad = |what: &str| Unusable(format!("`{path}`: {what}"));
        let size = info
            .get("size")
            .and_then(|s| s.as_u64())
            .ok_or_else(|| bad("no size"))?;
        let text = |key: &str| info.get(key).and_then(|v| v.as_str());
        let digest = match (text("lfs_sha256"), text("blob_id")) {
            (Some(sha), _) if is_hex(sha, 64) => format!("sha256:{sha}"),
            (Some(_), _) => return Err(bad("an lfs_sha256 that is not 64 hex")),
            (None, Some(id)) if is_hex(id, 40) => format!("git-sha1:{id}"),
            _ => return Err(bad("no lfs_sha256 and no 40-hex blob_id")),
        };
        let digest = digest.parse::<Digest>().map_err(|e| bad(&e.to_string()))?;
        let size = match info.get("lfs_size").and_then(|s| s.as_u64()) {
            Some(lfs) if text("lfs_sha256").is_some() => lfs,
            _ => size,
        };
        out.insert(path.clone(), Listed { size, digest });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lfs_file_is_named_by_its_sha256_and_a_small_one_by_its_blob_id() {
        let sha = "a".repeat(64);
        let blob = "b".repeat(40);
        let text = format!(
            r#"{{"format_version": 1, "files": {{
                "config.json": {{"size": 41, "blob_id": "{blob}"}},
                "sub/model.safetensors": {{"size": 134, "blob_id": "{blob}",
                    "lfs_sha256": "{sha}", "lfs_size": 300000, "xet_hash": "{sha}"}}}}}}"#
        );
        let listing = parse(text.as_bytes()).unwrap();
        assert_eq!(listing.len(), 2);
        assert_eq!(listing["config.json"].size, 41);
        assert_eq!(
            listing["config.json"].digest.to_string(),
            format!("git-sha1:{blob}")
        );
        let lfs = &listing["sub/model.safetensors"];
        assert_eq!(lfs.size, 300000, "the LFS size, not the pointer's");
        assert_eq!(lfs.digest.to_string(), format!("sha256:{sha}"));
    }

    #[test]
    fn another_version_a_bad_path_or_a_bad_digest_makes_the_listing_unusable() {
        let blob = "b".repeat(40);
        for bad in [
            r#"{"format_version": 2, "files": {}}"#.to_string(),
            r#"{"files": {}}"#.to_string(),
            format!(
                r#"{{"format_version": 1, "files": {{"../x": {{"size": 1, "blob_id": "{blob}"}}}}}}"#
            ),
            r#"{"format_version": 1, "files": {"x": {"size": 1, "blob_id": "xyz"}}}"#.to_string(),
            format!(r#"{{"format_version": 1, "files": {{"x": {{"blob_id": "{blob}"}}}}}}"#),
            "not json".to_string(),
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad} should be refused");
        }
    }
}
