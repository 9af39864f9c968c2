//! OpenSSF Model Signing (OMS) signatures, verified offline.
//!
//! A signature (`model.sig`, a Sigstore bundle) proves **who signed a list
//! of file digests**: the key, certificate or Sigstore identity that made
//! it. Checked against a model's recorded per-file SHA-256 digests (and
//! those against the bytes), it proves the model's files are the ones that
//! signer listed — not that the signer is honest, nor that the model is
//! safe (docs/FORMAT.md §12).
//!
//! The steps ([`check`] then [`compare`]): parse the bundle; check that the
//! policy's key is the one the bundle names, and verify the ECDSA
//! signature over the DSSE pre-authentication encoding of the payload as
//! given; read the statement and check that its subject digest (ROOT) is
//! the SHA-256 of the resource digests in the order listed; then compare
//! the resources with the model's files. Only the statement is parsed
//! here: the cryptography is RustCrypto's (`p256`, `p384`, `p521`).

#[cfg(feature = "signature")]
mod bundle;
#[cfg(feature = "signature")]
mod chain;
#[cfg(feature = "signature")]
pub(crate) mod compare;
#[cfg(feature = "signature")]
mod failure;
#[cfg(feature = "signature")]
mod key;
#[cfg(feature = "signature")]
mod policy;
mod record;
#[cfg(feature = "signature")]
mod statement;

#[cfg(feature = "signature")]
pub use bundle::{Bundle, MAX_BUNDLE_LEN, Material};
#[cfg(feature = "signature")]
pub use chain::Roots;
#[cfg(feature = "signature")]
pub use compare::{
    IGNORED_BY_DEFAULT, compare, compare_resources, is_ignored, is_plain, uncovered,
};
#[cfg(feature = "signature")]
pub use failure::Failure;
#[cfg(feature = "signature")]
pub use key::PublicKey;
#[cfg(feature = "signature")]
pub use policy::SignaturePolicy;
#[cfg(feature = "signature")]
use policy::Trust;
pub use record::{MAX_SIGNER_LEN, SignatureRecord, Signer};
#[cfg(feature = "signature")]
pub use statement::{Method, Resource, Statement};

/// The name model-signing gives a signature by default; never part of the
/// model (like `.git`).
pub const DEFAULT_SIGNATURE_NAME: &str = "model.sig";

/// What [`check`] established: who signed (as far as it got), and the
/// verified statement or why not.
#[cfg(feature = "signature")]
#[derive(Clone, Debug)]
pub struct Checked {
    /// The signer, `Unknown` if the bundle did not name one the policy
    /// could check.
    pub signer: Signer,
    /// The statement, if the signature verified and the statement holds.
    pub statement: Result<Statement, Failure>,
}

/// Parses `bundle`, checks its signature against `policy`, and reads the
/// statement it signs. Never panics, whatever the bytes.
#[cfg(feature = "signature")]
pub fn check(bundle: &[u8], policy: &SignaturePolicy) -> Checked {
    let parsed = match Bundle::parse(bundle) {
        Ok(b) => b,
        Err(f) => {
            return Checked {
                signer: Signer::Unknown,
                statement: Err(f),
            };
        }
    };
    let (signer, signed) = match &policy.trust {
        Trust::Key(key) => check_key(&parsed, key),
        Trust::CertChain(roots) => check_certificate(&parsed, roots),
    };
    let statement = signed.and_then(|()| {
        if parsed.payload_type != bundle::IN_TOTO_PAYLOAD_TYPE {
            return Err(Failure::Statement(format!(
                "payload type `{}`, expected {}",
                parsed.payload_type.chars().take(100).collect::<String>(),
                bundle::IN_TOTO_PAYLOAD_TYPE
            )));
        }
        Statement::parse(&parsed.payload)
    });
    Checked { signer, statement }
}

#[cfg(feature = "signature")]
fn check_key(b: &Bundle, key: &PublicKey) -> (Signer, Result<(), Failure>) {
    let given = key.hint();
    let Material::Key { hint } = &b.material else {
        return (
            Signer::Unknown,
            Err(Failure::Material(
                "a key was given, and the bundle was signed with a certificate".into(),
            )),
        );
    };
    // Bundles of model-signing before 1.0 carry no hint: the signature
    // alone decides, as model-signing does.
    if !hint.is_empty() && *hint != given {
        return (
            Signer::Unknown,
            Err(Failure::KeyMismatch {
                bundle: hint.chars().take(64).collect(),
                given,
            }),
        );
    }
    let signer = Signer::Key { hint: given };
    (signer, key.verify(&b.pae(), &b.signature))
}

#[cfg(feature = "signature")]
fn check_certificate(b: &Bundle, roots: &Roots) -> (Signer, Result<(), Failure>) {
    let Material::Chain(chain) = &b.material else {
        return (
            Signer::Unknown,
            Err(Failure::Material(
                "a certificate chain was given, and the bundle was not signed with a certificate"
                    .into(),
            )),
        );
    };
    match chain::check_chain(chain, roots) {
        Ok((signer, key)) => (signer, key.verify(&b.pae(), &b.signature)),
        Err(f) => (Signer::Unknown, Err(f)),
    }
}

#[cfg(all(test, feature = "signature"))]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oms");
        std::fs::read(p.join(name)).unwrap()
    }

    fn policy(key: &str) -> SignaturePolicy {
        let pem = String::from_utf8(fixture(&format!("keys/{key}.pub.pem"))).unwrap();
        SignaturePolicy::key_pem(&pem).unwrap()
    }

    #[test]
    fn signatures_of_model_signing_verify_with_their_key_only() {
        for (sig, key) in [("p256.sig", "p256"), ("p384.sig", "p384")] {
            let c = check(&fixture(sig), &policy(key));
            let s = c.statement.expect(sig);
            assert_eq!(s.resources.len(), 3, "{sig}");
            assert!(matches!(c.signer, Signer::Key { ref hint } if hint.len() == 64));
        }
        let wrong = check(&fixture("p256.sig"), &policy("other-p256"));
        assert!(matches!(wrong.statement, Err(Failure::KeyMismatch { .. })));
        let edited = check(&fixture("p256-payload-edited.sig"), &policy("p256"));
        assert_eq!(edited.statement.err(), Some(Failure::BadSignature));
    }
}
