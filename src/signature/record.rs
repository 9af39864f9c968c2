//! What the journal keeps of a signature verification (format 4): who
//! signed, which statement root, and the digest of the bundle, which the
//! store keeps (`blobs/sha256/<hex>`) so that any later reader can verify
//! it again offline. Always compiled: a build without the `signature`
//! feature still reads and shows what was recorded.

use crate::digest::Digest;
use crate::error::Result;
use crate::text_check::check_text;
use serde::{Deserialize, Serialize};

/// Longest signer field kept (a certificate subject, an identity), in bytes.
pub const MAX_SIGNER_LEN: usize = 1024;

/// Who signed, as far as the verification established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Signer {
    /// A bare elliptic-curve key: its hint (lowercase hex SHA-256 of the
    /// public key's PEM text, as model-signing computes it).
    Key {
        /// The key hint.
        hint: String,
    },
    /// The leaf of an X.509 certificate chain.
    Certificate {
        /// The leaf's subject (RFC 4514 string).
        subject: String,
        /// The leaf's issuer (RFC 4514 string).
        issuer: String,
    },
    /// A keyless Sigstore signature: a Fulcio certificate's identity, the
    /// OIDC issuer that vouched for it, and the Rekor log index.
    Sigstore {
        /// The certificate's identity (an e-mail or a URI).
        identity: String,
        /// The OIDC issuer.
        oidc_issuer: String,
        /// Index of the entry in the transparency log.
        log_index: u64,
    },
    /// Nobody could be named: the bundle did not get that far.
    Unknown,
}

impl Signer {
    /// One line for people: `key d577ca64…`, `CN=a (issued by CN=b)`,
    /// `someone@example.com via https://accounts.google.com (Rekor #12)`.
    pub fn describe(&self) -> String {
        match self {
            Signer::Key { hint } => format!("key {}", hint.get(..16).unwrap_or(hint)),
            Signer::Certificate { subject, issuer } => format!("{subject} (issued by {issuer})"),
            Signer::Sigstore {
                identity,
                oidc_issuer,
                log_index,
            } => format!("{identity} via {oidc_issuer} (Rekor #{log_index})"),
            Signer::Unknown => "an unknown signer".into(),
        }
    }

    #[cfg_attr(not(feature = "signature"), allow(dead_code))]
    fn validate(&self) -> Result<()> {
        match self {
            Signer::Key { hint } => check_text("signature.signer", hint, MAX_SIGNER_LEN),
            Signer::Certificate { subject, issuer } => {
                check_text("signature.signer", subject, MAX_SIGNER_LEN)?;
                check_text("signature.signer", issuer, MAX_SIGNER_LEN)
            }
            Signer::Sigstore {
                identity,
                oidc_issuer,
                ..
            } => {
                check_text("signature.signer", identity, MAX_SIGNER_LEN)?;
                check_text("signature.signer", oidc_issuer, MAX_SIGNER_LEN)
            }
            Signer::Unknown => Ok(()),
        }
    }
}

/// A signature verification as the journal records it (`Op::VerifySignature`)
/// and the entry keeps it (`ModelEntry::signature`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    /// Who signed (`Unknown` if the bundle did not get that far).
    pub signer: Signer,
    /// SHA-256 of the bundle's bytes; the store keeps them under it.
    pub bundle: Digest,
    /// The statement's subject digest (ROOT), if the statement was read.
    pub root: Option<Digest>,
}

impl SignatureRecord {
    #[cfg_attr(not(feature = "signature"), allow(dead_code))]
    pub(crate) fn validate(&self) -> Result<()> {
        self.signer.validate()
    }
}
