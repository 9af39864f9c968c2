//! Tamper evidence: editing one byte of an old record's payload and fixing
//! its CRC is caught by the chain check, even where opening would not read
//! the record (before the newest snapshot). The head can be pinned.

use crate::support::segment;
use catalog_core::{Catalog, EntrySpec, ImportOptions, ModelRef, Options};

fn opts() -> Options {
    Options::default().auto_compact(None)
}

#[test]
fn an_edited_old_record_with_a_fixed_crc_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    for i in 0..10u64 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:o/r", "blobs/x").size_bytes(i))
            .unwrap();
    }
    catalog.compact().unwrap(); // segment 1 is now sealed and before the snapshot
    let ends: Vec<usize> =
        crate::support::record_ends(&std::fs::read(segment(dir.path(), 1)).unwrap())
            .into_iter()
            .map(|e| e as usize)
            .collect();
    catalog
        .put(EntrySpec::new("after", "hf:o/r", "blobs/x"))
        .unwrap();
    let pinned = catalog.head();
    drop(catalog);

    let clean = Catalog::check(dir.path(), opts(), true).unwrap();
    assert!(clean.is_ok(), "{:?}", clean.problems);
    assert_eq!(clean.last_seq, pinned.seq);
    assert_eq!(
        clean.head_chain, pinned.chain,
        "the check reports the head to compare with a pinned one"
    );
    assert_eq!(clean.records, 12, "11 puts and the checkpoint record");

    // Edit the size of record 4 (its payload's last byte) and fix its CRC.
    let path = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    let (start, end) = (ends[2], ends[3]);
    bytes[end - 1] ^= 0x01;
    let crc = crc32fast::hash(&bytes[start + 4..end]);
    bytes[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();

    // Opening reads only the snapshot and the tail: it does not see it …
    assert!(Catalog::open_read_only_with(dir.path(), opts()).is_ok());
    // … the check does, at that record.
    let report = Catalog::check(dir.path(), opts(), false).unwrap();
    assert!(!report.is_ok());
    let first = &report.problems[0];
    assert_eq!(first.file, path);
    assert_eq!(first.offset, start as u64);
    assert_eq!(first.seq, Some(4));
    assert!(first.what.contains("chain"), "{}", first.what);
}

#[test]
fn a_snapshot_edited_with_fixed_checksums_is_passed_over_and_caught_by_any_check() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog
        .put(EntrySpec::new("m", "hf:o/r", "blobs/x").size_bytes(5))
        .unwrap();
    let snap = catalog.compact().unwrap().snapshot.unwrap();
    drop(catalog);
    // The snapshot's one entry frame starts at byte 92: len u32, crc u32,
    // then postcard(ModelEntry) — id "m", ref "hf:o/r", path "blobs/x",
    // lifecycle, trust, digest None, then size_bytes (5) at body byte 20.
    const FRAME: usize = 92;
    let mut bytes = std::fs::read(&snap).unwrap();
    let len = u32::from_le_bytes(bytes[FRAME..FRAME + 4].try_into().unwrap()) as usize;
    let body = FRAME + 8;
    assert_eq!(
        bytes[body + 20],
        5,
        "the size byte is where the format says"
    );
    bytes[body + 20] = 6;
    let crc = crc32fast::hash(&bytes[body..body + len]);
    bytes[FRAME + 4..FRAME + 8].copy_from_slice(&crc.to_le_bytes());
    let end = bytes.len() - 4;
    let file_crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&file_crc.to_le_bytes());
    std::fs::write(&snap, &bytes).unwrap();

    // Every checksum is valid, but the checkpoint record that bound the
    // snapshot names other contents: opening passes it over and replays the
    // journal (finding F5: it used to trust the edit) …
    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    assert_eq!(reader.get("m").unwrap().size_bytes, 5);
    // … and a quick check reports it, as a deep one does.
    // (The deep one also says the entries differ from a replay.)
    for deep in [false, true] {
        let report = Catalog::check(dir.path(), opts(), deep).unwrap();
        assert_eq!(
            report.problems.len(),
            1 + usize::from(deep),
            "{:?}",
            report.problems
        );
        for p in &report.problems {
            assert_eq!(p.file, snap);
            assert!(p.what.contains("differ"), "{}", p.what);
        }
    }
}

#[test]
fn a_deep_check_hashes_blobs_and_finds_damage() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, vec![1u8; 10_000]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let source = ModelRef::parse(&format!("file:{}", file.display())).unwrap();
    catalog
        .import(&source, ImportOptions::default().id("m"))
        .unwrap();
    let blob = catalog.model_path("m").unwrap();
    let ok = Catalog::check(root.path(), Options::default(), true).unwrap();
    assert!(ok.is_ok(), "{:?}", ok.problems);
    assert_eq!(ok.blobs_hashed, 1);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&blob, vec![2u8; 10_000]).unwrap();
    let bad = Catalog::check(root.path(), Options::default(), true).unwrap();
    assert_eq!(bad.problems.len(), 1, "{:?}", bad.problems);
    assert!(bad.problems[0].what.contains("hashes to"));
    std::fs::remove_file(&blob).unwrap();
    let missing = Catalog::check(root.path(), Options::default(), false).unwrap();
    assert!(
        missing.problems[0].what.contains("missing"),
        "{:?}",
        missing.problems
    );
}
