//! Matrix row 12: golden fixtures of format version 2, committed under
//! `tests/fixtures/v2/`. Every later build must open them to exactly the
//! same state (digest below) or fail with exactly the same error.
//!
//! Format 2 adds `Checkpoint` records binding every snapshot and `Pruned`
//! records before retention deletes segments. The fixtures were written
//! once by `generate_fixtures` (ignored):
//! `CATALOG_WRITE_FIXTURES=2 cargo test --test golden_fixtures_of_format_v2 -- --ignored`.
//! Regenerating them is a format change: never do it to make a test pass.

use crate::support::golden::{
    newest_segment, opts, state_digest, third_record_offset, versions, write_clean,
};
use catalog_core::{Catalog, EntrySpec, Lifecycle, ProblemKind, RecoveryMode};
use std::path::Path;

const CLEAN: &str = "clean";
const TORN: &str = "torn_tail";
const CORRUPT: &str = "corrupt_sealed_segment";
const COMPACTED: &str = "compacted";
const PRUNED: &str = "pruned";

fn fixture(name: &str) -> std::path::PathBuf {
    crate::support::golden::fixture("v2", name)
}

fn copy(name: &str) -> tempfile::TempDir {
    crate::support::golden::copy("v2", name)
}

const CLEAN_DIGEST: &str = "dbc28062891b907719d6863c0c8740f0b075a673b2dd9e18328a01fa49336fc2";
const COMPACTED_DIGEST: &str = "c6f3543e300436fcbc6f9fafe04a46b4b05fb8a898dee047842f81aaebae8fcb";
const PRUNED_DIGEST: &str = "4a60be6d78687716a2510e50ebd330087ead3846c35984b9966231faeea724ff";
const CORRUPT_OFFSET: u64 = 534;

#[test]
fn clean_fixture_opens_to_the_pinned_state() {
    assert!(versions(&fixture(CLEAN)).iter().all(|&v| v == 2));
    let dir = copy(CLEAN);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), CLEAN_DIGEST);
    assert_eq!(catalog.len(), 10);
    let reader = Catalog::open_read_only_with(fixture(CLEAN), opts()).unwrap();
    assert_eq!(state_digest(&reader), CLEAN_DIGEST, "read-only, in place");
}

#[test]
fn torn_tail_fixture_is_cut_to_the_clean_state() {
    crate::support::golden::assert_torn_tail_is_cut_to("v2", CLEAN_DIGEST);
}

#[test]
fn corrupt_sealed_segment_fixture_fails_with_the_pinned_error() {
    crate::support::golden::assert_corrupt_sealed_segment_at("v2", CORRUPT_OFFSET);
}

#[test]
fn compacted_fixture_opens_from_its_bound_snapshot_to_the_pinned_state() {
    let dir = copy(COMPACTED);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), COMPACTED_DIGEST);
    assert_eq!(catalog.recovery_report().snapshot_seq, Some(14));
    assert_eq!(
        catalog.recovery_report().records_replayed,
        4,
        "the checkpoint of the snapshot, then three puts"
    );
    let kinds: Vec<&str> = catalog
        .history("m1")
        .unwrap()
        .iter()
        .map(|e| e.kind())
        .collect();
    assert_eq!(kinds, ["put", "set_state", "verify"]);
    let check = Catalog::check(dir.path(), opts(), false).unwrap();
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
}

#[test]
fn pruned_fixture_opens_and_its_pruning_is_recorded() {
    let dir = copy(PRUNED);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), PRUNED_DIGEST);
    assert_eq!(catalog.get("m1").unwrap().lifecycle, Lifecycle::Retired);
    drop(catalog);
    let check = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(check.first_seq > 1, "segments were pruned");
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
    assert!(
        check.notes.iter().any(|n| n.contains("was pruned")),
        "{:?}",
        check.notes
    );
}

/// Writes the fixtures (run on purpose only; see the module docs).
#[test]
#[ignore = "writes the golden fixtures; run only to create a new format version's fixtures"]
fn generate_fixtures() {
    if std::env::var("CATALOG_WRITE_FIXTURES").as_deref() != Ok("2") {
        return;
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v2");
    let _ = std::fs::remove_dir_all(&base);
    let clean = base.join(CLEAN);
    write_clean(&clean);
    // torn tail: the first 40 bytes of a record appended after the newest
    // segment's last record (over its preallocated zeros).
    let torn = base.join(TORN);
    crate::support::copy_dir(&clean, &torn);
    let newest = newest_segment(&torn);
    let record: Vec<u8> = std::fs::read(&newest).unwrap()[84..124].to_vec();
    crate::support::write_at_end(&newest, &record);
    // corrupt sealed segment: one bit of record 3's payload.
    let corrupt = base.join(CORRUPT);
    crate::support::copy_dir(&clean, &corrupt);
    let seg1 = corrupt.join("catalog/journal/00000000000000000001.seg");
    let mut bytes = std::fs::read(&seg1).unwrap();
    let third = third_record_offset(&bytes);
    bytes[third + 70] ^= 0x08;
    std::fs::write(&seg1, bytes).unwrap();
    // compacted: snapshot at 14 bound by checkpoint 15, then 3 more puts.
    let compacted = base.join(COMPACTED);
    crate::support::copy_dir(&clean, &compacted);
    let catalog = Catalog::open_with(&compacted, opts()).unwrap();
    catalog.compact().unwrap();
    for i in 20..23 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    drop(catalog);
    // pruned: history retention off, two compactions that delete segments.
    let pruned = base.join(PRUNED);
    crate::support::copy_dir(&clean, &pruned);
    let catalog = Catalog::open_with(&pruned, opts().retain_history(false)).unwrap();
    let first = catalog.compact().unwrap();
    for i in 30..40 {
        catalog
            .put(EntrySpec::new(format!("p{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    let second = catalog.compact().unwrap();
    assert!(!first.removed_segments.is_empty() || !second.removed_segments.is_empty());
    drop(catalog);
    for dir in [&clean, &torn, &corrupt, &compacted, &pruned] {
        let _ = std::fs::remove_file(dir.join("catalog/LOCK"));
        // The preallocated zeros would make the fixtures 1 MiB each.
        let newest = newest_segment(dir);
        let mut bytes = std::fs::read(&newest).unwrap();
        let end = crate::support::logical_end(&bytes)
            .max(bytes.iter().rposition(|&b| b != 0).map_or(84, |i| i + 1));
        bytes.truncate(end);
        std::fs::write(&newest, bytes).unwrap();
    }
}
