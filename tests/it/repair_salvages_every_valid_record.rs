//! The explicit repair path: keeps every record that passes its checks,
//! reports the gap, quarantines the originals, and leaves a catalog that
//! opens and takes writes.

use crate::support::{segment, spec};
use catalog_core::{Catalog, Error, Options, ProblemKind};

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1024)
}

#[test]
fn repair_of_a_healthy_catalog_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog.put(spec(1)).unwrap();
    drop(catalog);
    let before = std::fs::read(segment(dir.path(), 1)).unwrap();
    let report = Catalog::repair(dir.path(), opts()).unwrap();
    assert!(!report.damage_found);
    assert_eq!(report.quarantined_to, None);
    assert_eq!(std::fs::read(segment(dir.path(), 1)).unwrap(), before);
}

#[test]
fn repair_when_the_oldest_remaining_segment_header_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts().retain_history(false).keep_snapshots(1);
    let catalog = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..40 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    for i in 40..60 {
        catalog.put(spec(i)).unwrap();
    }
    let expected: Vec<String> = catalog.list().into_iter().map(|e| e.id).collect();
    drop(catalog);
    assert!(
        !segment(dir.path(), 1).exists(),
        "history before the snapshot was pruned"
    );
    let first = (1..).find(|&n| segment(dir.path(), n).exists()).unwrap();
    let path = segment(dir.path(), first);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff; // inside the header (catalog id), under its CRC
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        Catalog::open_with(dir.path(), o.clone()),
        Err(Error::Corrupt { .. })
    ));

    let report = Catalog::repair(dir.path(), o.clone()).unwrap();
    assert!(report.damage_found);
    let catalog = Catalog::open_with(dir.path(), o).unwrap();
    let ids: Vec<String> = catalog.list().into_iter().map(|e| e.id).collect();
    assert_eq!(
        ids, expected,
        "the snapshot and every later record are kept"
    );
    catalog.put(spec(100)).unwrap();
}

#[test]
fn repair_of_an_edited_record_with_a_fixed_crc_drops_only_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    for i in 0..10 {
        catalog.put(spec(i)).unwrap();
    }
    let ends: Vec<usize> =
        crate::support::record_ends(&std::fs::read(segment(dir.path(), 1)).unwrap())
            .into_iter()
            .map(|e| e as usize)
            .collect();
    drop(catalog);
    // Edit a byte of record 5's payload (the size) and recompute its CRC.
    let path = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    let (start, end) = (ends[3], ends[4]);
    bytes[end - 1] ^= 0x01;
    let crc = crc32fast::hash(&bytes[start + 4..end]);
    bytes[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = Catalog::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { offset, seq: Some(5), reason, .. } if *offset == start as u64 && reason.contains("chain")),
        "{err}"
    );
    let report = Catalog::repair(dir.path(), Options::default()).unwrap();
    assert_eq!(report.records_kept, 9);
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].lost_seqs, Some((5, 5)));
    let catalog = Catalog::open(dir.path()).unwrap();
    assert_eq!(catalog.len(), 9);
    assert!(!catalog.exists(&spec(4).id));
}

#[test]
fn damage_that_only_the_check_sees_is_repaired_too() {
    // A sealed segment a snapshot covers is not read at open; the check
    // reads it, and repair acts on what the check finds.
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None);
    let catalog = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..10 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    catalog.put(spec(10)).unwrap();
    drop(catalog);
    let seg = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[84 + 70] ^= 0x02; // record 1's payload
    std::fs::write(&seg, &bytes).unwrap();
    assert!(
        Catalog::open_with(dir.path(), o.clone()).is_ok(),
        "open does not read it"
    );
    let journal_problems = |dir: &std::path::Path| {
        // (These synthetic entries name blobs that were never stored.)
        Catalog::check(dir, o.clone(), false)
            .unwrap()
            .problems
            .into_iter()
            .filter(|p| matches!(p.kind, ProblemKind::Journal | ProblemKind::Snapshot))
            .count()
    };
    assert_eq!(journal_problems(dir.path()), 1);

    let report = Catalog::repair(dir.path(), o.clone()).unwrap();
    assert!(report.damage_found);
    assert_eq!(report.gaps[0].lost_seqs, Some((1, 1)));
    assert_eq!(journal_problems(dir.path()), 0, "clean after repair");
    let catalog = Catalog::open_with(dir.path(), o).unwrap();
    assert_eq!(
        catalog.len(),
        11,
        "the snapshot still holds model 0; only its history record is lost"
    );
    let kinds: Vec<&str> = catalog
        .history(&spec(0).id)
        .unwrap()
        .iter()
        .map(|e| e.kind())
        .collect();
    assert!(
        kinds.is_empty(),
        "the lost record is a gap in the history: {kinds:?}"
    );
}

#[test]
fn after_a_repair_the_deep_check_passes_and_state_at_explains_the_gap() {
    // The registration of `m` is lost; a later record about `m` (covered by
    // the snapshot) is kept as history.
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None);
    let catalog = Catalog::open_with(dir.path(), o.clone()).unwrap();
    catalog
        .put(catalog_core::EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();
    catalog
        .put(catalog_core::EntrySpec::new("n", "hf:org/repo", "blobs/x"))
        .unwrap();
    catalog
        .set_state("m", catalog_core::Lifecycle::Retired)
        .unwrap();
    catalog.compact().unwrap();
    catalog
        .put(catalog_core::EntrySpec::new("o", "hf:org/repo", "blobs/x"))
        .unwrap();
    drop(catalog);
    let seg = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[84 + 66] ^= 0x01; // record 1 (put m)
    std::fs::write(&seg, &bytes).unwrap();
    let report = Catalog::repair(dir.path(), o.clone()).unwrap();
    assert_eq!(report.gaps[0].lost_seqs, Some((1, 1)));
    let deep = Catalog::check(dir.path(), o.clone(), true).unwrap();
    let journal: Vec<_> = deep
        .problems
        .iter()
        .filter(|p| matches!(p.kind, ProblemKind::Journal | ProblemKind::Snapshot))
        .collect();
    assert!(journal.is_empty(), "{journal:?}");
    assert!(
        deep.problems.iter().any(|p| p.kind == ProblemKind::History
            && p.seq == Some(1)
            && p.what.contains("lost and repaired")),
        "the lost record stays a problem: {:?}",
        deep.problems
    );
    assert!(
        !Catalog::repair(dir.path(), o.clone()).unwrap().damage_found,
        "stable"
    );
    let catalog = Catalog::open_with(dir.path(), o).unwrap();
    assert!(catalog.exists("m"), "the snapshot still holds m");
    let err = catalog.state_at(3).unwrap_err();
    assert!(err.to_string().contains("were lost"), "{err}");
}
