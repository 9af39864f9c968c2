//! Matrix row 4: power loss, simulated by an in-memory disk that drops,
//! zeroes or garbles unsynced sectors (persisted out of order) and loses
//! unsynced directory operations. Checked at every step of a workload that
//! appends, rotates and compacts: P1–P4 after each simulated loss.

use crate::support::mem_fs::{Call, CrashMode, MemFs};
use catalog_core::{AutoCompact, Catalog, EntrySpec, Options};
use std::io::ErrorKind;
use std::sync::Arc;

const ROOT: &str = "/mem/catalog";

fn opts(fs: &MemFs) -> Options {
    Options::default()
        .fs(Arc::new(fs.clone()))
        .max_segment_bytes(2048)
        .auto_compact(Some(AutoCompact {
            min_journal_bytes: 4096,
            ratio: 1,
        }))
}

fn spec(i: u64) -> EntrySpec {
    // Long references make records span several 512-byte sectors.
    EntrySpec::new(
        format!("m{i:05}"),
        format!("hf:org/repo/{}", "part/".repeat((i % 5) as usize * 30 + 1)),
        "blobs/x",
    )
    .size_bytes(i)
}

#[test]
fn after_a_power_loss_at_any_step_every_acknowledged_put_is_there() {
    let mut crashes = 0;
    for crash_at in 1..120u64 {
        for seed in [crash_at, crash_at * 7 + 3] {
            let fs = MemFs::new();
            let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
            for i in 0..crash_at {
                catalog.put(spec(i)).unwrap();
            }
            // One more put is in flight when the power goes: written, not synced.
            fs.fail_nth(Call::Sync, 1, ErrorKind::Other);
            let in_flight = catalog.put(spec(crash_at)).is_ok();
            drop(catalog);
            fs.crash(CrashMode::Scramble { seed });
            crashes += 1;
            let catalog = Catalog::open_with(ROOT, opts(&fs))
                .unwrap_or_else(|e| panic!("crash at {crash_at}, seed {seed}: open failed: {e}")); // P3
            for i in 0..crash_at {
                assert!(
                    catalog.exists(&spec(i).id),
                    "crash at {crash_at}, seed {seed}: put {i} lost"
                ); // P1
            }
            let n = catalog.len() as u64;
            assert!(
                n == crash_at || n == crash_at + 1,
                "crash at {crash_at}: {n} entries"
            ); // P2
            if in_flight {
                assert!(catalog.exists(&spec(crash_at).id));
            }
            catalog.put(spec(9_999)).unwrap(); // P4
            drop(catalog);
            fs.crash(CrashMode::DropUnsynced);
            assert!(
                Catalog::open_with(ROOT, opts(&fs))
                    .unwrap()
                    .exists(&spec(9_999).id)
            );
        }
    }
    eprintln!("{crashes} simulated power losses, 0 acknowledged records lost");
}

#[test]
fn a_writer_that_resumes_after_a_dead_writer_makes_its_bytes_durable_first() {
    // Writer A dies with a batch in the page cache only. Writer B replays
    // it; a record B then writes claims everything before it is durable, so
    // B must sync A's bytes before writing, or a power loss that keeps B's
    // sector and garbles A's would make the journal look corrupt.
    for seed in 0..200u64 {
        let fs = MemFs::new();
        let a = Catalog::open_with(ROOT, opts(&fs)).unwrap();
        a.put(spec(1)).unwrap();
        // A is killed after writing its batch, before its fdatasync.
        fs.crash_before_call(Call::Sync, 1, CrashMode::Kill);
        assert!(a.put(spec(4)).is_err());
        drop(a);
        fs.revive();
        let b = Catalog::open_with(ROOT, opts(&fs)).unwrap();
        assert!(b.exists(&spec(4).id), "B sees A's record in the page cache");
        fs.fail_nth(Call::Sync, 1, ErrorKind::Other);
        assert!(b.put(spec(3)).is_err());
        drop(b);
        fs.crash(CrashMode::Scramble { seed });
        let c = Catalog::open_with(ROOT, opts(&fs))
            .unwrap_or_else(|e| panic!("seed {seed}: open after power loss failed: {e}"));
        assert!(c.exists(&spec(1).id));
        assert!(
            c.exists(&spec(4).id),
            "seed {seed}: B made A's record durable when it opened"
        );
    }
}
