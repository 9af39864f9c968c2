//! Trust provenance (format 3): every entry records where the digest it is
//! checked against came from. `Verified` means the bytes match a digest
//! their publisher gave; a digest computed when the model was imported can
//! only show that the bytes did not change since, which is `Warned` — on
//! import, on every re-verification, and on the fast path.

use catalog_core::{
    Catalog, Digest, DigestSource, EntrySpec, ImportOptions, ModelRef, TrustState, VerifyOptions,
};

fn source(dir: &std::path::Path, name: &str, bytes: &[u8]) -> ModelRef {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

#[test]
fn a_digest_computed_at_import_never_makes_a_model_verified() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let weights = b"GGUF imported without a digest".to_vec();
    let r = source(src.path(), "a.gguf", &weights);
    let imported = catalog
        .import(&r, ImportOptions::default().id("a"))
        .unwrap();
    assert_eq!(imported.entry.digest_source, Some(DigestSource::Import));
    assert_eq!(imported.entry.trust, TrustState::Warned);

    let again = catalog
        .verify("a", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        again.entry.trust,
        TrustState::Warned,
        "bytes unchanged since import, not verified: {}",
        again.outcome.reason
    );
    assert!(
        again.outcome.reason.contains("unchanged since import"),
        "{}",
        again.outcome.reason
    );
    assert_eq!(again.outcome.actual, Some(Digest::of_bytes(&weights)));
    let fast = catalog
        .verify("a", VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert!(fast.fast_path_used);
    assert_eq!(fast.entry.trust, TrustState::Warned, "the fast path too");

    // The publisher's digest, given now, is what verifies it.
    let publisher = catalog
        .verify(
            "a",
            VerifyOptions::default().expected(Digest::of_bytes(&weights)),
            &|_| {},
        )
        .unwrap();
    assert_eq!(publisher.entry.trust, TrustState::Verified);
    drop(catalog);
    let reopened = Catalog::open(root.path()).unwrap();
    assert_eq!(
        reopened.get("a").unwrap().digest_source,
        Some(DigestSource::Import),
        "the source is recorded in the journal"
    );
}

#[test]
fn a_publisher_digest_given_at_import_makes_every_re_verification_verified() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let weights = b"GGUF with a published digest".to_vec();
    let r = source(src.path(), "b.gguf", &weights);
    let imported = catalog
        .import(
            &r,
            ImportOptions::default()
                .id("b")
                .expected(Digest::of_bytes(&weights)),
        )
        .unwrap();
    assert_eq!(imported.entry.digest_source, Some(DigestSource::Publisher));
    assert_eq!(imported.entry.trust, TrustState::Verified);
    let again = catalog
        .verify("b", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(again.entry.trust, TrustState::Verified);
    let fast = catalog
        .verify("b", VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert!(fast.fast_path_used);
    assert_eq!(fast.entry.trust, TrustState::Verified);
}

#[test]
fn a_digest_whose_source_was_not_recorded_is_not_taken_for_the_publishers() {
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let weights = b"bytes registered through put".to_vec();
    let digest = Digest::of_bytes(&weights);
    // Written as a format-2 entry would be read: a digest, no source.
    let mut spec = EntrySpec::new("c", "hf:org/c", format!("blobs/sha256/{}", digest.hex()))
        .size_bytes(weights.len() as u64);
    spec.digest = Some(digest);
    std::fs::create_dir_all(root.path().join("blobs/sha256")).unwrap();
    std::fs::write(
        root.path().join(format!("blobs/sha256/{}", digest.hex())),
        &weights,
    )
    .unwrap();
    catalog.put(spec).unwrap();
    let v = catalog
        .verify("c", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Warned, "{}", v.outcome.reason);
    assert!(
        v.outcome.reason.contains("not recorded"),
        "{}",
        v.outcome.reason
    );
    // `EntrySpec::digest` is the caller vouching for it: the publisher's.
    let spec = EntrySpec::new("d", "hf:org/d", format!("blobs/sha256/{}", digest.hex()))
        .digest(digest)
        .size_bytes(weights.len() as u64);
    assert_eq!(spec.digest_source, Some(DigestSource::Publisher));
    catalog.put(spec).unwrap();
    let v = catalog
        .verify("d", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Verified);
}

#[test]
fn a_directory_model_is_verified_only_if_its_files_digests_are_the_publishers() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = src.path().join("m");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("config.json"), b"{}").unwrap();
    std::fs::write(model.join("model.safetensors"), b"tensors").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let r = ModelRef::parse(&format!("file:{}", model.display())).unwrap();
    let imported = catalog
        .import(&r, ImportOptions::default().id("m"))
        .unwrap();
    assert_eq!(imported.entry.trust, TrustState::Warned);
    let v = catalog
        .verify("m", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Warned, "{}", v.outcome.reason);
    assert!(
        v.outcome
            .reason
            .starts_with("all 2 files match the manifest")
    );
    let manifest = imported.entry.digest.unwrap();
    let v = catalog
        .verify("m", VerifyOptions::default().expected(manifest), &|_| {})
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Verified, "{}", v.outcome.reason);
}
