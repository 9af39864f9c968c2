//! Why a signature did not verify: one typed kind per check, each naming
//! what it found so the operator can act. Its text is the reason recorded
//! in the journal.

use std::fmt;

/// Most file names listed per kind in a reason (the report has them all).
const NAMES_SHOWN: usize = 8;

/// Why a signature verification failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The bundle is not one model-signing writes (malformed JSON, bad
    /// base64, no envelope, ...).
    Bundle(String),
    /// The policy and the bundle are of different kinds (a key given for a
    /// certificate-signed bundle, ...).
    Material(String),
    /// The bundle names another key than the one given (its hint differs).
    KeyMismatch {
        /// The hint in the bundle.
        bundle: String,
        /// The hint of the key given.
        given: String,
    },
    /// The signature does not verify over the payload with the key.
    BadSignature,
    /// The bundle's certificate chain does not lead to a root given, or
    /// its leaf may not sign.
    Certificate(String),
    /// The payload is not an OMS statement (wrong type, malformed, ...).
    Statement(String),
    /// The subject digest is not the SHA-256 of the resource digests.
    RootMismatch,
    /// The statement uses a serialization this build cannot check.
    Unsupported(String),
    /// The model's files are not those signed.
    Files {
        /// Signed, not in the model.
        missing: Vec<String>,
        /// In the model, not signed.
        extra: Vec<String>,
        /// In both, with different digests.
        changed: Vec<String>,
    },
    /// The model's bytes no longer match its recorded digests.
    Bytes(String),
}

fn names(list: &[String]) -> String {
    let mut s = list
        .iter()
        .take(NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > NAMES_SHOWN {
        s.push_str(&format!(" and {} more", list.len() - NAMES_SHOWN));
    }
    s
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Bundle(r) => write!(f, "signature bundle malformed: {r}"),
            Failure::Material(r) => write!(f, "signature of another kind: {r}"),
            Failure::KeyMismatch { bundle, given } => write!(
                f,
                "signed with another key: the bundle names key {bundle}, the key given is {given}"
            ),
            Failure::BadSignature => {
                write!(
                    f,
                    "the signature does not verify over the payload with the key"
                )
            }
            Failure::Certificate(r) => write!(f, "certificate not trusted: {r}"),
            Failure::Statement(r) => write!(f, "signed statement malformed: {r}"),
            Failure::RootMismatch => write!(
                f,
                "signed statement inconsistent: its subject digest is not the SHA-256 of its \
                 resource digests"
            ),
            Failure::Unsupported(r) => write!(f, "signature not checkable by this build: {r}"),
            Failure::Files {
                missing,
                extra,
                changed,
            } => {
                let mut parts = Vec::new();
                if !changed.is_empty() {
                    parts.push(format!("changed: {}", names(changed)));
                }
                if !missing.is_empty() {
                    parts.push(format!("missing: {}", names(missing)));
                }
                if !extra.is_empty() {
                    parts.push(format!("extra (not signed): {}", names(extra)));
                }
                write!(f, "files differ from those signed; {}", parts.join("; "))
            }
            Failure::Bytes(r) => write!(f, "the model's bytes do not match: {r}"),
        }
    }
}
