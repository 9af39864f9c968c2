//! A failed signature verification leaves the model `Failed` with the
//! reason, and keeps the last signature that verified (its signer, and its
//! bundle in the store: gc does not remove it); the failed attempt is in
//! the history with its own signer and bundle digest. Re-registering the
//! model drops the signature.

use crate::a_model_signing_signature_verifies_and_records_who_signed::{
    catalog_with, fixtures, policy,
};
use catalog_core::{DigestSource, EntrySpec, GcOptions, Op, TrustState, VerifyResult};
use std::time::Duration;

#[test]
fn a_failed_signature_never_drops_the_proof_of_the_last_good_one() {
    let (root, _src, catalog) = catalog_with("model");
    let good = std::fs::read(fixtures().join("p256.sig")).unwrap();
    let ok = catalog
        .verify_signature("m", &good, &policy("p256"))
        .unwrap();
    assert_eq!(
        ok.entry.trust,
        TrustState::Verified,
        "{}",
        ok.outcome.reason
    );
    let edited = std::fs::read(fixtures().join("p256-payload-edited.sig")).unwrap();
    let bad = catalog
        .verify_signature("m", &edited, &policy("p256"))
        .unwrap();
    assert_eq!(bad.entry.trust, TrustState::Failed);
    assert_eq!(
        bad.entry.signature.as_deref(),
        Some(&ok.signature),
        "the last good signature is kept"
    );
    assert_eq!(bad.entry.digest_source, Some(DigestSource::Signature));

    // gc with no grace: the kept bundle stays, the failed one goes.
    catalog
        .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
        .unwrap();
    let blob = |d: catalog_core::Digest| root.path().join("blobs/sha256").join(d.hex());
    assert!(
        blob(ok.signature.bundle).exists(),
        "the good bundle is kept"
    );
    assert!(
        !blob(bad.signature.bundle).exists(),
        "nothing holds the failed one"
    );

    // The history has both attempts.
    let attempts: Vec<VerifyResult> = catalog
        .history("m")
        .unwrap()
        .iter()
        .filter_map(|ev| match &ev.op {
            Op::VerifySignature { outcome, .. } => Some(outcome.result),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [VerifyResult::Pass, VerifyResult::Fail]);

    let e = catalog.get("m").unwrap();
    let replaced = catalog
        .put(EntrySpec::new("m", e.model_ref.clone(), e.local_path.clone()).files(e.files.clone()))
        .unwrap();
    assert_eq!(replaced.signature, None, "a new registration drops it");
}
