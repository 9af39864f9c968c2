//! A public key given by the operator (`--key pub.pem`): EC P-256, P-384
//! or P-521 in SubjectPublicKeyInfo PEM, as model-signing accepts. Each
//! curve verifies with the hash model-signing signs with for it (SHA-256,
//! SHA-384, SHA-512). The cryptography is RustCrypto's.

use super::failure::Failure;
use crate::error::{Error, Result};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::Digest as _;

/// A verifying key on one of the curves model-signing signs with.
#[derive(Clone)]
pub enum PublicKey {
    /// NIST P-256 (SHA-256).
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384 (SHA-384).
    P384(p384::ecdsa::VerifyingKey),
    /// NIST P-521 (SHA-512).
    P521(p521::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let curve = match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
            PublicKey::P521(_) => "P-521",
        };
        write!(f, "PublicKey({curve}, hint {})", self.hint())
    }
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of a supported
    /// curve; anything else is [`Error::InvalidInput`] on `field`.
    pub fn from_pem(field: &'static str, pem: &str) -> Result<PublicKey> {
        if let Ok(k) = p256::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k.into()));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k.into()));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_pem(pem) {
            let key = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                .map_err(|e| Error::invalid(field, format!("not a usable P-521 key: {e}")))?;
            return Ok(PublicKey::P521(key));
        }
        Err(Error::invalid(
            field,
            "not a PEM public key on P-256, P-384 or P-521 (the curves model-signing signs with)",
        ))
    }

    /// Reads a DER SubjectPublicKeyInfo (a certificate's key) of a
    /// supported curve.
    pub fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Some(PublicKey::P256(k.into()));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Some(PublicKey::P384(k.into()));
        }
        let k = p521::PublicKey::from_public_key_der(der).ok()?;
        p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
            .ok()
            .map(PublicKey::P521)
    }

    /// The key's hint as model-signing writes it into a bundle: the
    /// lowercase hex SHA-256 of its PEM text (SubjectPublicKeyInfo, 64
    /// columns, `\n` line ends).
    pub fn hint(&self) -> String {
        let pem = match self {
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P521(k) => p521::PublicKey::from_affine(*k.as_affine()).map_or_else(
                |_| Ok(String::new()),
                |p| p.to_public_key_pem(LineEnding::LF),
            ),
        };
        let digest = sha2::Sha256::digest(pem.unwrap_or_default().as_bytes());
        crate::digest::Digest::sha256(digest.into()).hex()
    }

    /// Verifies a DER-encoded ECDSA signature over `message`.
    pub fn verify(&self, message: &[u8], der: &[u8]) -> std::result::Result<(), Failure> {
        use p256::ecdsa::signature::Verifier as _;
        let ok =
            match self {
                PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der)
                    .is_ok_and(|s| k.verify(message, &s).is_ok()),
                PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der)
                    .is_ok_and(|s| k.verify(message, &s).is_ok()),
                PublicKey::P521(k) => p521::ecdsa::Signature::from_der(der)
                    .is_ok_and(|s| k.verify(message, &s).is_ok()),
            };
        if ok {
            Ok(())
        } else {
            Err(Failure::BadSignature)
        }
    }
}
