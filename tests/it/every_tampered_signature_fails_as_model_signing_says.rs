//! Each tampered variant of the fixtures fails, as `model_signing verify`
//! failed on it when the fixtures were made (tests/fixtures/oms/README.md),
//! with a typed reason naming what is wrong; the entry is left `Failed`
//! with that reason, and the signer is named wherever the key was right.
//! Shard and BLAKE signatures over a changed file fail naming it, as
//! model-signing's Python API does (its command line fails every one of
//! them).

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
fn shard_and_blake_signatures_over_a_changed_file_fail_naming_it() {
    for sig in ["shard.sig", "blake3.sig", "blake2.sig"] {
        let (f, r) = verdict("model-changed", sig, "p256");
        let Failure::Files {
            missing,
            extra,
            changed,
        } = &f
        else {
            panic!("{sig}: {f}")
        };
        // model-changed/config.json is 22 bytes, not 39: its one shard has
        // another name (`config.json:0:22` for `config.json:0:39`).
        let named: Vec<&String> = missing.iter().chain(extra).chain(changed).collect();
        assert!(!named.is_empty(), "{sig}");
        assert!(
            named.iter().all(|n| n.starts_with("config.json")),
            "{sig}: {f}"
        );
        assert!(matches!(r.signature.signer, Signer::Key { .. }), "{sig}");
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
