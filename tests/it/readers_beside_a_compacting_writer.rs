//! Read-only opens, refreshes and checks beside a writer that compacts and
//! prunes as fast as it can never fail spuriously.

use catalog_core::{Catalog, EntrySpec, Options};
use std::sync::atomic::{AtomicBool, Ordering};

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(512)
        .keep_snapshots(1)
        .retain_history(false)
}

#[test]
fn readers_never_fail_while_the_writer_compacts_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Catalog::open_with(dir.path(), opts()).unwrap();
    writer
        .put(EntrySpec::new("seed", "hf:org/repo", "blobs/x"))
        .unwrap();
    let stop = AtomicBool::new(false);
    let (opens, checks) = std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..400u64 {
                writer
                    .put(EntrySpec::new(
                        format!("m{}", i % 50),
                        "hf:org/repo",
                        "blobs/x",
                    ))
                    .unwrap();
                if i % 4 == 0 {
                    writer.compact().unwrap();
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        let reader = s.spawn(|| {
            let mut opens = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = Catalog::open_read_only_with(dir.path(), opts())
                    .unwrap_or_else(|e| panic!("read-only open beside a compacting writer: {e}"));
                assert!(r.exists("seed"));
                opens += 1;
            }
            opens
        });
        let checker = s.spawn(|| {
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                let report = Catalog::check(dir.path(), opts(), false).unwrap();
                assert!(
                    report.is_ok(),
                    "check beside a compacting writer: {:?}",
                    report.problems
                );
                checks += 1;
            }
            checks
        });
        (reader.join().unwrap(), checker.join().unwrap())
    });
    assert!(opens > 0 && checks > 0);
}
