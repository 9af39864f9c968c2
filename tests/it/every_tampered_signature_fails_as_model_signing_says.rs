//! Each tampered variant of the fixtures fails, as `model_signing verify`
//! failed on it when the fixtures were made (tests/fixtures/oms/README.md),
//! with a typed reason naming what is wrong; the entry is left `Failed`
//! with that reason, and the signer is named wherever the key was right.
//! Shard and BLAKE signatures fail here as they fail in model-signing's
//! command line (its Python API verifies them: this build is stricter,
//! docs/FORMAT.md §12).

use crate::a_model_signing_signature_verifies_and_records_who_signed::{
    catalog_with, fixtures, policy,
};
use catalog_core::TrustState;
use catalog_core::signature::{Failure, Signer};

fn verdict(model: &str, sig: &str, key: &str) -> (Failure, catalog_core::SignatureReport) {
    let (_root, _src, catalog) = catalog_with(model);
    let bundle = std::fs::read(fixtures().join(sig)).unwrap();
    let r = catalog
        .verify_signature("m", &bundle, &policy(key))
        .unwrap();
    assert_eq!(r.entry.trust, TrustState::Failed, "{model} {sig} {key}");
    assert_eq!(
        r.entry.last_verification.as_ref().map(|v| v.reason.clone()),
        Some(r.outcome.reason.clone())
    );
    let f = r.failure.clone().expect("a failure");
    assert_eq!(r.outcome.reason, f.to_string());
    (f, r)
}

#[test]
fn a_wrong_key_is_refused_by_its_hint() {
    let (f, r) = verdict("model", "p256.sig", "other-p256");
    assert!(matches!(f, Failure::KeyMismatch { .. }), "{f}");
    assert_eq!(r.signature.signer, Signer::Unknown);
}

#[test]
fn an_edited_payload_fails_the_signature() {
    let (f, _) = verdict("model", "p256-payload-edited.sig", "p256");
    assert_eq!(f, Failure::BadSignature);
}

#[test]
fn a_changed_a_missing_and_an_extra_file_are_each_named() {
    let (f, r) = verdict("model-changed", "p256.sig", "p256");
    assert_eq!(
        f,
        Failure::Files {
            missing: vec![],
            extra: vec![],
            changed: vec!["config.json".into()]
        }
    );
    assert!(matches!(r.signature.signer, Signer::Key { .. }));
    let (f, _) = verdict("model-missing", "p256.sig", "p256");
    assert_eq!(
        f,
        Failure::Files {
            missing: vec!["tokenizer/tokenizer.json".into()],
            extra: vec![],
            changed: vec![]
        }
    );
    let (f, _) = verdict("model-extra", "p256.sig", "p256");
    assert_eq!(
        f,
        Failure::Files {
            missing: vec![],
            extra: vec!["extra.bin".into()],
            changed: vec![]
        }
    );
    assert!(
        f.to_string().contains("extra (not signed): extra.bin"),
        "{f}"
    );
}

#[test]
fn a_certificate_signature_checked_with_a_key_is_of_another_kind() {
    let (f, _) = verdict("model", "cert.sig", "p256");
    assert!(matches!(f, Failure::Material(_)), "{f}");
}

#[test]
fn shard_and_blake_signatures_fail_as_the_command_line_fails_them() {
    for sig in ["shard.sig", "blake3.sig", "blake2.sig"] {
        let (f, r) = verdict("model", sig, "p256");
        assert!(matches!(f, Failure::Unsupported(_)), "{sig}: {f}");
        // The signature itself verified: the signer is known.
        assert!(matches!(r.signature.signer, Signer::Key { .. }), "{sig}");
        assert!(r.signature.root.is_some(), "{sig}");
    }
}

#[test]
fn bytes_changed_after_import_fail_even_when_the_statement_matches() {
    let (root, _src, catalog) = catalog_with("model");
    // Rewrite the stored copy of config.json (root can; the test is root
    // or owns the store): the recorded digest still matches the statement.
    let e = catalog.get("m").unwrap();
    let f = e.files.iter().find(|f| f.path == "config.json").unwrap();
    let blob = root.path().join("blobs/sha256").join(f.digest.hex());
    let mut perm = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&blob, perm).unwrap();
    std::fs::write(&blob, b"{\"architectures\": [\"Evil\"]}\n").unwrap();
    let bundle = std::fs::read(fixtures().join("p256.sig")).unwrap();
    let r = catalog
        .verify_signature("m", &bundle, &policy("p256"))
        .unwrap();
    assert!(
        matches!(r.failure, Some(Failure::Bytes(ref why)) if why.contains("config.json")),
        "{:?}",
        r.failure
    );
    assert_eq!(r.entry.trust, TrustState::Failed);
}
