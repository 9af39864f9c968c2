//! Issue 19, attacked after the fix. The owner of a model registered in
//! place can make a file of it sparse and huge (`truncate -s 15T`: no disk
//! used, ext4 allows up to 16 TiB). `verify` (and `verify --fast`, whose
//! last outcome then no longer holds) hashes a file to its end, whatever
//! its registered size, while it holds the writer lock: every other writer
//! gets "busy" for hours (15 TiB at 2 GB/s is two hours a file). A
//! verification must finish quickly, and fail, when a file is not the size
//! that was registered.
//!
//! Failed before the fix (the attack of 2026-12-07): still hashing at the deadline. With
//! the `catalog` binary as root on `nobody`'s 15 TiB sparse file, `catalog
//! verify` was still hashing after 30 s and `catalog activate` meanwhile
//! exited 3 (busy).

use catalog_core::{AdoptOptions, Catalog, VerifyOptions, VerifyResult};
use std::sync::mpsc;
use std::time::Duration;

/// The file's size once its owner grew it: 64 GiB (sparse: no disk
/// used), half a minute of hashing at 2 GB/s; 15 TiB works as well.
const GROWN: u64 = 64 << 30;
/// A verification that reads no more than the registered size takes
/// milliseconds.
const DEADLINE: Duration = Duration::from_secs(5);

#[test]
fn a_file_grown_sparse_to_64_gib_fails_verification_quickly() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    std::fs::write(dir.join("w.bin"), vec![7u8; 1 << 20]).unwrap();
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let report = catalog
        .adopt(&dir, AdoptOptions::default().in_place(true), &|_| {})
        .unwrap();
    let id = report.models[0].id.clone();
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("w.bin"))
        .unwrap()
        .set_len(GROWN)
        .unwrap();

    let (tx, rx) = mpsc::channel();
    let verifier = catalog.clone();
    // Left running if it hashes on (at most ~30 s): the test binary ends it.
    std::thread::spawn(move || {
        let _ = tx.send(verifier.verify(&id, VerifyOptions::default(), &|_| {}));
    });
    let report = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| {
            panic!(
                "verify still hashing after {DEADLINE:?}: it reads a file of {GROWN} bytes \
                 registered with 1 MiB to its end"
            )
        })
        .unwrap();
    assert_eq!(
        report.outcome.result,
        VerifyResult::Fail,
        "a file of another size fails: {}",
        report.outcome.reason
    );
}
