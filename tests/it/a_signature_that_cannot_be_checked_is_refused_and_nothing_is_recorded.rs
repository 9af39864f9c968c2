//! What is not a verdict about the model is an error, and nothing is
//! written: an unknown id, a bundle over the bound, a read-only handle, a
//! policy that is not a key or a root. Whatever the bundle's bytes are
//! (not JSON, truncated), that is a verdict: a failed verification with the
//! reason, and the entry `Failed`.

use crate::a_model_signing_signature_verifies_and_records_who_signed::{
    catalog_with, fixtures, policy,
};
use catalog_core::signature::{Failure, MAX_BUNDLE_LEN, SignaturePolicy};
use catalog_core::{Catalog, Error, TrustState};

#[test]
fn errors_write_nothing() {
    let (root, _src, catalog) = catalog_with("model");
    let bundle = std::fs::read(fixtures().join("p256.sig")).unwrap();
    let head = catalog.head().seq;
    let unknown = catalog.verify_signature("nope", &bundle, &policy("p256"));
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
    let huge = vec![b' '; MAX_BUNDLE_LEN + 1];
    let over = catalog.verify_signature("m", &huge, &policy("p256"));
    assert!(matches!(over, Err(Error::InvalidInput { .. })), "{over:?}");
    assert_eq!(catalog.head().seq, head, "nothing recorded");
    drop(catalog);
    let reader = Catalog::open_read_only(root.path()).unwrap();
    let ro = reader.verify_signature("m", &bundle, &policy("p256"));
    assert!(matches!(ro, Err(Error::ReadOnly)), "{ro:?}");
    for bad in [
        &b"not a key"[..],
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        let key = SignaturePolicy::key_pem(std::str::from_utf8(bad).unwrap());
        assert!(matches!(key, Err(Error::InvalidInput { .. })), "{key:?}");
        let roots = SignaturePolicy::cert_chain_pem(bad);
        assert!(
            matches!(roots, Err(Error::InvalidInput { .. })),
            "{roots:?}"
        );
    }
}

#[test]
fn bytes_that_are_no_bundle_are_a_failed_verification() {
    let (_root, _src, catalog) = catalog_with("model");
    let good = std::fs::read(fixtures().join("p256.sig")).unwrap();
    for bad in [&b"not json"[..], &good[..good.len() / 2], b"{}"] {
        let r = catalog.verify_signature("m", bad, &policy("p256")).unwrap();
        assert!(
            matches!(r.failure, Some(Failure::Bundle(_))),
            "{:?}",
            r.failure
        );
        assert_eq!(r.entry.trust, TrustState::Failed);
        assert!(
            r.outcome.reason.starts_with("signature bundle malformed"),
            "{}",
            r.outcome.reason
        );
    }
}
