//! Compaction writes a snapshot atomically; reopening after it yields the
//! same state while replaying only the tail. Retention keeps history by
//! default. A damaged newest snapshot falls back to the previous one.

use crate::support::{as_map, segment, snapshot, spec};
use catalog_core::{AutoCompact, Catalog, Error, Lifecycle, Options, RecoveryMode};

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(2048)
}

#[test]
fn reopen_after_compaction_replays_only_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    for i in 0..200 {
        catalog.put(spec(i % 50)).unwrap();
    }
    catalog.set_state("model-0003", Lifecycle::Retired).unwrap();
    let report = catalog.compact().unwrap();
    assert_eq!(report.seq, 201);
    assert_eq!(report.entries, 50);
    assert!(report.snapshot.as_ref().unwrap().exists());
    for i in 0..10 {
        catalog.put(spec(100 + i)).unwrap();
    }
    assert!(catalog.delete("model-0004").unwrap());
    let expected = as_map(catalog.list());
    let head = catalog.head();
    drop(catalog);

    let reopened = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(as_map(reopened.list()), expected);
    assert_eq!(reopened.head(), head);
    let rec = reopened.recovery_report();
    assert_eq!(rec.snapshot_seq, Some(201));
    assert_eq!(
        rec.records_replayed, 12,
        "only the tail after the snapshot is replayed: its checkpoint and 11 records"
    );
    // History is retained: segment 1 still exists.
    assert!(
        segment(dir.path(), 1).exists(),
        "sealed segments are kept by default"
    );
}

#[test]
fn compacting_twice_without_writes_writes_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog.put(spec(1)).unwrap();
    let first = catalog.compact().unwrap();
    let second = catalog.compact().unwrap();
    assert!(first.snapshot.is_some());
    assert_eq!(second.snapshot, None, "nothing new to snapshot");
    assert_eq!(second.seq, first.seq);
}

#[test]
fn retention_keeps_n_snapshots_and_prunes_history_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts().keep_snapshots(2).retain_history(false);
    let catalog = Catalog::open_with(dir.path(), o.clone()).unwrap();
    let mut snaps = Vec::new();
    for round in 0..4u64 {
        for i in 0..30 {
            catalog.put(spec(round * 30 + i)).unwrap();
        }
        snaps.push(catalog.compact().unwrap());
    }
    // Each compaction adds its checkpoint record (and, when it prunes, a
    // pruning mark) after the 30 puts of its round.
    let seqs: Vec<u64> = snaps.iter().map(|r| r.seq).collect();
    assert_eq!(seqs[0], 30);
    for w in seqs.windows(2) {
        assert!((31..=32).contains(&(w[1] - w[0])), "{seqs:?}");
    }
    assert!(!snapshot(dir.path(), seqs[0]).exists() && !snapshot(dir.path(), seqs[1]).exists());
    assert!(snapshot(dir.path(), seqs[2]).exists() && snapshot(dir.path(), seqs[3]).exists());
    assert!(
        !segment(dir.path(), 1).exists(),
        "covered segments were pruned"
    );
    let removed: usize = snaps.iter().map(|r| r.removed_segments.len()).sum();
    assert!(removed > 0);
    let expected = as_map(catalog.list());
    drop(catalog);
    let reopened = Catalog::open_with(dir.path(), o).unwrap();
    assert_eq!(as_map(reopened.list()), expected);
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    for i in 0..20 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    for i in 20..30 {
        catalog.put(spec(i)).unwrap();
    }
    let newest = catalog.compact().unwrap().snapshot.unwrap();
    catalog.put(spec(30)).unwrap();
    let expected = as_map(catalog.list());
    drop(catalog);

    let mut bytes = std::fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&newest, &bytes).unwrap();

    let strict = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap_err();
    assert!(
        matches!(&strict, Error::Corrupt { file, .. } if *file == newest),
        "{strict}"
    );

    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(
        as_map(catalog.list()),
        expected,
        "identical state from the older snapshot"
    );
    assert_eq!(catalog.recovery_report().snapshot_seq, Some(20));
    assert_eq!(catalog.recovery_report().skipped_snapshots, vec![newest]);
}

#[test]
fn automatic_compaction_follows_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts().auto_compact(Some(AutoCompact {
        min_journal_bytes: 4096,
        ratio: 2,
    }));
    let catalog = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..100 {
        catalog.put(spec(i % 5)).unwrap();
    }
    let snaps = std::fs::read_dir(dir.path().join("catalog/snapshots"))
        .unwrap()
        .count();
    assert!(snaps >= 1, "the policy compacted at least once");
    let expected = as_map(catalog.list());
    drop(catalog);
    let reopened = Catalog::open_with(dir.path(), o).unwrap();
    assert_eq!(as_map(reopened.list()), expected);
    assert!(reopened.recovery_report().records_replayed < 100);
}

#[test]
fn compaction_while_other_threads_write_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let catalog = &catalog;
            s.spawn(move || {
                for i in 0..50 {
                    catalog.put(spec(t * 1000 + i)).unwrap();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..10 {
                catalog.compact().unwrap();
            }
        });
    });
    assert_eq!(catalog.len(), 200);
    let expected = as_map(catalog.list());
    drop(catalog);
    let reopened = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(as_map(reopened.list()), expected);
}

#[test]
fn an_entry_at_the_size_limit_survives_a_verification_and_a_snapshot() {
    use catalog_core::{Digest, EntrySpec, ManifestFile, Verification, VerifyResult};
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    let file = |n: usize| {
        ManifestFile::new(
            format!("{n:05}-{}", "p".repeat(240)),
            Digest::of_bytes(b"x"),
            n as u64,
        )
    };
    // Grow the manifest until the put is refused for size (coarse steps,
    // then single files); the largest accepted one is the entry.
    let fits = |n: usize| {
        let spec = EntrySpec::new("big", "hf:o/r", "blobs/x").files((0..n).map(file).collect());
        match catalog.put(spec) {
            Ok(_) => true,
            Err(Error::InvalidInput { .. }) => false,
            Err(other) => panic!("{other}"),
        }
    };
    let mut n = 3000;
    while fits(n + 64) {
        n += 64;
    }
    while fits(n + 1) {
        n += 1;
    }
    assert!(
        n > 3000 && n < 4096,
        "the payload limit was reached at {n} files"
    );
    assert!(fits(n), "the largest accepted manifest is the one stored");
    catalog
        .record_verification(
            "big",
            Verification {
                result: VerifyResult::Fail,
                reason: "r".repeat(1024),
                actual: Some(Digest::of_bytes(b"y")),
                bytes: u64::MAX,
                duration_ms: u64::MAX,
                files: vec![],
            },
        )
        .unwrap();
    catalog.compact().unwrap();
    let expected = as_map(catalog.list());
    drop(catalog);
    let strict = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(as_map(strict.list()), expected, "the snapshot is readable");
    assert_eq!(
        strict.recovery_report().records_replayed,
        1,
        "only the snapshot's own checkpoint record follows it"
    );
}
