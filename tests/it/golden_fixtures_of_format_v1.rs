//! Matrix row 12: golden fixtures of format version 1, committed under
//! `tests/fixtures/v1/`. Every later build must open them to exactly the
//! same state (digest below) or fail with exactly the same error.
//!
//! The fixtures were written once, by release 0.1.0: `clean` is the workload
//! in `crate::support::golden::write_clean`; `torn_tail` adds the first 40 bytes of
//! a record to its newest segment; `corrupt_sealed_segment` flips bit 3 of
//! byte 70 of record 3; `compacted` is `clean` compacted (snapshot at 14)
//! plus three puts. This build writes format 2 and cannot regenerate them;
//! they must never change. A writer opening them seals the format-1 newest
//! segment and continues in a format-2 one.

use crate::support::golden::{newest_segment, opts, state_digest};
use catalog_core::{Catalog, EntrySpec, RecoveryMode};
use std::path::Path;

const CLEAN: &str = "clean";
const COMPACTED: &str = "compacted";

fn fixture(name: &str) -> std::path::PathBuf {
    crate::support::golden::fixture("v1", name)
}

fn copy(name: &str) -> tempfile::TempDir {
    crate::support::golden::copy("v1", name)
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
    crate::support::golden::assert_torn_tail_is_cut_to("v1", CLEAN_DIGEST);
}

#[test]
fn corrupt_sealed_segment_fixture_fails_with_the_pinned_error() {
    crate::support::golden::assert_corrupt_sealed_segment_at("v1", CORRUPT_OFFSET);
}

const CORRUPT_OFFSET: u64 = 534;

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

#[test]
fn a_format_1_catalog_takes_new_writes_in_segments_of_the_current_format() {
    let dir = copy(CLEAN);
    let sealed = std::fs::read(newest_segment(dir.path())).unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(
        state_digest(&catalog),
        CLEAN_DIGEST,
        "opening changes nothing"
    );
    catalog
        .put(EntrySpec::new("new", "hf:org/new", "blobs/new"))
        .unwrap();
    catalog.compact().unwrap();
    let expected = as_map(&catalog);
    drop(catalog);
    let segments: Vec<_> = std::fs::read_dir(dir.path().join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let version =
        |p: &Path| u32::from_le_bytes(std::fs::read(p).unwrap()[8..12].try_into().unwrap());
    let mut versions: Vec<(String, u32)> = segments
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                version(p),
            )
        })
        .collect();
    versions.sort();
    assert_eq!(
        versions.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        {
            let current = catalog_core::journal::segment::FORMAT_VERSION;
            [1, 1, 1, current, current]
        },
        "the format-1 segments stay as they were; new records go to segments of the current \
         format (3): {versions:?}"
    );
    let old_newest = segments
        .iter()
        .find(|p| p.ends_with("00000000000000000003.seg"))
        .unwrap();
    assert_eq!(
        std::fs::read(old_newest).unwrap(),
        sealed,
        "the old newest segment was sealed untouched"
    );
    let reopened = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(as_map(&reopened), expected);
    let check = Catalog::check(dir.path(), opts(), true).unwrap();
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != catalog_core::ProblemKind::Store)
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
}

fn as_map(catalog: &Catalog) -> Vec<(String, String)> {
    catalog
        .list()
        .into_iter()
        .map(|e| (e.id, format!("{:?} {}", e.lifecycle, e.model_ref)))
        .collect()
}
