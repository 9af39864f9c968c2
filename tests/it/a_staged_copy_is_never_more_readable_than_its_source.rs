//! Issue 19, attacked after the fix: "copies keep no wider read bits than
//! the source". A copy is written under `blobs/tmp/` first, and only the
//! blob published from it gets the source's read bits. The staged file is
//! created `0666 & !umask`: 0644 under the usual umask, in a store whose
//! directories are 0755. Anyone on the node can open it while it is being
//! written and keep reading it through that descriptor after the chmod.
//! The staged copy of a 0600 source must never be readable by group or
//! others, at any moment.
//!
//! Failed before the fix (the attack of 2026-12-07) under a umask that leaves group or
//! others' read bits: the staged copy is 0644 for as long as the copy and
//! its fsync take. With the `catalog` binary running as root, `nobody`
//! polling `blobs/tmp/` read every byte of a root-owned 0600 file of 64 MiB,
//! and of 40-byte ones (5 of 5), that `catalog add` copied; with a symlink
//! `m.gguf -> /root/secret` of its own (a file named through a symlink is
//! copied from wherever it leads) it reads any file root can.

use catalog_core::{Catalog, ImportOptions, ModelRef};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Large enough that copying it takes a while.
const LEN: usize = 64 << 20;

#[test]
fn the_staged_copy_of_a_private_file_is_private_while_it_is_written() {
    let base = tempfile::tempdir().unwrap();
    let source = base.path().join("private.gguf");
    let mut bytes = vec![0x5au8; LEN];
    bytes[..4].copy_from_slice(b"GGUF");
    std::fs::write(&source, &bytes).unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o600)).unwrap();
    let root = base.path().join("root");
    let catalog = Catalog::open(&root).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let (seen, widest) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU32::new(0)));
    let watcher = {
        let (stop, seen, widest) = (stop.clone(), seen.clone(), widest.clone());
        let staging = root.join("blobs/tmp");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir(&staging).into_iter().flatten().flatten() {
                    if let Ok(meta) = entry.metadata()
                        && meta.is_file()
                    {
                        seen.fetch_add(1, Ordering::Relaxed);
                        widest.fetch_or(meta.permissions().mode() & 0o777, Ordering::Relaxed);
                    }
                }
                std::thread::yield_now();
            }
        })
    };
    let model = ModelRef::parse(&format!("file:{}", source.display())).unwrap();
    let report = catalog.import(&model, ImportOptions::default().id("private"));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let report = report.unwrap();

    let (seen, widest) = (seen.load(Ordering::Relaxed), widest.load(Ordering::Relaxed));
    assert!(
        seen > 0,
        "the staged copy was seen at least once while it was written (the test can tell)"
    );
    assert_eq!(
        widest & 0o044,
        0,
        "the staged copy of a 0600 source was readable by group or others (mode bits seen \
         {widest:o}, {seen} looks): anyone could open it and keep reading"
    );
    let blob = root.join(&report.entry.local_path);
    let mode = std::fs::metadata(&blob).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o044, 0, "the published blob is private: {mode:o}");
}
