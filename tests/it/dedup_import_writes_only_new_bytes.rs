//! An import of a model whose files the store already holds (a second
//! directory sharing a weights file) hashes those files where they lie and
//! writes only the new bytes; a file of the same size but other bytes, and
//! a damaged stored blob, are still copied (and the damaged blob replaced).
//! Bytes written are counted by the in-memory file system, every
//! `write_all` of every file (blobs, staging, journal, views).

use crate::support::mem_fs::MemFs;
use catalog_core::fs::Fs;
use catalog_core::{
    Catalog, Digest, ImportOptions, LinkMode, ModelRef, Options, TrustState, VerifyOptions,
    VerifyResult,
};
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = "/mem/root";
const WEIGHTS: usize = 3 << 20;

fn opts(fs: &MemFs) -> Options {
    Options::default().fs(Arc::new(fs.clone()))
}

fn weights(seed: u8) -> Vec<u8> {
    (0..WEIGHTS).map(|i| (i * 31 % 251) as u8 ^ seed).collect()
}

fn write_file(fs: &MemFs, path: &Path, bytes: &[u8]) {
    fs.create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = fs.create(path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_data().unwrap();
}

/// A repository `dir` with `weights` and its own small config.
fn repo(fs: &MemFs, dir: &str, weights: &[u8], config: &str) -> ModelRef {
    write_file(fs, &Path::new(dir).join("model.safetensors"), weights);
    write_file(fs, &Path::new(dir).join("config.json"), config.as_bytes());
    ModelRef::parse(&format!("file:{dir}")).unwrap()
}

fn import(catalog: &Catalog, r: &ModelRef, id: &str) -> catalog_core::ImportReport {
    catalog
        .import(r, ImportOptions::default().id(id))
        .unwrap_or_else(|e| panic!("import of {id}: {e}"))
}

#[test]
fn a_file_the_store_holds_is_read_in_place_and_never_written() {
    let fs = MemFs::new();
    let a = repo(&fs, "/mem/src/a", &weights(0), "{\"n\":1}");
    let b = repo(&fs, "/mem/src/b", &weights(0), "{\"n\":22}");
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();

    let before = fs.written_bytes();
    let first = import(&catalog, &a, "a");
    let first_written = fs.written_bytes() - before;
    assert!(
        first_written >= WEIGHTS as u64,
        "the first import copies the weights ({first_written} bytes written)"
    );
    assert_eq!(first.bytes_stored, first.bytes);

    let before = fs.written_bytes();
    let second = import(&catalog, &b, "b");
    let written = fs.written_bytes() - before;
    assert!(
        written < 64 << 10,
        "a dedup import wrote {written} bytes; only its config and records are new"
    );
    assert_eq!(second.bytes_deduplicated, WEIGHTS as u64);
    assert_eq!(second.bytes_stored, "{\"n\":22}".len() as u64);
    assert_eq!(
        second.files_linked_or_moved, 0,
        "nothing was linked or moved"
    );
    // The source was only read.
    assert_eq!(
        fs.bytes(Path::new("/mem/src/b/model.safetensors")).unwrap(),
        weights(0)
    );
    // Both entries name the one blob and verify against it (`Warn`: the
    // bytes match what was imported; no publisher's digest was given).
    let digest = Digest::of_bytes(&weights(0));
    for id in ["a", "b"] {
        let entry = catalog.get(id).unwrap();
        assert!(entry.files.iter().any(|f| f.digest == digest), "{id}");
        let report = catalog
            .verify(id, VerifyOptions::default(), &|_| {})
            .unwrap();
        assert_eq!(report.outcome.result, VerifyResult::Warn, "{id}");
    }
    assert_eq!(
        second.entry.trust,
        TrustState::Warned,
        "no publisher digest"
    );
}

#[test]
fn a_file_of_a_stored_size_but_other_bytes_is_copied() {
    let fs = MemFs::new();
    let a = repo(&fs, "/mem/src/a", &weights(0), "{\"n\":1}");
    let c = repo(&fs, "/mem/src/c", &weights(7), "{\"n\":1}");
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    import(&catalog, &a, "a");

    let before = fs.written_bytes();
    let report = import(&catalog, &c, "c");
    assert!(fs.written_bytes() - before >= WEIGHTS as u64);
    assert_eq!(
        report.bytes_stored, WEIGHTS as u64,
        "new weights, same config"
    );
    let digest = Digest::of_bytes(&weights(7));
    let blob = Path::new(ROOT).join(format!("blobs/sha256/{}", digest.hex()));
    assert_eq!(fs.bytes(&blob).unwrap(), weights(7));
}

#[test]
fn a_damaged_stored_blob_is_not_trusted_but_replaced_by_a_copy() {
    let fs = MemFs::new();
    let a = repo(&fs, "/mem/src/a", &weights(0), "{\"n\":1}");
    let b = repo(&fs, "/mem/src/b", &weights(0), "{\"n\":22}");
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    import(&catalog, &a, "a");
    let digest = Digest::of_bytes(&weights(0));
    let blob = Path::new(ROOT).join(format!("blobs/sha256/{}", digest.hex()));
    let mut damaged = weights(0);
    damaged[WEIGHTS / 2] ^= 0x40;
    fs.set_bytes(&blob, &damaged);

    let before = fs.written_bytes();
    let report = import(&catalog, &b, "b");
    assert!(fs.written_bytes() - before >= WEIGHTS as u64, "copied");
    assert_eq!(report.bytes_stored, report.bytes, "nothing deduplicated");
    assert_eq!(
        fs.bytes(&blob).unwrap(),
        weights(0),
        "the blob was repaired"
    );
    let report = catalog
        .verify("a", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.outcome.result, VerifyResult::Warn);
}

#[test]
fn hard_link_and_move_imports_are_unchanged_by_in_place_hashing() {
    // Links and moves write no bytes anyway; a dedup of either keeps its
    // semantics (a moved source is held until the entry is durable).
    let fs = MemFs::new();
    let a = repo(&fs, "/mem/src/a", &weights(0), "{\"n\":1}");
    let b = repo(&fs, "/mem/src/b", &weights(0), "{\"n\":22}");
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    import(&catalog, &a, "a");
    let report = catalog
        .import(&b, ImportOptions::default().id("b").link(LinkMode::Move))
        .unwrap();
    assert_eq!(report.bytes_deduplicated, WEIGHTS as u64);
    assert!(
        fs.bytes(Path::new("/mem/src/b/model.safetensors"))
            .is_none(),
        "moved"
    );
    let report = catalog
        .verify("b", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.outcome.result, VerifyResult::Warn);
}
