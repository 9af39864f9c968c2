//! Matrix row 9: when a write or an fsync fails (EIO, ENOSPC), the call
//! errs, the in-memory map is unchanged, and the handle is poisoned: no
//! later operation is acknowledged. After a reopen the record is absent or
//! whole, and the catalog works again.

use crate::support::mem_fs::{Call, CrashMode, MemFs};
use crate::support::{as_map, spec};
use catalog_core::{Catalog, Error, Options};
use std::io::ErrorKind;
use std::sync::Arc;

const ROOT: &str = "/mem/catalog";

fn opts(fs: &MemFs) -> Options {
    Options::default()
        .auto_compact(None)
        .fs(Arc::new(fs.clone()))
}

#[test]
fn a_failed_write_or_sync_poisons_the_handle_and_changes_nothing() {
    for (call, kind) in [
        (Call::Sync, ErrorKind::Other),        // EIO on fdatasync
        (Call::Write, ErrorKind::StorageFull), // ENOSPC mid-write
        (Call::Write, ErrorKind::Other),
    ] {
        let fs = MemFs::new();
        let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
        for i in 0..5 {
            catalog.put(spec(i)).unwrap();
        }
        let before = as_map(catalog.list());
        let head = catalog.head();
        fs.fail_nth(call, 1, kind);
        let err = catalog.put(spec(5)).unwrap_err();
        assert!(
            matches!(err, Error::Io { .. }),
            "{call:?}: the call reports the I/O error: {err}"
        );
        assert_eq!(as_map(catalog.list()), before, "{call:?}: map unchanged");
        assert_eq!(catalog.head(), head, "{call:?}");
        for later in [
            catalog.put(spec(6)).map(|_| ()),
            catalog.delete("model-0001").map(|_| ()),
            catalog
                .set_state("model-0002", catalog_core::Lifecycle::Retired)
                .map(|_| ()),
        ] {
            let err = later.unwrap_err();
            assert!(
                matches!(err, Error::Poisoned { .. }),
                "{call:?}: later call: {err}"
            );
            assert!(
                err.to_string().contains("reopen"),
                "the message says what to do"
            );
        }
        assert_eq!(as_map(catalog.list()), before, "{call:?}: reads still work");
        let err = catalog.compact().unwrap_err();
        assert!(
            matches!(err, Error::Poisoned { .. }),
            "{call:?}: compaction must not seal a segment ending in a failed batch: {err}"
        );
        drop(catalog);

        // Without a crash the page cache may hold the record whole: absent or whole.
        let reopened = Catalog::open_with(ROOT, opts(&fs)).unwrap();
        let after = as_map(reopened.list());
        assert!(
            after == before || (after.len() == 6 && after.contains_key("model-0005")),
            "{call:?}: record 5 is absent or whole"
        );
        assert!(
            !reopened.exists("model-0006"),
            "{call:?}: nothing after the failure exists"
        );
        reopened.put(spec(7)).unwrap();
        drop(reopened);

        // And after a power loss too.
        fs.crash(CrashMode::DropUnsynced);
        let crashed = Catalog::open_with(ROOT, opts(&fs)).unwrap();
        assert!(
            crashed.exists("model-0007"),
            "{call:?}: the put after reopen was durable"
        );
        for i in 0..5 {
            assert!(crashed.exists(&spec(i).id));
        }
    }
}

#[test]
fn every_waiter_of_a_failed_batch_is_told_and_none_is_acknowledged() {
    let fs = MemFs::new();
    fs.set_sync_delay(Some(std::time::Duration::from_millis(2)));
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    fs.fail_nth(Call::Sync, 3, ErrorKind::Other);
    let results: Vec<Result<String, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                let catalog = &catalog;
                s.spawn(move || {
                    let mut last = Ok(String::new());
                    for i in 0..20 {
                        last = catalog.put(spec(t * 100 + i)).map(|e| e.id);
                        if last.is_err() {
                            break;
                        }
                    }
                    last
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        results.iter().all(Result::is_err),
        "every thread ends in an error"
    );
    let acknowledged = catalog.list();
    drop(catalog);
    fs.crash(CrashMode::DropUnsynced);
    let reopened = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    for e in acknowledged {
        assert!(reopened.exists(&e.id), "acknowledged {} survived", e.id);
    }
}
