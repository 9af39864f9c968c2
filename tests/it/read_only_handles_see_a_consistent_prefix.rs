//! Read-only handles take no lock, never block the writer, see a consistent
//! prefix, and pick up new records with `refresh()` — across segment
//! rotations and compactions.

use crate::support::{as_map, segment, spec};
use catalog_core::{Catalog, EntrySpec, Error, Options};

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1024)
}

#[test]
fn a_reader_follows_the_writer_across_rotations_and_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Catalog::open_with(dir.path(), opts()).unwrap();
    writer.put(spec(0)).unwrap();
    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.len(), 1);
    for i in 1..40 {
        writer.put(spec(i)).unwrap();
    }
    writer.compact().unwrap();
    for i in 40..60 {
        writer.put(spec(i)).unwrap();
    }
    assert_eq!(reader.len(), 1, "a reader does not move until refreshed");
    assert_eq!(
        reader.refresh().unwrap(),
        60,
        "59 puts and the compaction's checkpoint record"
    );
    assert_eq!(as_map(reader.list()), as_map(writer.list()));
    assert_eq!(reader.head(), writer.head());
    assert!(
        segment(dir.path(), 3).exists(),
        "the test crossed segment rotations"
    );
    assert_eq!(reader.refresh().unwrap(), 0, "nothing new");
}

#[test]
fn a_reader_whose_segment_was_pruned_reloads_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts().retain_history(false).keep_snapshots(1);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    writer.put(spec(0)).unwrap();
    let reader = Catalog::open_read_only_with(dir.path(), o).unwrap();
    for i in 1..60 {
        writer.put(spec(i)).unwrap();
    }
    writer.compact().unwrap();
    writer.put(spec(60)).unwrap();
    assert!(
        !segment(dir.path(), 1).exists(),
        "the reader's segment is gone"
    );
    reader.refresh().unwrap();
    assert_eq!(as_map(reader.list()), as_map(writer.list()));
}

#[test]
fn readers_cannot_write_and_change_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Catalog::open_with(dir.path(), opts()).unwrap();
    writer.put(spec(1)).unwrap();
    drop(writer);
    // A torn tail: a reader reports it but does not cut it.
    let seg = segment(dir.path(), 1);
    crate::support::write_at_end(&seg, &[0xAB; 33]);
    let bytes = std::fs::read(&seg).unwrap();
    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    let torn = reader.recovery_report().torn_tail.clone().unwrap();
    assert_eq!(torn.dropped_bytes, 33);
    assert_eq!(torn.saved_to, None);
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        bytes,
        "the reader changed nothing"
    );
    for err in [
        reader
            .put(EntrySpec::new("x", "hf:o/r", "blobs/x"))
            .unwrap_err(),
        reader.delete("model-0001").unwrap_err(),
        reader.compact().unwrap_err(),
    ] {
        assert!(matches!(err, Error::ReadOnly), "{err}");
    }
    assert!(reader.exists("model-0001"));
}

#[test]
fn a_reader_on_a_missing_catalog_gets_no_catalog_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nothing-here");
    let err = Catalog::open_read_only(&root).unwrap_err();
    assert!(
        matches!(&err, Error::NoCatalog { root: r } if *r == root),
        "{err}"
    );
    assert!(!root.exists(), "a read-only open creates nothing");
}

#[test]
fn a_reader_refreshing_while_the_writer_writes_sees_only_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Catalog::open_with(dir.path(), opts()).unwrap();
    writer
        .put(EntrySpec::new("n-0000", "hf:o/r", "blobs/x"))
        .unwrap();
    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 1..300 {
                writer
                    .put(EntrySpec::new(format!("n-{i:04}"), "hf:o/r", "blobs/x"))
                    .unwrap();
            }
        });
        s.spawn(|| {
            for _ in 0..200 {
                reader.refresh().unwrap();
                let ids: Vec<String> = reader.list().into_iter().map(|e| e.id).collect();
                for (i, id) in ids.iter().enumerate() {
                    assert_eq!(id, &format!("n-{i:04}"), "a reader saw a hole");
                }
                assert_eq!(reader.head().seq, ids.len() as u64);
            }
        });
    });
    reader.refresh().unwrap();
    assert_eq!(reader.len(), 300);
}

#[test]
fn a_reader_refuses_damage_in_a_sealed_segment_instead_of_stalling() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Catalog::open_with(dir.path(), opts()).unwrap();
    writer.put(spec(0)).unwrap();
    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    for i in 1..30 {
        writer.put(spec(i)).unwrap();
    }
    assert!(segment(dir.path(), 2).exists());
    // Damage the last byte of segment 1, now sealed.
    let seg = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let err = reader.refresh().unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { file, .. } if *file == seg),
        "{err}"
    );
}

#[test]
fn a_writer_that_may_not_create_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("none");
    let err = Catalog::open_with(&root, opts().create_if_missing(false)).unwrap_err();
    assert!(
        matches!(&err, Error::NoCatalog { root: r } if *r == root),
        "{err}"
    );
    assert!(!root.exists(), "no directory, no lock file");
    Catalog::open_with(&root, opts()).unwrap();
    assert!(Catalog::open_with(&root, opts().create_if_missing(false)).is_ok());
}
