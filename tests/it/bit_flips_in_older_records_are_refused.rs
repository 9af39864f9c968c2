//! Matrix row 6: a flipped bit in a durable (older) record is refused with
//! `Corrupt` naming the file, the record's offset and its sequence number —
//! never silently truncated. The explicit repair keeps every other record.

use crate::support::{segment, spec};
use catalog_core::{Catalog, Error, Options, ProblemKind};

const RECORDS: u64 = 100;
const SEGMENT_HEADER_LEN: u64 = 84;

fn opts() -> Options {
    Options::default().auto_compact(None)
}

/// A 100-record log, each record its own batch; returns the record ends.
fn build(root: &std::path::Path) -> Vec<u64> {
    let catalog = Catalog::open_with(root, opts()).unwrap();
    for i in 0..RECORDS {
        catalog.put(spec(i)).unwrap();
    }
    drop(catalog);
    // Records end where the frames say (the file goes on with preallocated zeros).
    let seg = segment(root, 1);
    let ends = crate::support::record_ends(&std::fs::read(&seg).unwrap());
    assert_eq!(ends.len() as u64, RECORDS);
    ends
}

#[test]
fn every_flipped_byte_of_an_older_record_is_corrupt_with_file_offset_and_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ends = build(dir.path());
    let seg = segment(dir.path(), 1);
    let good = std::fs::read(&seg).unwrap();
    let last_start = ends[ends.len() - 2];
    for pos in SEGMENT_HEADER_LEN..last_start {
        let record = ends.iter().position(|&end| end > pos).unwrap();
        let start = if record == 0 {
            SEGMENT_HEADER_LEN
        } else {
            ends[record - 1]
        };
        let mut bad = good.clone();
        bad[pos as usize] ^= 1 << (pos % 8);
        std::fs::write(&seg, &bad).unwrap();
        let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
        match &err {
            Error::Corrupt {
                file, offset, seq, ..
            } => {
                assert_eq!(file, &seg, "flip at {pos}");
                assert_eq!(
                    *offset, start,
                    "flip at {pos}: offset of the damaged record"
                );
                assert_eq!(*seq, Some(record as u64 + 1), "flip at {pos}");
            }
            other => panic!("flip at {pos}: expected Corrupt, got {other}"),
        }
        assert_eq!(
            std::fs::read(&seg).unwrap(),
            bad,
            "a refused open changes nothing"
        );
    }
    std::fs::write(&seg, &good).unwrap();
    assert_eq!(
        Catalog::open_with(dir.path(), opts()).unwrap().len(),
        RECORDS as usize
    );
}

#[test]
fn damage_in_the_newest_record_is_a_torn_tail_and_its_bytes_are_kept() {
    // The last record's bytes were never followed by a durable record, so
    // damage there is indistinguishable from a torn write: it is cut and kept.
    let dir = tempfile::tempdir().unwrap();
    let ends = build(dir.path());
    let seg = segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let last_start = ends[ends.len() - 2] as usize;
    bytes[last_start + 70] ^= 0x04;
    std::fs::write(&seg, &bytes).unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(catalog.len(), RECORDS as usize - 1);
    let torn = catalog.recovery_report().torn_tail.clone().unwrap();
    assert_eq!(torn.offset, last_start as u64);
    let last_end = *ends.last().unwrap() as usize;
    let record = &bytes[last_start..last_end];
    let nonzero = record.iter().rposition(|&b| b != 0).unwrap() + 1;
    assert_eq!(
        std::fs::read(torn.saved_to.unwrap()).unwrap(),
        &record[..nonzero],
        "the damaged record's bytes are kept (not the preallocated zeros after it)"
    );
}

#[test]
fn repair_keeps_every_other_record_and_reports_the_gap() {
    for victim in [0u64, 1, 37, 98] {
        let dir = tempfile::tempdir().unwrap();
        let ends = build(dir.path());
        let seg = segment(dir.path(), 1);
        let mut bytes = std::fs::read(&seg).unwrap();
        let start = if victim == 0 {
            SEGMENT_HEADER_LEN
        } else {
            ends[victim as usize - 1]
        };
        bytes[start as usize + 66] ^= 0x80; // inside the payload
        std::fs::write(&seg, &bytes).unwrap();
        assert!(matches!(
            Catalog::open_with(dir.path(), opts()),
            Err(Error::Corrupt { .. })
        ));

        let report = Catalog::repair(dir.path(), opts()).unwrap();
        assert!(report.damage_found);
        assert_eq!(report.records_kept, RECORDS - 1, "victim {victim}");
        assert_eq!(report.gaps.len(), 1, "victim {victim}: {:?}", report.gaps);
        assert_eq!(report.gaps[0].lost_seqs, Some((victim + 1, victim + 1)));
        assert_eq!(report.gaps[0].offset, start);
        let quarantine = report.quarantined_to.clone().unwrap();
        assert_eq!(
            std::fs::read(quarantine.join("journal").join(format!("{:020}.seg", 1))).unwrap(),
            bytes,
            "the original segment is kept byte for byte"
        );

        let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
        assert_eq!(catalog.len(), RECORDS as usize - 1, "victim {victim}");
        assert!(
            !catalog.exists(&spec(victim).id),
            "the damaged record is gone"
        );
        for i in (0..RECORDS).filter(|&i| i != victim) {
            assert_eq!(
                catalog.get(&spec(i).id).unwrap().size_bytes,
                spec(i).size_bytes
            );
        }
        assert_eq!(
            catalog.head().seq,
            RECORDS + 1,
            "sequence numbers continue (after the checkpoint binding repair's snapshot)"
        );
        catalog.put(spec(500)).unwrap();
        drop(catalog);
        let again = Catalog::open_with(dir.path(), opts()).unwrap();
        assert_eq!(again.len(), RECORDS as usize);
        assert!(
            matches!(Catalog::repair(dir.path(), opts()), Err(Error::Busy { .. })),
            "repair needs the writer lock"
        );
        drop(again);
        // The journal and snapshots are whole again (these synthetic entries
        // name blobs that were never stored, which the check also reports);
        // the lost record stays a problem of the history.
        let check = Catalog::check(dir.path(), opts(), true).unwrap();
        let damage: Vec<_> = check
            .problems
            .iter()
            .filter(|p| matches!(p.kind, ProblemKind::Journal | ProblemKind::Snapshot))
            .collect();
        assert!(damage.is_empty(), "victim {victim}: {damage:?}");
        let lost: Vec<_> = check
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::History)
            .collect();
        assert_eq!(lost.len(), 1, "victim {victim}: {lost:?}");
        assert_eq!(lost[0].seq, Some(victim + 1));
        let second = Catalog::repair(dir.path(), opts()).unwrap();
        assert!(!second.damage_found, "a repaired catalog needs no repair");
    }
}
