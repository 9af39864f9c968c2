//! A verification's outcome describes the bytes that were hashed: it is not
//! recorded on an entry replaced meanwhile, and the fast path never stands
//! in for a comparison with a different expected digest.

use catalog_core::{
    Catalog, Digest, Error, ImportOptions, ModelRef, TrustState, VerifyOptions, VerifyResult,
};
use std::path::Path;

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

#[test]
fn a_verification_is_not_recorded_on_an_entry_replaced_while_hashing() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let old = src.path().join("old.gguf");
    let new = src.path().join("new.gguf");
    std::fs::write(&old, vec![1u8; 4 << 20]).unwrap();
    std::fs::write(&new, vec![2u8; 4 << 20]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&old), ImportOptions::default().id("m"))
        .unwrap();
    let replaced = std::sync::Once::new();
    // The progress callback runs while the old bytes are being hashed: the
    // model is re-imported from other bytes right then.
    let err = catalog
        .verify("m", VerifyOptions::default(), &|_| {
            replaced.call_once(|| {
                catalog
                    .import(&r(&new), ImportOptions::default().id("m"))
                    .unwrap();
            })
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Changed { ref id } if id == "m"),
        "{err}"
    );
    let e = catalog.get("m").unwrap();
    assert_eq!(e.digest, Some(Digest::of_bytes(&vec![2u8; 4 << 20])));
    assert_eq!(
        e.trust,
        TrustState::Warned,
        "the new bytes are not marked verified by the old hash"
    );
}

#[test]
fn the_fast_path_is_not_taken_for_a_different_expected_digest() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("m.gguf");
    std::fs::write(&f, b"weights").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    // With its publisher's digest, so that a verification passes.
    catalog
        .import(
            &r(&f),
            ImportOptions::default()
                .id("m")
                .expected(Digest::of_bytes(b"weights")),
        )
        .unwrap();
    assert_eq!(
        catalog
            .verify("m", VerifyOptions::default(), &|_| {})
            .unwrap()
            .outcome
            .result,
        VerifyResult::Pass
    );
    let other = Digest::of_bytes(b"something else");
    let v = catalog
        .verify(
            "m",
            VerifyOptions::default().fast_path(true).expected(other),
            &|_| {},
        )
        .unwrap();
    assert!(
        !v.fast_path_used,
        "a new expectation needs a real comparison"
    );
    assert_eq!(v.outcome.result, VerifyResult::Fail);
}
