//! Concurrent writers in one process share fsyncs: one thread syncs a
//! batch, the others wait until the synced offset covers them. (Counts are
//! asserted, never times.)

mod support;

use catalog_core::{Catalog, EntrySpec, Options};

#[test]
fn sixteen_writers_share_fsyncs_and_every_put_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    const THREADS: u64 = 16;
    const PUTS: u64 = 40;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let catalog = &catalog;
            s.spawn(move || {
                for i in 0..PUTS {
                    let id = format!("t{t}-{i}");
                    let e = catalog
                        .put(EntrySpec::new(id.clone(), "hf:o/r", "blobs/x"))
                        .unwrap();
                    assert_eq!(e.id, id);
                }
            });
        }
    });
    let stats = catalog.commit_stats();
    assert_eq!(stats.records, THREADS * PUTS);
    assert!(
        stats.batches < stats.records,
        "writers shared batches: {} batches for {} records",
        stats.batches,
        stats.records
    );
    assert_eq!(
        stats.fsyncs, stats.batches,
        "one fsync per batch (no rotation here)"
    );
    let seqs: std::collections::BTreeSet<u64> =
        catalog.list().iter().map(|e| e.updated_seq).collect();
    assert_eq!(
        seqs.len() as u64,
        THREADS * PUTS,
        "every put got its own sequence number"
    );
    drop(catalog);
    let reopened = Catalog::open(dir.path()).unwrap();
    assert_eq!(reopened.len() as u64, THREADS * PUTS);
    assert_eq!(reopened.head().seq, THREADS * PUTS);
}
