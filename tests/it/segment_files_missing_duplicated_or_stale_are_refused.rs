//! Matrix rows 7 and 8: absurd length fields, and stale, duplicated,
//! missing or gapped segment files — each a clear error naming the file, or
//! (for a torn tail) a cut; never a panic, a huge allocation or a silent skip.

use crate::support::segment;
use catalog_core::{Catalog, EntrySpec, Error, Options};

fn opts() -> Options {
    Options::default().auto_compact(None).max_segment_bytes(512)
}

/// A catalog with several segments.
fn catalog_with_segments() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    for i in 0..30 {
        catalog
            .put(EntrySpec::new(format!("m{i:02}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    assert!(segment(dir.path(), 4).exists());
    dir
}

fn corrupt_naming(err: &Error, file: &std::path::Path) -> bool {
    matches!(err, Error::Corrupt { file: f, .. } if f == file)
}

#[test]
fn absurd_lengths_in_the_tail_are_torn_and_in_older_records_corrupt() {
    for len in [0u32, 1 << 20 | 1, u32::MAX] {
        // At the very end of the newest segment: a torn write, cut.
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
        catalog
            .put(EntrySpec::new("a", "hf:org/repo", "blobs/x"))
            .unwrap();
        drop(catalog);
        let seg = segment(dir.path(), 1);
        let mut header = [0u8; 64];
        header[4..8].copy_from_slice(&len.to_le_bytes());
        crate::support::write_at_end(&seg, &header);
        let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
        assert_eq!(catalog.len(), 1, "len {len}");
        let torn = catalog.recovery_report().torn_tail.clone();
        if len == 0 {
            // An all-zero header is indistinguishable from preallocated zeros: the clean end.
            assert!(torn.is_none(), "len 0: {torn:?}");
        } else {
            let nonzero = header.iter().rposition(|&b| b != 0).unwrap() as u64 + 1;
            assert_eq!(
                torn.unwrap().dropped_bytes,
                nonzero,
                "len {len}: the non-zero bytes are kept"
            );
        }
        drop(catalog);

        // In an older record of a sealed segment: corruption.
        let dir = catalog_with_segments();
        let seg = segment(dir.path(), 1);
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes[84 + 4..84 + 8].copy_from_slice(&len.to_le_bytes());
        std::fs::write(&seg, &bytes).unwrap();
        let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
        assert!(
            matches!(&err, Error::Corrupt { file, offset: 84, seq: Some(1), .. } if *file == seg),
            "len {len}: {err}"
        );
    }
}

#[test]
fn a_missing_segment_in_the_middle_is_refused_naming_the_next() {
    let dir = catalog_with_segments();
    std::fs::remove_file(segment(dir.path(), 2)).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(corrupt_naming(&err, &segment(dir.path(), 3)), "{err}");
    assert!(err.to_string().contains("segment 2 is missing"), "{err}");
}

#[test]
fn a_duplicated_segment_is_refused() {
    let dir = catalog_with_segments();
    let last = (1..)
        .take_while(|&n| segment(dir.path(), n).exists())
        .last()
        .unwrap();
    // A copy of an older segment under the next number.
    std::fs::copy(segment(dir.path(), 2), segment(dir.path(), last + 1)).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(
        corrupt_naming(&err, &segment(dir.path(), last + 1)),
        "{err}"
    );
}

#[test]
fn a_stale_segment_from_another_catalog_is_refused() {
    let dir = catalog_with_segments();
    let other = catalog_with_segments();
    std::fs::copy(segment(other.path(), 2), segment(dir.path(), 2)).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(corrupt_naming(&err, &segment(dir.path(), 2)), "{err}");
    assert!(err.to_string().contains("another catalog"), "{err}");
}

#[test]
fn an_old_copy_of_a_segment_replacing_the_newest_is_refused() {
    // The newest segment replaced by the same segment as it was earlier
    // (a restored backup): its records end early, and the next segment, if
    // any, would not continue it. Here: an older segment's content under
    // the newest number claims the wrong number.
    let dir = catalog_with_segments();
    let last = (1..)
        .take_while(|&n| segment(dir.path(), n).exists())
        .last()
        .unwrap();
    std::fs::copy(segment(dir.path(), last - 1), segment(dir.path(), last)).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(corrupt_naming(&err, &segment(dir.path(), last)), "{err}");
}

#[test]
fn a_journal_with_its_first_segment_removed_and_no_snapshot_is_refused() {
    let dir = catalog_with_segments();
    std::fs::remove_file(segment(dir.path(), 1)).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(corrupt_naming(&err, &segment(dir.path(), 2)), "{err}");
    assert!(err.to_string().contains("nothing covers"), "{err}");
}

#[test]
fn every_segment_deleted_is_refused_not_an_empty_catalog() {
    let dir = catalog_with_segments();
    for n in 1.. {
        if std::fs::remove_file(segment(dir.path(), n)).is_err() {
            break;
        }
    }
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[test]
fn a_crafted_gap_record_at_the_end_of_the_sequence_space_is_refused_not_a_panic() {
    use catalog_core::OpContext;
    use catalog_core::journal::chain;
    use catalog_core::journal::op::{Op, Payload};
    use catalog_core::journal::record::{RecordHeader, encode};
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    catalog
        .put(EntrySpec::new("a", "hf:org/repo", "blobs/x"))
        .unwrap();
    let head = catalog.head();
    drop(catalog);
    // A valid (CRC and chain) gap record whose end is u64::MAX, then one more record.
    let mut prev = [0u8; 32];
    for (i, b) in prev.iter_mut().enumerate() {
        *b = u8::from_str_radix(&head.chain[2 * i..2 * i + 2], 16).unwrap();
    }
    let seg = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let payload = Payload {
        op: Op::Gap {
            last_lost: u64::MAX,
            reason: "crafted".into(),
        },
        ctx: OpContext::default(),
    }
    .encode()
    .unwrap();
    let chain = chain::next(&prev, 2, head.time_ms, &payload);
    let synced = bytes.len() as u64;
    encode(
        &mut bytes,
        &RecordHeader {
            seq: 2,
            time_ms: head.time_ms,
            synced_before: synced,
            chain,
        },
        &payload,
    );
    std::fs::write(&seg, &bytes).unwrap();
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    assert!(matches!(&err, Error::Corrupt { seq: Some(2), .. }), "{err}");
}
