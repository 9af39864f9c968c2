//! Matrix row 19 (findings F6 and F7): `check` exits 1 — never "ok with a
//! note" — for a catalog that does not open, for sealed segments missing
//! while history is retained (pruning is recorded in the journal, so a
//! journal that does not start at sequence 1 is explained or is damage),
//! and for records lost and repaired. The loss of the newest acknowledged
//! records (zeroed together with the preallocation) looks like a clean end
//! to any log; a head pinned elsewhere and `--expect-head` turn it into a
//! problem.

use crate::cli_support::Cli;
use catalog_core::{Catalog, CheckOptions, EntrySpec, Options, ProblemKind};
use std::path::Path;

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1_000)
}

fn spec(i: u64) -> EntrySpec {
    EntrySpec::new(format!("m{i}"), "hf:org/repo", format!("blobs/m{i}"))
}

/// A catalog with several sealed segments and a snapshot.
fn populated(dir: &Path, retain_history: bool) -> catalog_core::JournalHead {
    let catalog = Catalog::open_with(dir, opts().retain_history(retain_history)).unwrap();
    for i in 0..30 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    for i in 30..40 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    catalog.put(spec(40)).unwrap();
    catalog.head()
}

fn history_problems(dir: &Path, check: CheckOptions) -> Vec<String> {
    Catalog::check_with(dir, opts(), check)
        .unwrap()
        .problems
        .into_iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .map(|p| format!("{:?}: {}", p.kind, p.what))
        .collect()
}

#[test]
fn a_missing_oldest_segment_is_a_problem_while_history_is_retained() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path(), true);
    assert!(history_problems(dir.path(), CheckOptions::default()).is_empty());
    std::fs::remove_file(crate::support::segment(dir.path(), 1)).unwrap();
    // The snapshots cover it, so the catalog still opens …
    assert!(Catalog::open_read_only_with(dir.path(), opts()).is_ok());
    // … but the history now starts late, and nothing says it was pruned.
    let problems = history_problems(dir.path(), CheckOptions::default());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("History") && p.contains("no retained record says")),
        "{problems:?}"
    );
}

#[test]
fn pruning_by_retention_is_recorded_and_not_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path(), false);
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(report.first_seq > 1, "segments were pruned");
    let problems: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        report.notes.iter().any(|n| n.contains("was pruned")),
        "{:?}",
        report.notes
    );
    // Deleting one more segment than retention did is caught (whether or
    // not the segment held the pruning record itself).
    let oldest = std::fs::read_dir(dir.path().join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .min()
        .unwrap();
    std::fs::remove_file(&oldest).unwrap();
    let problems = history_problems(dir.path(), CheckOptions::default());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("History") && p.contains("sealed segments are missing")),
        "{problems:?}"
    );
}

#[test]
fn a_catalog_that_does_not_open_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path(), true);
    std::fs::remove_file(crate::support::segment(dir.path(), 1)).unwrap();
    for entry in std::fs::read_dir(dir.path().join("catalog/snapshots")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    assert!(Catalog::open_read_only_with(dir.path(), opts()).is_err());
    let problems = history_problems(dir.path(), CheckOptions::default());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Journal") && p.contains("does not open")),
        "{problems:?}"
    );
    // And through the command line: exit 1.
    let cli = Cli::new();
    let out = cli
        .bare()
        .args(["--root", dir.path().to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn records_lost_and_repaired_remain_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path(), true);
    let seg = crate::support::segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[84 + 70] ^= 0x02; // record 1's payload
    std::fs::write(&seg, &bytes).unwrap();
    let repaired = Catalog::repair(dir.path(), opts()).unwrap();
    assert_eq!(repaired.gaps[0].lost_seqs, Some((1, 1)));
    let problems = history_problems(dir.path(), CheckOptions::default());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("History") && problems[0].contains("1..=1 were lost"),
        "{problems:?}"
    );
    assert!(
        !Catalog::repair(dir.path(), opts()).unwrap().damage_found,
        "a repaired gap is nothing a second repair can mend"
    );
}

#[test]
fn the_newest_records_zeroed_are_a_clean_end_to_the_log_but_not_to_a_pinned_head() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    for i in 0..10 {
        catalog.put(spec(i)).unwrap();
    }
    let pinned = catalog.head();
    drop(catalog);
    let pin = format!("{}:{}", pinned.seq, pinned.chain);
    let seg = crate::support::segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let ends = crate::support::record_ends(&bytes);
    // Zero the last three acknowledged records (the zeros after them are
    // the preallocation): exactly what a clean end looks like.
    let from = ends[ends.len() - 4] as usize;
    bytes[from..].fill(0);
    std::fs::write(&seg, &bytes).unwrap();

    let reopened = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    assert_eq!(reopened.len(), 7, "the log alone cannot tell");
    assert!(reopened.recovery_report().torn_tail.is_none());
    drop(reopened);
    let cli = Cli::new();
    let root = dir.path().to_str().unwrap();
    let out = cli.bare().args(["--root", root, "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "nor can a check without a pin");

    let out = cli
        .bare()
        .args(["--root", root, "check", "--expect-head", &pin])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("past the journal's end"), "{stdout}");

    // A pin of a record still there passes; the same sequence with another
    // chain value is history rewritten.
    let good = format!("7:{}", chain_at(dir.path(), 7));
    let ok = Catalog::check_with(
        dir.path(),
        Options::default(),
        CheckOptions::default().expect_head(&good).unwrap(),
    )
    .unwrap();
    assert!(ok.is_ok(), "{:?}", ok.problems);
    let bad = format!("7:{}", "0".repeat(64));
    let problems = history_problems(
        dir.path(),
        CheckOptions::default().expect_head(&bad).unwrap(),
    );
    assert!(
        problems.iter().any(|p| p.contains("rewritten")),
        "{problems:?}"
    );
    // A malformed pin is bad input (exit 2), not a failed check.
    let out = cli
        .bare()
        .args(["--root", root, "check", "--expect-head", "7:xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// The chain value after record `seq`, as `catalog head` would have shown it.
fn chain_at(root: &Path, seq: u64) -> String {
    let bytes = std::fs::read(crate::support::segment(root, 1)).unwrap();
    let ends = crate::support::record_ends(&bytes);
    let start = if seq == 1 {
        84
    } else {
        ends[seq as usize - 2] as usize
    };
    bytes[start + 32..start + 64]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_pin_catalog_head_prints_can_be_checked() {
    // A pin of an empty catalog (the genesis chain value at sequence 0),
    // and a pin whose record retention later deleted while the segment
    // after it still starts from it (its header holds the chain value).
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts().retain_history(false)).unwrap();
    let empty = catalog.head();
    let pin = |h: &catalog_core::JournalHead| format!("{}:{}", h.seq, h.chain);
    let check =
        |p: &str| history_problems(dir.path(), CheckOptions::default().expect_head(p).unwrap());
    assert!(check(&pin(&empty)).is_empty(), "{:?}", check(&pin(&empty)));
    for i in 0..30 {
        catalog.put(spec(i)).unwrap();
    }
    let boundary = catalog.head(); // record 30: the next compaction seals its segment
    catalog.compact().unwrap();
    for i in 30..60 {
        catalog.put(spec(i)).unwrap();
    }
    catalog.compact().unwrap();
    drop(catalog);
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(
        report.first_seq > boundary.seq,
        "record {} itself was pruned (the journal starts at {})",
        boundary.seq,
        report.first_seq
    );
    let problems = check(&pin(&boundary));
    assert!(problems.is_empty(), "the pin verifies: {problems:?}");
    // And a wrong chain for it is still caught.
    let wrong = format!("{}:{}", boundary.seq, "1".repeat(64));
    assert!(!check(&wrong).is_empty());
}
