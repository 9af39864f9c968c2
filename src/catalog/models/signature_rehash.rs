//! Statements the catalog's records cannot answer (shards, BLAKE2b,
//! BLAKE3: model-signing's Python API writes them): the model's files are
//! read once, by handle, and hashed as the statement says, into the
//! resources it should list.

use super::verify::VerifyOptions;
use crate::catalog::Catalog;
use crate::digest::Digest;
use crate::entry::ModelEntry;
use crate::error::Result;
use crate::signature::{Method, Statement, is_ignored};
use std::io::Read;

/// Resource names and their digests' bytes, as a statement lists them.
pub(super) type Resources = Vec<(String, Vec<u8>)>;

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// A running digest of one of the statement's hash types.
enum Hasher {
    Sha256(sha2::Sha256),
    Blake2b(Box<blake2::Blake2b512>),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    fn new(hash_type: &str) -> Option<Hasher> {
        use sha2::Digest as _;
        Some(match hash_type {
            "sha256" => Hasher::Sha256(sha2::Sha256::new()),
            "blake2b" => Hasher::Blake2b(Box::new(blake2::Blake2b512::new())),
            "blake3" => Hasher::Blake3(Box::new(blake3::Hasher::new())),
            _ => return None,
        })
    }

    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest as _;
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Blake2b(h) => h.update(bytes),
            Hasher::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    fn finish(self) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Blake2b(h) => h.finalize().to_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Pieces of one file as the statement hashes them: `(start, end, digest)`.
type Pieces = Vec<(u64, u64, Vec<u8>)>;

/// Hashes everything `r` yields: one digest for the file, or one per
/// `shard` bytes (`(start, end, digest)`; none for an empty file, as
/// model-signing cuts them); and, from the same bytes, the whole file's
/// SHA-256, which is what the catalog records (so the signed digests and
/// the recorded one are proven by one read, never by two reads a writer
/// could come between).
fn hash_stream(
    r: &mut dyn Read,
    hash_type: &str,
    shard: Option<u64>,
) -> std::io::Result<(Pieces, Digest)> {
    use sha2::Digest as _;
    let new = || Hasher::new(hash_type).ok_or_else(|| std::io::Error::other("unknown hash type"));
    let limit = shard.unwrap_or(u64::MAX);
    let (mut out, mut h, mut start, mut pos) = (Vec::new(), new()?, 0u64, 0u64);
    let mut whole = sha2::Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let want = usize::try_from((limit - (pos - start)).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = r.read(&mut buf[..want])?;
        h.update(&buf[..n]);
        whole.update(&buf[..n]);
        pos += n as u64;
        let full = shard.is_some() && pos - start == limit;
        if full || (n == 0 && (shard.is_none() || pos > start)) {
            out.push((start, pos, std::mem::replace(&mut h, new()?).finish()));
            start = pos;
        }
        if n == 0 {
            return Ok((out, Digest::sha256(whole.finalize().into())));
        }
    }
}

impl Catalog {
    /// The resources the statement should list for `entry`'s files, hashed
    /// as it says; the reason as text if a file cannot be read.
    pub(super) fn rehash_resources(
        &self,
        entry: &ModelEntry,
        statement: &Statement,
        extra_ignored: &[String],
    ) -> Result<std::result::Result<Resources, String>> {
        let ignored = crate::signature::compare::ignored(statement, extra_ignored);
        let targets = self.targets(entry, &VerifyOptions::default())?;
        let mut out = Vec::new();
        for t in &targets {
            // A one-file model: the name the statement gives its one file.
            let name = if entry.files.is_empty() {
                statement
                    .resources
                    .first()
                    .map(|r| r.name.rsplitn(3, ':').last().unwrap_or(&r.name).to_string())
                    .unwrap_or_default()
            } else {
                t.rel.clone()
            };
            if is_ignored(&name, &ignored) {
                continue;
            }
            let shard = (statement.method == Method::Shards)
                .then_some(statement.shard_size)
                .flatten();
            let read = self
                .inner
                .opts
                .fs
                .open_foreign(t.at())
                .and_then(|f| hash_stream(&mut f.reader(), &statement.hash_type, shard));
            match read {
                Ok((_, sha256)) if t.expected != Some(sha256) => {
                    return Ok(Err(format!(
                        "{}: the bytes read are not the ones the catalog recorded (changed \
                         since, or while they were read)",
                        t.rel
                    )));
                }
                Ok((pieces, _)) => out.extend(pieces.into_iter().map(|(s, e, d)| match shard {
                    Some(_) => (format!("{name}:{s}:{e}"), d),
                    None => (name.clone(), d),
                })),
                Err(e) => return Ok(Err(format!("cannot read {}: {e}", t.rel))),
            }
        }
        Ok(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_cut_as_model_signing_cuts_them() {
        let bytes = vec![7u8; 5000];
        let (shards, whole) = hash_stream(&mut &bytes[..], "sha256", Some(2048)).unwrap();
        assert_eq!(
            whole,
            Digest::of_bytes(&bytes),
            "the whole file's SHA-256, same read"
        );
        let bounds: Vec<(u64, u64)> = shards.iter().map(|(s, e, _)| (*s, *e)).collect();
        assert_eq!(bounds, [(0, 2048), (2048, 4096), (4096, 5000)]);
        use sha2::Digest as _;
        assert_eq!(shards[2].2, sha2::Sha256::digest(&bytes[4096..]).to_vec());
        assert!(
            hash_stream(&mut &[][..], "sha256", Some(2048))
                .unwrap()
                .0
                .is_empty()
        );
        let (whole, _) = hash_stream(&mut &bytes[..], "blake3", None).unwrap();
        assert_eq!(whole[0].2, blake3::hash(&bytes).as_bytes().to_vec());
        assert_eq!(
            hash_stream(&mut &[][..], "blake2b", None).unwrap().0.len(),
            1
        );
    }
}
