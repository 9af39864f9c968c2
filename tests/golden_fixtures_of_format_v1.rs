//! Matrix row 12: golden fixtures of format version 1, committed under
//! `tests/fixtures/v1/`. Every later build must open them to exactly the
//! same state (digest below) or fail with exactly the same error.
//!
//! The fixtures were written once by `generate_fixtures` (ignored):
//! `CATALOG_WRITE_FIXTURES=1 cargo test --test golden_fixtures_of_format_v1 -- --ignored`.
//! Regenerating them is a format change: never do it to make a test pass.

mod support;

use catalog_core::{
    Catalog, Digest, EntrySpec, Error, Lifecycle, ManifestFile, ModelEntry, OpContext, Options,
    RecoveryMode, Verification, VerifyResult,
};
use std::path::{Path, PathBuf};

const CLEAN: &str = "clean";
const TORN: &str = "torn_tail";
const CORRUPT: &str = "corrupt_sealed_segment";
const COMPACTED: &str = "compacted";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(name)
}

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1024)
}

/// A copy of a fixture in a temp dir (opening may cut a tail or add a lock file).
fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::copy_dir(&fixture(name), dir.path());
    dir
}

/// SHA-256 over every entry in its format-defined encoding (postcard of
/// `ModelEntry`, §4.3 of docs/FORMAT.md), in id order, then the journal
/// head: the "state digest" the fixtures are pinned to.
fn state_digest(catalog: &Catalog) -> String {
    let mut bytes = Vec::new();
    for e in catalog.list() {
        let encoded: Vec<u8> = postcard::to_allocvec::<ModelEntry>(&e).unwrap();
        bytes.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&encoded);
    }
    let head = catalog.head();
    bytes
        .extend_from_slice(format!("head {} {} {}", head.seq, head.chain, head.time_ms).as_bytes());
    Digest::of_bytes(&bytes).hex()
}

const CLEAN_DIGEST: &str = "b9a027f576e44cf98821a7f808c19b4ad5c5a52bb8f073790226a71948dcfb75";
const COMPACTED_DIGEST: &str = "83df47ee849be380cd571a96b528a68bf86383484819870c0af0abd4fd8a1fb9";

#[test]
fn clean_fixture_opens_to_the_pinned_state() {
    let dir = copy(CLEAN);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), CLEAN_DIGEST);
    assert_eq!(catalog.len(), 10);
    let reader = Catalog::open_read_only_with(fixture(CLEAN), opts()).unwrap();
    assert_eq!(state_digest(&reader), CLEAN_DIGEST, "read-only, in place");
}

#[test]
fn torn_tail_fixture_is_cut_to_the_clean_state() {
    let dir = copy(TORN);
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    let torn = catalog
        .recovery_report()
        .torn_tail
        .clone()
        .expect("a torn tail");
    assert_eq!(torn.dropped_bytes, 40);
    assert_eq!(
        state_digest(&catalog),
        CLEAN_DIGEST,
        "the same state as the clean fixture"
    );
    drop(catalog);
    let strict =
        Catalog::open_with(copy(TORN).path(), opts().recovery(RecoveryMode::Strict)).unwrap_err();
    assert!(matches!(strict, Error::Corrupt { .. }), "{strict}");
}

#[test]
fn corrupt_sealed_segment_fixture_fails_with_the_pinned_error() {
    let dir = copy(CORRUPT);
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    let seg = dir.path().join("catalog/journal/00000000000000000001.seg");
    match &err {
        Error::Corrupt {
            file,
            offset,
            seq,
            reason,
        } => {
            assert_eq!(file, &seg);
            assert_eq!((*offset, *seq), (CORRUPT_OFFSET, Some(3)));
            assert_eq!(reason, CORRUPT_REASON);
        }
        other => panic!("expected Corrupt, got {other}"),
    }
}

const CORRUPT_OFFSET: u64 = 534;
const CORRUPT_REASON: &str = "CRC mismatch in a sealed segment";

#[test]
fn compacted_fixture_opens_from_its_snapshot_to_the_pinned_state() {
    let dir = copy(COMPACTED);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), COMPACTED_DIGEST);
    assert_eq!(catalog.recovery_report().snapshot_seq, Some(14));
    assert_eq!(catalog.recovery_report().records_replayed, 3);
    let history = catalog.history("m1").unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        ["put", "set_state", "verify"],
        "history from before the snapshot"
    );
}

/// Writes the fixtures (run on purpose only; see the module docs).
#[test]
#[ignore = "writes the golden fixtures; run only to create a new format version's fixtures"]
fn generate_fixtures() {
    if std::env::var("CATALOG_WRITE_FIXTURES").as_deref() != Ok("1") {
        return;
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let _ = std::fs::remove_dir_all(&base);
    let clean = base.join(CLEAN);
    write_clean(&clean);
    // torn tail: the first 40 bytes of a record appended to the newest segment.
    let torn = base.join(TORN);
    support::copy_dir(&clean, &torn);
    let newest = newest_segment(&torn);
    let mut bytes = std::fs::read(&newest).unwrap();
    let record: Vec<u8> = std::fs::read(&newest).unwrap()[84..124].to_vec();
    bytes.extend_from_slice(&record);
    std::fs::write(&newest, bytes).unwrap();
    // corrupt sealed segment: one bit of record 3's payload.
    let corrupt = base.join(CORRUPT);
    support::copy_dir(&clean, &corrupt);
    let seg1 = corrupt.join("catalog/journal/00000000000000000001.seg");
    let mut bytes = std::fs::read(&seg1).unwrap();
    let third = third_record_offset(&bytes);
    bytes[third + 70] ^= 0x08;
    std::fs::write(&seg1, bytes).unwrap();
    // compacted: snapshot at 14, then 3 more records.
    let compacted = base.join(COMPACTED);
    support::copy_dir(&clean, &compacted);
    let catalog = Catalog::open_with(&compacted, opts()).unwrap();
    catalog.compact().unwrap();
    for i in 20..23 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    drop(catalog);
    for dir in [&clean, &torn, &corrupt, &compacted] {
        let _ = std::fs::remove_file(dir.join("catalog/LOCK"));
    }
}

fn write_clean(root: &Path) {
    let catalog = Catalog::open_with(root, opts()).unwrap();
    let ctx = OpContext::new()
        .correlation_id("fixture")
        .actor("generator");
    for i in 0..10u64 {
        let digest = Digest::of_bytes(format!("w{i}").as_bytes());
        let mut spec = EntrySpec::new(
            format!("m{i}"),
            format!("hf:org/repo-{i}/m.gguf"),
            format!("blobs/sha256/{}", digest.hex()),
        )
        .digest(digest)
        .size_bytes(1000 + i);
        if i == 4 {
            spec = spec.files(vec![ManifestFile {
                path: "config.json".into(),
                digest,
                size_bytes: 2,
            }]);
        }
        catalog.with_context(ctx.clone()).put(spec).unwrap();
    }
    catalog.set_state("m1", Lifecycle::Retired).unwrap();
    let mut v = Verification::new(VerifyResult::Fail, "digest mismatch");
    v.bytes = 1001;
    catalog.record_verification("m1", v).unwrap();
    catalog
        .put(EntrySpec::new("gone", "hf:org/repo", "blobs/x"))
        .unwrap();
    assert!(catalog.delete("gone").unwrap());
    assert_eq!(catalog.head().seq, 14);
}

fn newest_segment(root: &Path) -> PathBuf {
    let dir = root.join("catalog/journal");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.pop().unwrap()
}

fn third_record_offset(segment: &[u8]) -> usize {
    let mut pos = 84;
    for _ in 0..2 {
        let len = u32::from_le_bytes(segment[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 64 + len;
    }
    pos
}
