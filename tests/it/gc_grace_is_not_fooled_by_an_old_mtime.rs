//! Matrix row 17 (finding F1, part d): gc's grace period is measured from a
//! time the source cannot bring along. A file moved into the store keeps
//! its modification time (rename does not change it), so an old model file
//! moved in by an import that never registered it looked ancient to gc and
//! was deleted at once, with the default grace. The inode change time is
//! set by the move itself, so the file is young and kept.

use catalog_core::{Catalog, Digest, GcOptions};
use std::time::{Duration, SystemTime};

fn old_file(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    let two_days_ago = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
}

#[test]
fn files_moved_into_the_store_with_an_old_mtime_survive_gc_with_the_default_grace() {
    let root = tempfile::tempdir().unwrap();
    // The user's model files, last modified two days ago, on the same file
    // system as the store (so an import moves them instead of copying),
    // beside its root.
    let src = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    std::fs::create_dir_all(root.path().join("blobs/tmp")).unwrap();
    std::fs::create_dir_all(root.path().join("blobs/sha256")).unwrap();

    // 1. Moved into staging by an import that was then killed.
    let staged_bytes = vec![5u8; 4096];
    let a = src.path().join("a.gguf");
    old_file(&a, &staged_bytes);
    let staged = root.path().join("blobs/tmp/4242-0-1700000000000.tmp");
    std::fs::rename(&a, &staged).unwrap();

    // 2. Moved in and published under its digest, never registered.
    let blob_bytes = vec![6u8; 4096];
    let b = src.path().join("b.gguf");
    old_file(&b, &blob_bytes);
    let moved = root.path().join("blobs/tmp/4242-1-1700000000000.tmp");
    std::fs::rename(&b, &moved).unwrap();
    let blob = root
        .path()
        .join("blobs/sha256")
        .join(Digest::of_bytes(&blob_bytes).hex());
    std::fs::hard_link(&moved, &blob).unwrap();
    std::fs::remove_file(&moved).unwrap();

    let report = catalog.gc(GcOptions::default(), &|_| {}).unwrap();
    assert!(
        std::fs::read(&staged).ok() == Some(staged_bytes),
        "a staged file moved in moments ago is younger than the grace period ({report:?})"
    );
    assert!(
        std::fs::read(&blob).ok() == Some(blob_bytes),
        "a blob published moments ago is younger than the grace period ({report:?})"
    );
    assert_eq!(report.files_removed, 0, "{report:?}");
    assert_eq!(report.skipped_young, 2, "{report:?}");
}
