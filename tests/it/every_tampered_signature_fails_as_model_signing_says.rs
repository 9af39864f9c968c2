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

/// Rewrites the store's copy of model `m`'s `config.json` with `bytes`
/// (root can; the test is root or owns the store), its recorded digest
/// left as it was.
fn rewrite_stored_config(root: &std::path::Path, catalog: &catalog_core::Catalog, bytes: &[u8]) {
    let e = catalog.get("m").unwrap();
    let f = e.files.iter().find(|f| f.path == "config.json").unwrap();
    let blob = root.join("blobs/sha256").join(f.digest.hex());
    let mut perm = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&blob, perm).unwrap();
    std::fs::write(&blob, bytes).unwrap();
}

#[test]
fn bytes_changed_after_import_fail_even_when_the_statement_matches() {
    let (root, _src, catalog) = catalog_with("model");
    // The recorded digest still matches the statement.
    rewrite_stored_config(root.path(), &catalog, b"{\"architectures\": [\"Evil\"]}\n");
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

/// The race a reviewer won (a writer puts the signed bytes back while the
/// statement's BLAKE/shard digests are computed, then the recorded bytes
/// while SHA-256 is checked) needs two reads; there is one. Shown without
/// a race: the entry records `model-changed`'s bytes, the disk holds the
/// signed `model`'s. The statement's digests match what is read, but the
/// same read's SHA-256 is not the recorded one, and that read is what
/// fails, naming the file.
#[test]
fn the_statements_digests_and_the_recorded_ones_are_proven_by_one_read() {
    for sig in ["shard.sig", "blake3.sig", "blake2.sig"] {
        let (root, _src, catalog) = catalog_with("model-changed");
        let signed = std::fs::read(fixtures().join("model/config.json")).unwrap();
        rewrite_stored_config(root.path(), &catalog, &signed);
        let bundle = std::fs::read(fixtures().join(sig)).unwrap();
        let r = catalog
            .verify_signature("m", &bundle, &policy("p256"))
            .unwrap();
        assert!(
            matches!(r.failure, Some(Failure::Bytes(ref why))
                if why.contains("config.json") && why.contains("not the ones the catalog recorded")),
            "{sig}: {:?}",
            r.failure
        );
        assert_eq!(r.entry.trust, TrustState::Failed, "{sig}");
    }
}

/// A file in the model that no resource covers is signed by nobody: a
/// `model.sig` that is not the signature checked fails as an extra file
/// (as in model-signing); one the signed statement itself leaves out
/// (`ignore_paths`: model-signing writes its defaults there, `.git*`)
/// passes, but the outcome says it is not signed; the signature itself,
/// kept in the model, is left out.
#[test]
fn a_file_nobody_signed_fails_unless_it_is_the_signature_itself() {
    let bundle = std::fs::read(fixtures().join("p256.sig")).unwrap();
    for (extra, bytes, passes) in [
        (".gitattributes", b"* binary\n".to_vec(), true),
        ("model.sig", b"not the signature".to_vec(), false),
        ("model.sig", bundle.clone(), true),
    ] {
        let root = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let model = src.path().join("model");
        std::fs::create_dir_all(model.join("tokenizer")).unwrap();
        for f in [
            "config.json",
            "model.safetensors",
            "tokenizer/tokenizer.json",
        ] {
            std::fs::copy(fixtures().join("model").join(f), model.join(f)).unwrap();
        }
        std::fs::write(model.join(extra), &bytes).unwrap();
        let catalog = catalog_core::Catalog::open(root.path()).unwrap();
        let r = catalog_core::ModelRef::parse(&format!("file:{}", model.display())).unwrap();
        catalog
            .import(&r, catalog_core::ImportOptions::default().id("m"))
            .unwrap();
        let r = catalog
            .verify_signature("m", &bundle, &policy("p256"))
            .unwrap();
        if passes {
            assert_eq!(r.failure, None, "{extra}: {}", r.outcome.reason);
            assert_eq!(r.entry.trust, TrustState::Verified);
            if extra == "model.sig" {
                assert!(
                    r.outcome
                        .reason
                        .ends_with("all 3 files match the signed digests"),
                    "the signature is not counted among the files it signs: {}",
                    r.outcome.reason
                );
            }
            if extra == ".gitattributes" {
                assert!(
                    r.outcome.reason.contains("3 of 4 files")
                        && r.outcome.reason.contains("not signed")
                        && r.outcome.reason.ends_with(".gitattributes"),
                    "{}",
                    r.outcome.reason
                );
            }
        } else {
            assert_eq!(
                r.failure,
                Some(Failure::Files {
                    missing: vec![],
                    extra: vec![extra.to_string()],
                    changed: vec![],
                }),
                "{extra}"
            );
            assert_eq!(r.entry.trust, TrustState::Failed, "{extra}");
        }
    }
}
