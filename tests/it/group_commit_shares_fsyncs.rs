//! Concurrent writers in one process share fsyncs: one thread syncs a
//! batch, the others wait until the synced offset covers them. (Counts are
//! asserted, never times.)

use catalog_core::{Catalog, EntrySpec, Options};
use std::sync::Arc;
use std::time::Duration;

/// A catalog on the in-memory file system whose every sync takes `sync`
/// (so that writers queue while a batch is written), opened with `opts`.
fn slow_syncing(sync: Duration, opts: Options) -> Catalog {
    let fs = crate::support::mem_fs::MemFs::new();
    fs.set_sync_delay(Some(sync));
    Catalog::open_with("/mem/root", opts.auto_compact(None).fs(Arc::new(fs))).unwrap()
}

/// `writers` threads at once, each putting `puts` models (`t<t>-<i>`) one
/// after the other, each put answered with its own entry.
fn put_from_threads(catalog: &Catalog, writers: u64, puts: u64) {
    std::thread::scope(|s| {
        for t in 0..writers {
            s.spawn(move || {
                for i in 0..puts {
                    let id = format!("t{t}-{i}");
                    let e = catalog
                        .put(EntrySpec::new(id.clone(), "hf:o/r", "blobs/x"))
                        .unwrap();
                    assert_eq!(e.id, id);
                }
            });
        }
    });
}

#[test]
fn sixteen_writers_share_fsyncs_and_every_put_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    const THREADS: u64 = 16;
    const PUTS: u64 = 40;
    put_from_threads(&catalog, THREADS, PUTS);
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

/// Two writers batch too: a leader whose own record is durable does not
/// flush a lone record for the other writer (the two would then alternate,
/// one record per fsync, each waiting for the other's sync); the other
/// writer flushes it together with the leader's next record. The sync is
/// slowed (1 ms, in-memory file system) so that a writer's next put always
/// comes within it; the count, not a time, is asserted.
#[test]
fn two_writers_share_fsyncs() {
    let catalog = slow_syncing(Duration::from_millis(1), Options::default());
    const PUTS: u64 = 150;
    put_from_threads(&catalog, 2, PUTS);
    let stats = catalog.commit_stats();
    assert_eq!(stats.records, 2 * PUTS);
    assert!(
        stats.batches * 10 <= stats.records * 9,
        "two writers should share most fsyncs: {} batches for {} records",
        stats.batches,
        stats.records
    );
}

/// Four writers, each putting again as soon as it is answered: the leader
/// of a batch waits (up to `commit_linger`) for the records of the writers
/// the last batch answered, so one fsync carries all four instead of two
/// alternating pairs (what the queue alone gives: while one pair's batch
/// is written, the other pair queues). The linger is long here (1 s, capped
/// at half a sync: 10 ms) so that the count does not depend on how fast
/// threads wake on a loaded machine; the sync is slowed (20 ms) so each
/// batch takes long enough for everyone to queue.
#[test]
fn a_leader_waits_for_the_writers_the_last_batch_answered() {
    let run = |linger: Duration| {
        let catalog = slow_syncing(
            Duration::from_millis(20),
            Options::default().commit_linger(linger),
        );
        const WRITERS: u64 = 4;
        const PUTS: u64 = 60;
        put_from_threads(&catalog, WRITERS, PUTS);
        let stats = catalog.commit_stats();
        assert_eq!(stats.records, WRITERS * PUTS);
        assert_eq!(catalog.len() as u64, WRITERS * PUTS);
        stats
    };
    let lingering = run(Duration::from_secs(1));
    assert!(
        lingering.batches * 10 <= lingering.records * 3,
        "four writers should share fsyncs four by four: {} batches for {} records",
        lingering.batches,
        lingering.records
    );
    assert!(lingering.lingered > 0);
    let off = run(Duration::ZERO);
    assert_eq!(off.lingered, 0, "a zero linger never waits");
}

/// A lone writer never waits for company.
#[test]
fn a_lone_writer_never_lingers() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough to be seen if it were taken (the count is asserted).
    let catalog = Catalog::open_with(
        dir.path(),
        Options::default()
            .auto_compact(None)
            .commit_linger(Duration::from_millis(20)),
    )
    .unwrap();
    for i in 0..50 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:o/r", "blobs/x"))
            .unwrap();
    }
    let stats = catalog.commit_stats();
    assert_eq!((stats.records, stats.batches), (50, 50));
    assert_eq!(stats.lingered, 0);
}

/// A writer whose partner stopped waits once at most: the batch after the
/// wait shows it alone.
#[test]
fn a_writer_whose_partner_stopped_waits_once_at_most() {
    let catalog = slow_syncing(
        Duration::from_millis(1),
        Options::default().commit_linger(Duration::from_millis(100)),
    );
    put_from_threads(&catalog, 2, 40);
    let together = catalog.commit_stats();
    assert!(together.lingered > 0, "two writers keep each other company");
    for i in 0..30 {
        catalog
            .put(EntrySpec::new(format!("alone-{i}"), "hf:o/r", "blobs/x"))
            .unwrap();
    }
    let alone = catalog.commit_stats();
    assert_eq!(alone.records - together.records, 30);
    assert!(
        alone.lingered - together.lingered <= 1,
        "waited {} times for a writer that had stopped",
        alone.lingered - together.lingered
    );
}
