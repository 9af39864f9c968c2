//! The OpenSSF Model Signing statement: an in-toto Statement v1 whose
//! predicate lists every file (or shard) of the model with its digest.
//!
//! ```text
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": ..., "digest": {"sha256": ROOT}}],
//!  "predicateType": "https://model_signing/signature/v1.0",
//!  "predicate": {"serialization": {"method": "files"|"shards",
//!                                  "hash_type": "sha256"|"blake2b"|"blake3",
//!                                  "allow_symlinks": bool, "shard_size"?: n,
//!                                  "ignore_paths"?: [...]},
//!                "resources": [{"name", "algorithm", "digest" (hex)}]}}
//! ```
//! ROOT is the SHA-256 of the resource digests' raw bytes concatenated in
//! the order listed. Key order and white space are the signer's: the
//! payload is verified as given, then read.

use super::failure::Failure;
use crate::digest::Digest;
use serde::Deserialize;
use sha2::Digest as _;
use std::collections::BTreeMap;

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The OMS predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// Longest digest accepted in a resource, in bytes (BLAKE2b's 64).
const MAX_DIGEST_LEN: usize = 64;

/// How the signer cut the model into resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One resource per file.
    Files,
    /// One resource per shard of `shard_size` bytes (`path:start:end`).
    Shards,
}

/// One signed resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// A POSIX path relative to the model (`path:start:end` for a shard).
    pub name: String,
    /// The resource digest's bytes.
    pub digest: Vec<u8>,
}

/// A verified statement's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The subject digest (ROOT), checked against the resources.
    pub root: Digest,
    /// Files or shards.
    pub method: Method,
    /// `sha256`, `blake2b` or `blake3`.
    pub hash_type: String,
    /// Whether the signer followed symlinks.
    pub allow_symlinks: bool,
    /// The paths the signer ignored.
    pub ignore_paths: Vec<String>,
    /// Bytes per shard (`shards` only).
    pub shard_size: Option<u64>,
    /// The resources, in the order signed.
    pub resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: RawPredicate,
}

#[derive(Deserialize)]
struct RawSubject {
    digest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawPredicate {
    serialization: RawSerialization,
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawSerialization {
    method: String,
    hash_type: String,
    #[serde(default)]
    allow_symlinks: bool,
    #[serde(default)]
    ignore_paths: Vec<String>,
    /// model-signing writes it as a float (`2048.0`).
    #[serde(default)]
    shard_size: Option<f64>,
}

#[derive(Deserialize)]
struct RawResource {
    name: String,
    digest: String,
}

fn bad(reason: impl Into<String>) -> Failure {
    Failure::Statement(reason.into())
}

fn hex(field: &str, text: &str) -> Result<Vec<u8>, Failure> {
    // `from_str_radix` alone would take a leading `+` ("+f" is 15).
    if !text.len().is_multiple_of(2)
        || text.len() > 2 * MAX_DIGEST_LEN
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad(format!("{field}: not a hex digest")));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| bad(format!("{field}: not a hex digest")))
        })
        .collect()
}

impl Statement {
    /// Reads a payload whose signature verified. Checks the statement and
    /// predicate types, the one subject, and that ROOT is the SHA-256 of
    /// the resource digests in the order listed.
    pub fn parse(payload: &[u8]) -> Result<Statement, Failure> {
        let raw: RawStatement =
            serde_json::from_slice(payload).map_err(|e| bad(format!("not a statement: {e}")))?;
        if raw.kind != STATEMENT_TYPE || raw.predicate_type != PREDICATE_TYPE {
            return Err(bad(format!(
                "type {} with predicate {}, expected {STATEMENT_TYPE} with {PREDICATE_TYPE}",
                raw.kind.chars().take(100).collect::<String>(),
                raw.predicate_type.chars().take(100).collect::<String>()
            )));
        }
        let [subject] = raw.subject.as_slice() else {
            return Err(bad(format!("{} subjects, expected one", raw.subject.len())));
        };
        let root_hex = subject
            .digest
            .get("sha256")
            .ok_or_else(|| bad("the subject has no sha256 digest"))?;
        let root: [u8; 32] = hex("subject digest", root_hex)?
            .try_into()
            .map_err(|_| bad("the subject digest is not 32 bytes"))?;
        let s = raw.predicate.serialization;
        let method = match s.method.as_str() {
            "files" => Method::Files,
            "shards" => Method::Shards,
            other => return Err(bad(format!("unknown serialization method `{other}`"))),
        };
        let shard_size = match (method, s.shard_size) {
            (Method::Shards, Some(n)) if n >= 1.0 && n.fract() == 0.0 && n <= u64::MAX as f64 => {
                Some(n as u64)
            }
            (Method::Shards, _) => return Err(bad("a shard serialization needs a shard_size")),
            (Method::Files, _) => None,
        };
        let resources = raw
            .predicate
            .resources
            .into_iter()
            .map(|r| {
                Ok(Resource {
                    digest: hex(&r.name, &r.digest)?,
                    name: r.name,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let mut h = sha2::Sha256::new();
        for r in &resources {
            h.update(&r.digest);
        }
        if <[u8; 32]>::from(h.finalize()) != root {
            return Err(Failure::RootMismatch);
        }
        Ok(Statement {
            root: Digest::sha256(root),
            method,
            hash_type: s.hash_type,
            allow_symlinks: s.allow_symlinks,
            ignore_paths: s.ignore_paths,
            shard_size,
            resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(resources: &[(&str, [u8; 32])], root: [u8; 32]) -> Vec<u8> {
        let res: Vec<_> = resources
            .iter()
            .map(|(n, d)| {
                serde_json::json!({"name": n, "algorithm": "sha256",
                    "digest": Digest::sha256(*d).hex()})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": "m", "digest": {"sha256": Digest::sha256(root).hex()}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {"serialization": {"method": "files", "hash_type": "sha256",
                "allow_symlinks": false}, "resources": res}
        }))
        .unwrap()
    }

    #[test]
    fn a_digest_is_hex_digits_only() {
        assert_eq!(hex("d", "0aff").unwrap(), [0x0a, 0xff]);
        for bad in ["+f0a", "0x", "0g", "abc", " a"] {
            assert!(hex("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn root_is_the_sha256_of_the_digests_in_listed_order() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let mut cat = a.to_vec();
        cat.extend_from_slice(&b);
        let root: [u8; 32] = sha2::Sha256::digest(&cat).into();
        let s = Statement::parse(&statement(&[("a", a), ("b", b)], root)).unwrap();
        assert_eq!(s.root, Digest::sha256(root));
        assert_eq!(s.resources.len(), 2);
        // The same digests in the other order give another root.
        let swapped = Statement::parse(&statement(&[("b", b), ("a", a)], root));
        assert_eq!(swapped, Err(Failure::RootMismatch));
    }
}
