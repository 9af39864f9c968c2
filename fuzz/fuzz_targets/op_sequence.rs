//! An operation sequence with crash points, checked against a model: the
//! bytes choose operations (put, retire, delete, verify, compact, reopen,
//! power loss, a crash before the n-th file-system call). After every step
//! the catalog equals the model; after a crash it equals the model with or
//! without the operation in flight.
#![no_main]

#[path = "../../tests/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use catalog_core::{
    AutoCompact, Catalog, EntrySpec, Lifecycle, Options, Verification, VerifyResult,
};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::Arc;
use support::mem_fs::{CrashMode, MemFs};

const ROOT: &str = "/fuzz/catalog";
type Model = BTreeMap<String, (Lifecycle, u64)>;

fn opts(fs: &MemFs) -> Options {
    Options::default()
        .fs(Arc::new(fs.clone()))
        .max_segment_bytes(512)
        .auto_compact(Some(AutoCompact { min_journal_bytes: 1024, ratio: 1 }))
        .keep_snapshots(1)
        .retain_history(false)
}

fn observed(c: &Catalog) -> Model {
    c.list().into_iter().map(|e| (e.id, (e.lifecycle, e.size_bytes))).collect()
}

fuzz_target!(|data: &[u8]| {
    let fs = MemFs::new();
    let mut catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    let mut model = Model::new();
    for chunk in data.chunks(3).take(200) {
        let (op, a, b) = (chunk[0] % 10, *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0));
        let id = format!("m{}", a % 8);
        // The effect an operation would have on the model, if it applies.
        let mut next = model.clone();
        let result: Result<(), catalog_core::Error> = match op {
            0 | 1 => {
                next.insert(id.clone(), (Lifecycle::Active, u64::from(b)));
                catalog.put(EntrySpec::new(id.clone(), "hf:org/repo", "blobs/x").size_bytes(u64::from(b))).map(|_| ())
            }
            2 => {
                if let Some(e) = next.get_mut(&id) {
                    e.0 = Lifecycle::Retired;
                }
                catalog.set_state(&id, Lifecycle::Retired).map(|_| ())
            }
            3 => {
                next.remove(&id);
                catalog.delete(&id).map(|_| ())
            }
            4 => catalog.record_verification(&id, Verification::new(VerifyResult::Pass, "ok")).map(|_| ()),
            5 => catalog.compact().map(|_| ()),
            6 => {
                drop(catalog);
                catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
                Ok(())
            }
            7 => {
                drop(catalog);
                fs.crash(CrashMode::Scramble { seed: u64::from(b) });
                catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
                Ok(())
            }
            _ => {
                // Crash before one of the next few file-system calls, during a put.
                fs.crash_before_op(fs.mutating_ops() + 1 + u64::from(b % 6), CrashMode::Scramble { seed: u64::from(a) });
                next.insert(id.clone(), (Lifecycle::Active, 7));
                let r = catalog.put(EntrySpec::new(id.clone(), "hf:org/repo", "blobs/x").size_bytes(7)).map(|_| ());
                if fs.crashed() {
                    drop(catalog);
                    fs.revive();
                    catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
                    let now = observed(&catalog);
                    assert!(now == model || now == next, "after a crash: {now:?} vs {model:?} / {next:?}");
                    if r.is_ok() {
                        assert_eq!(now, next, "an acknowledged put was lost");
                    }
                    model = now;
                    continue;
                }
                fs.revive();
                r
            }
        };
        match result {
            Ok(()) => model = next,
            Err(catalog_core::Error::NotFound { .. }) => assert!(!model.contains_key(&id)),
            Err(e) => panic!("unexpected error: {e}"),
        }
        assert_eq!(observed(&catalog), model);
    }
});
