//! Matrix row 11: when a mutation returns Ok, its record is already in the
//! durable bytes of the journal (checked against a slow-fsync file system
//! that tracks exactly what was synced), with many threads racing.

use crate::support::mem_fs::MemFs;
use crate::support::spec;
use catalog_core::journal::record::{self, Parsed};
use catalog_core::{Catalog, Options};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const ROOT: &str = "/mem/catalog";
const SEGMENT_HEADER_LEN: usize = 84;

/// Sequence numbers of the records in the durable bytes of every segment.
fn durable_seqs(fs: &MemFs) -> Vec<u64> {
    let mut seqs = Vec::new();
    for n in 1.. {
        let path = Path::new(ROOT).join(format!("catalog/journal/{n:020}.seg"));
        let Some(bytes) = fs.durable_bytes(&path) else {
            break;
        };
        let mut pos = SEGMENT_HEADER_LEN;
        while let Some(Parsed::Record(rec)) = bytes.get(pos..).map(record::parse) {
            seqs.push(rec.header.seq);
            pos += rec.frame_len();
        }
    }
    seqs
}

#[test]
fn every_ok_record_is_durable_when_the_call_returns() {
    let fs = MemFs::new();
    fs.set_sync_delay(Some(Duration::from_micros(300)));
    let opts = Options::default()
        .auto_compact(None)
        .max_segment_bytes(8192)
        .fs(Arc::new(fs.clone()));
    let catalog = Catalog::open_with(ROOT, opts).unwrap();
    let checked = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                let (catalog, fs) = (&catalog, &fs);
                s.spawn(move || {
                    for i in 0..40 {
                        let entry = catalog.put(spec(t * 1000 + i)).unwrap();
                        let durable = durable_seqs(fs);
                        assert!(
                            durable.contains(&entry.updated_seq),
                            "record {} was acknowledged before it was durable",
                            entry.updated_seq
                        );
                    }
                    40
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert_eq!(checked, 320);
    assert!(
        catalog.commit_stats().batches < 320,
        "the threads did race into shared batches"
    );
}
