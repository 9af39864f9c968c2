//! Matrix row 19 (finding F5): a snapshot's entries are protected by more
//! than CRCs. Compaction writes a `Checkpoint` record carrying the
//! snapshot's content digest before it publishes the snapshot, so the hash
//! chain — and a pinned head — covers what the snapshot says. An edit with
//! recomputed CRCs (the lifecycle byte of an entry flipped) is passed over
//! at open, which falls back to what the journal says, and `check` reports
//! it without `--deep`. Rewriting the checkpoint record to match changes
//! the head.

use catalog_core::{Catalog, EntrySpec, Lifecycle, Options, ProblemKind};
use std::path::{Path, PathBuf};

fn opts() -> Options {
    Options::default().auto_compact(None)
}

const HEADER_LEN: usize = 92;

/// Flips the lifecycle of the entry whose body contains `local_path` (its
/// lifecycle byte follows the path) and recomputes every CRC.
fn flip_lifecycle_with_fixed_crcs(snap: &Path, local_path: &str) {
    let mut bytes = std::fs::read(snap).unwrap();
    let mut pos = HEADER_LEN;
    let trailer = bytes.len() - 12;
    let mut edited = false;
    while pos < trailer {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let body = pos + 8;
        let hay = &bytes[body..body + len];
        if let Some(at) = hay
            .windows(local_path.len())
            .position(|w| w == local_path.as_bytes())
        {
            let lifecycle = body + at + local_path.len();
            assert!(bytes[lifecycle] <= 1, "a lifecycle byte");
            bytes[lifecycle] ^= 1;
            let crc = crc32fast::hash(&bytes[body..body + len]);
            bytes[pos + 4..pos + 8].copy_from_slice(&crc.to_le_bytes());
            edited = true;
        }
        pos = body + len;
    }
    assert!(edited, "the entry was found");
    let file_crc = crc32fast::hash(&bytes[..trailer + 8]);
    bytes[trailer + 8..].copy_from_slice(&file_crc.to_le_bytes());
    std::fs::write(snap, &bytes).unwrap();
}

fn catalog_with_snapshot(dir: &Path) -> (PathBuf, catalog_core::JournalHead) {
    let catalog = Catalog::open_with(dir, opts()).unwrap();
    for i in 0..5 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:o/r", format!("blobs/m{i}")).size_bytes(5))
            .unwrap();
    }
    let snap = catalog.compact().unwrap().snapshot.unwrap();
    let head = catalog.head();
    (snap, head)
}

#[test]
fn a_snapshot_entry_edited_with_fixed_crcs_is_passed_over_at_open_and_caught_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let (snap, head) = catalog_with_snapshot(dir.path());
    assert!(Catalog::check(dir.path(), opts(), false).unwrap().is_ok());
    flip_lifecycle_with_fixed_crcs(&snap, "blobs/m2");

    // Every CRC is valid, yet opening does not believe the snapshot: the
    // checkpoint record after it names other contents. It falls back to the
    // journal (history is retained) and reports the snapshot it passed over.
    for reader in [true, false] {
        let catalog = if reader {
            Catalog::open_read_only_with(dir.path(), opts()).unwrap()
        } else {
            Catalog::open_with(dir.path(), opts()).unwrap()
        };
        assert_eq!(
            catalog.get("m2").unwrap().lifecycle,
            Lifecycle::Active,
            "the journal's truth, not the edit (reader: {reader})"
        );
        assert_eq!(
            catalog.recovery_report().skipped_snapshots,
            vec![snap.clone()]
        );
        assert_eq!(catalog.head(), head, "nothing was written");
    }

    // A quick check (no replay) finds it, naming the snapshot.
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    let problems: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Snapshot)
        .collect();
    assert_eq!(problems.len(), 1, "{:?}", report.problems);
    assert_eq!(problems[0].file, snap);
    assert!(
        problems[0].what.contains("checkpoint"),
        "{}",
        problems[0].what
    );

    // Strict recovery refuses instead of falling back.
    let strict = Catalog::open_read_only_with(
        dir.path(),
        opts().recovery(catalog_core::RecoveryMode::Strict),
    );
    assert!(
        matches!(strict, Err(catalog_core::Error::Corrupt { .. })),
        "{strict:?}"
    );
}

#[test]
fn a_snapshot_no_compaction_wrote_is_refused_and_reported() {
    // A whole snapshot planted at a later sequence, internally consistent,
    // with no checkpoint record binding it.
    let dir = tempfile::tempdir().unwrap();
    let (snap, head) = catalog_with_snapshot(dir.path());
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog.set_state("m1", Lifecycle::Retired).unwrap();
    let later = catalog.head();
    drop(catalog);
    // Copy the bound snapshot's bytes under the later sequence, fixing its
    // header (sequence, chain) and CRCs: a forgery a no-secret attacker can make.
    let mut bytes = std::fs::read(&snap).unwrap();
    bytes[32..40].copy_from_slice(&later.seq.to_le_bytes());
    let chain: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&later.chain[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    bytes[48..80].copy_from_slice(&chain);
    let crc = crc32fast::hash(&bytes[..88]);
    bytes[88..92].copy_from_slice(&crc.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    let forged = crate::support::snapshot(dir.path(), later.seq);
    std::fs::write(&forged, &bytes).unwrap();
    assert!(later.seq > head.seq);

    let catalog = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    assert_eq!(
        catalog.get("m1").unwrap().lifecycle,
        Lifecycle::Retired,
        "the forged snapshot (which says active) is not used"
    );
    assert_eq!(
        catalog.recovery_report().skipped_snapshots,
        vec![forged.clone()]
    );
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == forged && p.what.contains("no checkpoint")),
        "{:?}",
        report.problems
    );
}

#[test]
fn rewriting_the_checkpoint_to_match_an_edit_changes_the_head() {
    // The chain covers the checkpoint record, so making the journal agree
    // with an edited snapshot means rewriting the chain from there on: the
    // head changes, and a pinned head catches the forgery that a plain
    // check (every CRC, chain value and binding now consistent) cannot.
    let dir = tempfile::tempdir().unwrap();
    let (snap, head) = catalog_with_snapshot(dir.path());
    let pinned = format!("{}:{}", head.seq, head.chain);
    flip_lifecycle_with_fixed_crcs(&snap, "blobs/m2");

    // The new content digest: SHA-256 of the domain and every byte before
    // the trailer (docs/FORMAT.md §3.4).
    let snap_bytes = std::fs::read(&snap).unwrap();
    let mut input = b"catalog-core/snapshot-content/v1".to_vec();
    input.extend_from_slice(&snap_bytes[..snap_bytes.len() - 12]);
    let content = *catalog_core::Digest::of_bytes(&input).as_bytes();

    // The checkpoint is the newest record: the first of the segment the
    // compaction started. Put the new digest in its payload (right before
    // the two bytes of an empty context), recompute its chain value and CRC.
    let seg = crate::support::segment(dir.path(), 2);
    let mut bytes = std::fs::read(&seg).unwrap();
    let ends = crate::support::record_ends(&bytes);
    assert_eq!(ends.len(), 1, "the checkpoint alone");
    let (start, end) = (84usize, ends[0] as usize);
    assert_eq!(
        u64::from_le_bytes(bytes[start + 8..start + 16].try_into().unwrap()),
        head.seq
    );
    bytes[end - 34..end - 2].copy_from_slice(&content);
    let prev: [u8; 32] = bytes[48..80].try_into().unwrap();
    let time = u64::from_le_bytes(bytes[start + 16..start + 24].try_into().unwrap());
    let chain = catalog_core::journal::chain::next(&prev, head.seq, time, &bytes[start + 64..end]);
    bytes[start + 32..start + 64].copy_from_slice(&chain);
    let crc = crc32fast::hash(&bytes[start + 4..end]);
    bytes[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();

    let catalog = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    assert_eq!(
        catalog.get("m2").unwrap().lifecycle,
        Lifecycle::Retired,
        "the forgery is consistent, so open uses it"
    );
    assert_ne!(catalog.head(), head, "but the head changed");
    let pinned_check = Catalog::check_with(
        dir.path(),
        opts(),
        catalog_core::CheckOptions::default()
            .expect_head(&pinned)
            .unwrap(),
    )
    .unwrap();
    assert!(
        pinned_check
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::History && p.what.contains("rewritten")),
        "{:?}",
        pinned_check.problems
    );
    // And a deep check still replays the journal and sees the difference.
    let deep = Catalog::check(dir.path(), opts(), true).unwrap();
    assert!(
        deep.problems.iter().any(|p| p.file == snap),
        "{:?}",
        deep.problems
    );
}

#[test]
fn a_compaction_replaces_a_newest_snapshot_that_open_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = catalog_with_snapshot(dir.path());
    flip_lifecycle_with_fixed_crcs(&snap, "blobs/m2");
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(
        catalog.recovery_report().skipped_snapshots,
        vec![snap.clone()]
    );
    // Nothing changed since, but the newest snapshot is not good: replace it.
    let report = catalog.compact().unwrap();
    assert!(report.snapshot.is_some(), "{report:?}");
    drop(catalog);
    let reopened = Catalog::open_with(dir.path(), opts()).unwrap();
    assert!(
        reopened.recovery_report().skipped_snapshots.is_empty(),
        "the new snapshot is used"
    );
    assert_eq!(reopened.get("m2").unwrap().lifecycle, Lifecycle::Active);
}

#[test]
fn a_format_1_snapshot_planted_where_format_2_wrote_is_passed_over() {
    // A format-1 snapshot is bound by no record, so one at a sequence that
    // format 2 or later wrote (they write only bound snapshots) is a
    // forgery. The forgery is a real format-1 snapshot (the v1 golden
    // fixture's, entries in format 1's shapes) relabelled to a later
    // sequence of the same catalog, after it moved on to newer segments.
    let dir = crate::support::golden::copy("v1", "compacted");
    let snap = dir
        .path()
        .join("catalog/snapshots/00000000000000000014.snap");
    assert!(snap.exists(), "the v1 fixture holds a snapshot");
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    let id = catalog.list().into_iter().next().unwrap().id;
    let flipped = match catalog.get(&id).unwrap().lifecycle {
        Lifecycle::Active => Lifecycle::Retired,
        _ => Lifecycle::Active,
    };
    catalog.set_state(&id, flipped).unwrap();
    let later = catalog.head();
    drop(catalog);
    let mut bytes = std::fs::read(&snap).unwrap();
    assert_eq!(&bytes[8..12], &1u32.to_le_bytes(), "format 1");
    bytes[32..40].copy_from_slice(&later.seq.to_le_bytes());
    let chain: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&later.chain[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    bytes[48..80].copy_from_slice(&chain);
    let crc = crc32fast::hash(&bytes[..88]);
    bytes[88..92].copy_from_slice(&crc.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    let forged = crate::support::snapshot(dir.path(), later.seq);
    std::fs::write(&forged, &bytes).unwrap();

    let catalog = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    assert_eq!(catalog.get(&id).unwrap().lifecycle, flipped);
    assert_eq!(
        catalog.recovery_report().skipped_snapshots,
        vec![forged.clone()]
    );
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == forged && p.what.contains("format 2")),
        "{:?}",
        report.problems
    );
}
