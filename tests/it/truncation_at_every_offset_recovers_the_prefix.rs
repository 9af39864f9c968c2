//! Matrix row 5: cut the journal of a 100-record log at every byte offset.
//! Every cut opens; the state is exactly the records that end at or before
//! the cut; the cut bytes are kept; later appends survive a reopen.

use crate::support::{as_map, segment};
use catalog_core::{Catalog, EntrySpec, Error, Options};
use std::collections::BTreeMap;

/// Small records keep the number of offsets (and the test's time) down;
/// every field kind is covered by `every_field_round_trips_through_reopen`.
fn spec(i: u64) -> EntrySpec {
    EntrySpec::new(format!("m{i}"), "hf:o/r", "blobs/x").size_bytes(i)
}

const RECORDS: u64 = 100;
const SEGMENT_HEADER_LEN: u64 = 84;

fn opts() -> Options {
    // A small preallocation keeps ~18,000 reopen-and-append rounds quick.
    Options::default().auto_compact(None).preallocate(4096)
}

/// How the bytes after the cut look.
#[derive(Clone, Copy, Debug)]
enum After {
    /// The file ends at the cut.
    Nothing,
    /// The writer's preallocated zeros follow (the batch was torn inside
    /// the preallocated area).
    Zeros,
}

#[test]
fn every_cut_opens_with_exactly_the_records_before_it() {
    let source = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(source.path(), opts()).unwrap();
    let seg = segment(source.path(), 1);
    let mut states: Vec<BTreeMap<_, _>> = vec![BTreeMap::new()];
    for i in 0..RECORDS {
        catalog.put(spec(i)).unwrap();
        states.push(as_map(catalog.list()));
    }
    drop(catalog);
    let full = crate::support::logical_bytes(&seg);
    let ends = crate::support::record_ends(&full);
    assert_eq!(ends.len() as u64, RECORDS);

    let work = tempfile::tempdir().unwrap();
    crate::support::copy_dir(source.path(), work.path());
    let work_seg = segment(work.path(), 1);
    let recovered = work.path().join("catalog/recovered");
    let mut cuts = 0;
    for after in [After::Nothing, After::Zeros] {
        for cut in SEGMENT_HEADER_LEN..=full.len() as u64 {
            let mut bytes = full[..cut as usize].to_vec();
            if let After::Zeros = after {
                bytes.resize(full.len() + 4096, 0);
            }
            std::fs::write(&work_seg, &bytes).unwrap();
            let _ = std::fs::remove_dir_all(&recovered);
            let what = format!("cut at {cut}, then {after:?}");
            let mut kept = ends.iter().filter(|&&end| end <= cut).count();
            // With zeros after the cut, a record whose missing bytes were
            // zeros anyway is whole again: it is kept, rightly.
            if let After::Zeros = after
                && kept < ends.len()
                && full[cut as usize..ends[kept] as usize]
                    .iter()
                    .all(|&b| b == 0)
            {
                kept += 1;
            }
            let catalog = Catalog::open_with(work.path(), opts())
                .unwrap_or_else(|e| panic!("{what}: open failed: {e}"));
            assert_eq!(as_map(catalog.list()), states[kept], "{what}");
            assert_eq!(catalog.head().seq, kept as u64, "{what}");
            let start = if kept == 0 {
                SEGMENT_HEADER_LEN
            } else {
                ends[kept - 1]
            };
            // The bytes of the partial record, without zeros at their end
            // (indistinguishable from the writer's preallocation): a tail
            // of only zeros is the clean end, anything else a torn tail.
            let partial = full.get(start as usize..cut as usize).unwrap_or_default();
            let trimmed = &partial[..partial.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
            match &catalog.recovery_report().torn_tail {
                None => assert!(trimmed.is_empty(), "{what}: no torn tail reported"),
                Some(torn) => {
                    assert_eq!(torn.offset, start, "{what}");
                    assert_eq!(torn.seq, kept as u64 + 1);
                    let saved = std::fs::read(torn.saved_to.as_ref().unwrap()).unwrap();
                    assert_eq!(saved, trimmed, "{what}: kept bytes");
                    assert_eq!(torn.dropped_bytes, trimmed.len() as u64, "{what}");
                }
            }
            // A later append survives the next reopen.
            catalog.put(spec(1_000)).unwrap();
            drop(catalog);
            let again = Catalog::open_with(work.path(), opts()).unwrap();
            assert!(again.exists("m1000"), "{what}: later append lost");
            assert_eq!(again.len(), states[kept].len() + 1, "{what}");
            assert!(again.recovery_report().torn_tail.is_none(), "{what}");
            cuts += 1;
        }
    }
    eprintln!("{cuts} cuts of a {RECORDS}-record log, each recovered exactly");
}

#[test]
fn a_cut_inside_the_segment_header_is_refused_not_guessed() {
    // A segment header is published atomically (temp, fsync, rename), so a
    // short header is damage, not a crash state.
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog.put(spec(1)).unwrap();
    drop(catalog);
    let seg = segment(dir.path(), 1);
    let full = crate::support::logical_bytes(&seg);
    for cut in 0..SEGMENT_HEADER_LEN as usize {
        std::fs::write(&seg, &full[..cut]).unwrap();
        let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
        assert!(
            matches!(&err, Error::Corrupt { file, .. } if *file == seg),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn two_different_torn_tails_at_the_same_offset_are_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog.put(spec(1)).unwrap();
    drop(catalog);
    let seg = segment(dir.path(), 1);
    let good = crate::support::logical_bytes(&seg);
    let mut saved = Vec::new();
    for tail in [
        &b"FIRST crash's unsynced bytes"[..],
        &b"SECOND crash, other bytes"[..],
    ] {
        let mut bytes = good.clone();
        bytes.extend_from_slice(tail);
        std::fs::write(&seg, &bytes).unwrap();
        let c = Catalog::open_with(dir.path(), opts()).unwrap();
        let torn = c.recovery_report().torn_tail.clone().unwrap();
        assert_eq!(torn.offset, good.len() as u64, "the same offset both times");
        saved.push(torn.saved_to.unwrap());
    }
    assert_ne!(
        saved[0], saved[1],
        "the second cut did not overwrite the first one's bytes"
    );
    assert_eq!(
        std::fs::read(&saved[0]).unwrap(),
        b"FIRST crash's unsynced bytes"
    );
    assert_eq!(
        std::fs::read(&saved[1]).unwrap(),
        b"SECOND crash, other bytes"
    );
}
