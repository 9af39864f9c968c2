//! Import → verify → evict, with measured bytes; a mismatching digest is
//! recorded as a failed verification that survives a reopen.

use catalog_core::{
    Catalog, Digest, Error, ImportOptions, ModelRef, TrustState, VerifyOptions, VerifyResult,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn file_ref(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

fn write_model(dir: &Path, name: &str, len: usize, seed: u8) -> std::path::PathBuf {
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn import_verify_evict_round_trip_with_measured_bytes() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = write_model(src.path(), "llama-q4.gguf", 3 << 20, 7);
    let bytes = std::fs::read(&model).unwrap();
    let digest = Digest::of_bytes(&bytes);

    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .import(
            &file_ref(&model),
            ImportOptions::default().id("llama").expected(digest),
        )
        .unwrap();
    let e = &report.entry;
    assert_eq!(e.local_path, format!("blobs/sha256/{}", digest.hex()));
    assert_eq!(e.digest, Some(digest));
    assert_eq!(e.size_bytes, bytes.len() as u64);
    assert_eq!(
        e.trust,
        TrustState::Verified,
        "the expected digest matched while copying"
    );
    assert_eq!(e.model_ref, file_ref(&model).canonical());
    assert_eq!(
        (report.bytes, report.bytes_stored, report.files),
        (bytes.len() as u64, bytes.len() as u64, 1)
    );
    let blob = catalog.model_path("llama").unwrap();
    assert_eq!(blob, root.path().join(&e.local_path));
    assert_eq!(
        std::fs::read(&blob).unwrap(),
        bytes,
        "the stored bytes are the source's"
    );
    assert!(
        std::fs::metadata(&blob).unwrap().permissions().readonly(),
        "blobs are read-only"
    );
    assert!(model.exists(), "a copy leaves the source alone");

    let v = catalog
        .verify("llama", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.outcome.result, VerifyResult::Pass);
    assert_eq!(v.outcome.bytes, bytes.len() as u64);
    assert_eq!(v.outcome.actual, Some(digest));
    assert!(!v.fast_path_used);

    let dry = catalog.evict("llama", true).unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.bytes_reclaimed, bytes.len() as u64);
    assert!(
        blob.exists() && catalog.exists("llama"),
        "a dry run changes nothing"
    );

    let evicted = catalog.evict("llama", false).unwrap();
    assert_eq!(evicted.bytes_reclaimed, bytes.len() as u64);
    assert_eq!(evicted.files_removed, 1);
    assert!(!blob.exists(), "the blob is gone");
    assert!(!catalog.exists("llama"));
    drop(catalog);
    let reopened = Catalog::open(root.path()).unwrap();
    assert!(!reopened.exists("llama"), "the eviction is durable");
    assert!(matches!(
        reopened.evict("llama", false),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_mismatching_digest_is_a_failed_verification_that_survives_reopen() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = write_model(src.path(), "m.gguf", 1 << 20, 3);
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&file_ref(&model), ImportOptions::default().id("m"))
        .unwrap();
    // Someone damages the stored bytes.
    let blob = catalog.model_path("m").unwrap();
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[4096] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let v = catalog
        .verify("m", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.outcome.result, VerifyResult::Fail);
    assert!(
        v.outcome.reason.contains("mismatch"),
        "{}",
        v.outcome.reason
    );
    assert_eq!(
        v.entry.trust,
        TrustState::Failed,
        "a failure is visible, not 'unverified'"
    );
    // An explicit expected digest that is wrong fails too.
    let other = Digest::of_bytes(b"something else");
    let v2 = catalog
        .verify("m", VerifyOptions::default().expected(other), &|_| {})
        .unwrap();
    assert_eq!(v2.outcome.result, VerifyResult::Fail);
    drop(catalog);
    let reopened = Catalog::open_read_only(root.path()).unwrap();
    let e = reopened.get("m").unwrap();
    assert_eq!(e.trust, TrustState::Failed);
    assert_eq!(e.last_verification.unwrap().result, VerifyResult::Fail);
}

#[test]
fn a_wrong_expected_digest_refuses_the_import_and_stores_nothing() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = write_model(src.path(), "m.gguf", 100_000, 1);
    let catalog = Catalog::open(root.path()).unwrap();
    let wrong = Digest::of_bytes(b"not it");
    let err = catalog
        .import(
            &file_ref(&model),
            ImportOptions::default().id("m").expected(wrong),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, .. } if *expected == wrong),
        "{err}"
    );
    assert!(!catalog.exists("m"));
    assert_eq!(catalog.head().seq, 0, "nothing was written to the journal");
    let blobs = std::fs::read_dir(root.path().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0, "no blob was published");
    assert!(model.exists());
}

#[test]
fn a_missing_stored_file_is_a_failed_verification() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = write_model(src.path(), "m.gguf", 10_000, 2);
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&file_ref(&model), ImportOptions::default().id("m"))
        .unwrap();
    std::fs::remove_file(catalog.model_path("m").unwrap()).unwrap();
    let v = catalog
        .verify("m", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.outcome.result, VerifyResult::Fail);
    assert!(
        v.outcome.reason.contains("cannot read"),
        "{}",
        v.outcome.reason
    );
}

#[test]
fn network_references_are_for_provisioners() {
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let hf = ModelRef::parse("hf:meta-llama/Meta-Llama-3-8B").unwrap();
    let err = catalog.import(&hf, ImportOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "model_ref",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("provisioner"));
}

#[test]
fn delete_removes_the_entry_and_the_files_no_other_model_uses() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let repo = src.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(repo.join("config.json"), b"{}").unwrap();
    std::fs::write(repo.join("sub/weights.bin"), vec![8u8; 70_000]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&file_ref(&repo), ImportOptions::default().id("d"))
        .unwrap();
    let view = catalog.model_path("d").unwrap();
    assert!(view.join("sub/weights.bin").exists());
    assert!(catalog.delete("d").unwrap());
    assert!(!view.exists(), "the view is removed");
    let left = std::fs::read_dir(root.path().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "the blobs are removed");
    assert!(!catalog.delete("d").unwrap());
}
