//! A signature made by `model_signing sign certificate` (a leaf issued by
//! an intermediate carried in the bundle, under a root the operator gives)
//! verifies and names the certificate's subject and issuer; an expired
//! leaf verifies too, as in model-signing (the path is validated at the
//! leaf's notBefore); a root the chain does not lead to fails, and so does
//! a key-signed bundle checked against roots.

use crate::a_model_signing_signature_verifies_and_records_who_signed::{catalog_with, fixtures};
use catalog_core::signature::{Failure, SignaturePolicy, Signer};
use catalog_core::{DigestSource, TrustState};

fn roots(name: &str) -> SignaturePolicy {
    SignaturePolicy::cert_chain_pem(&std::fs::read(fixtures().join("certs").join(name)).unwrap())
        .unwrap()
}

fn verify(sig: &str, ca: &str) -> catalog_core::SignatureReport {
    let (_root, _src, catalog) = catalog_with("model");
    let bundle = std::fs::read(fixtures().join(sig)).unwrap();
    catalog.verify_signature("m", &bundle, &roots(ca)).unwrap()
}

#[test]
fn a_leaf_under_the_root_given_verifies_and_is_named() {
    for (sig, who) in [
        ("cert.sig", "CN=signer@cert.example"),
        ("cert-expired.sig", "CN=signer@cert-expired.example"),
    ] {
        let r = verify(sig, "ca.pem");
        assert_eq!(r.failure, None, "{sig}: {}", r.outcome.reason);
        assert_eq!(r.entry.trust, TrustState::Verified, "{sig}");
        assert_eq!(r.entry.digest_source, Some(DigestSource::Signature));
        assert_eq!(
            r.signature.signer,
            Signer::Certificate {
                subject: who.into(),
                issuer: "CN=Test Intermediate CA".into()
            },
            "{sig}"
        );
    }
}

#[test]
fn another_root_or_a_key_signed_bundle_fails() {
    let r = verify("cert.sig", "other-ca.pem");
    assert!(
        matches!(r.failure, Some(Failure::Certificate(_))),
        "{:?}",
        r.failure
    );
    assert_eq!(r.entry.trust, TrustState::Failed);
    let r = verify("p256.sig", "ca.pem");
    assert!(
        matches!(r.failure, Some(Failure::Material(_))),
        "{:?}",
        r.failure
    );
}
