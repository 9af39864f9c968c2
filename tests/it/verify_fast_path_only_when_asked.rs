//! The (size, mtime, inode) fast path is used only when the caller asks;
//! the default re-hashes, and any change to the file disables it.

use catalog_core::{Catalog, ImportOptions, ModelRef, VerifyOptions, VerifyResult};
use std::time::{Duration, SystemTime};

#[test]
fn fast_path_only_when_asked_and_only_for_unchanged_files() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, vec![4u8; 1 << 20]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let source = ModelRef::parse(&format!("file:{}", file.display())).unwrap();
    // With its publisher's digest, so that a verification passes.
    let imported = catalog
        .import(
            &source,
            ImportOptions::default()
                .id("m")
                .expected(catalog_core::Digest::of_bytes(&vec![4u8; 1 << 20])),
        )
        .unwrap();
    let digest = imported.entry.digest.unwrap();
    let pass = catalog
        .verify("m", VerifyOptions::default().expected(digest), &|_| {})
        .unwrap();
    assert_eq!(pass.outcome.result, VerifyResult::Pass);

    let default = catalog
        .verify("m", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert!(!default.fast_path_used, "the default re-hashes");
    assert_eq!(default.outcome.bytes, 1 << 20);

    let fast = catalog
        .verify("m", VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert!(fast.fast_path_used);
    assert_eq!(fast.outcome.bytes, 0);
    assert_eq!(fast.outcome.result, VerifyResult::Pass);

    // A changed modification time disables it.
    let blob = catalog.model_path("m").unwrap();
    std::fs::File::open(&blob)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let changed = catalog
        .verify("m", VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert!(!changed.fast_path_used);
    assert_eq!(changed.outcome.bytes, 1 << 20);
}
