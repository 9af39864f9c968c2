//! Matrix row 18 (finding F9): a directory of the store layout (`blobs`,
//! `blobs/sha256`, `blobs/tmp`, `views`) replaced by a symlink to a
//! directory outside the root. Import, gc and evict refuse with
//! `Error::UnsafePath` before writing anything, and nothing outside the
//! root is written or removed.

use catalog_core::{Catalog, Digest, Error, GcOptions, ImportOptions, ModelRef};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn import_gc_and_evict_refuse_a_symlinked_store_directory_and_touch_nothing_outside() {
    for planted in ["blobs", "blobs/sha256", "blobs/tmp", "views"] {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(root.path()).unwrap();
        // A model in the store (one file), and a multi-file one (a view).
        std::fs::write(src.path().join("one.gguf"), b"one").unwrap();
        catalog
            .import(
                &r(&src.path().join("one.gguf")),
                ImportOptions::default().id("one"),
            )
            .unwrap();
        std::fs::create_dir_all(src.path().join("repo")).unwrap();
        std::fs::write(src.path().join("repo/config.json"), b"{}").unwrap();
        catalog
            .import(
                &r(&src.path().join("repo")),
                ImportOptions::default().id("repo"),
            )
            .unwrap();

        // The outside directory looks like the store directory it replaces:
        // files gc would take for orphans, views, staging files.
        let d = Digest::of_bytes(b"outside");
        std::fs::create_dir_all(outside.path().join("sha256")).unwrap();
        std::fs::create_dir_all(outside.path().join("tmp")).unwrap();
        std::fs::create_dir_all(outside.path().join(d.hex())).unwrap();
        for p in [
            outside.path().join(d.hex()).join("config.json"),
            outside.path().join("sha256").join(d.hex()),
            outside.path().join("tmp/1-2-3.tmp"),
            outside.path().join("1-2-3.tmp"),
        ] {
            std::fs::write(p, b"not the catalog's").unwrap();
        }
        std::fs::write(outside.path().join(Digest::of_bytes(b"x").hex()), b"x").unwrap();
        let before = snapshot(outside.path());

        let dir = root.path().join(planted);
        std::fs::rename(
            &dir,
            root.path()
                .join(format!("{}.real", planted.replace('/', "-"))),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), &dir).unwrap();

        std::fs::write(src.path().join("new.gguf"), b"new model").unwrap();
        let imported = catalog.import(
            &r(&src.path().join("new.gguf")),
            ImportOptions::default().id("new"),
        );
        assert!(
            matches!(imported, Err(Error::UnsafePath { .. })),
            "{planted}: import: {imported:?}"
        );
        assert!(!catalog.exists("new"), "{planted}: nothing registered");
        let collected = catalog.gc(GcOptions::default().grace(Duration::ZERO), &|_| {});
        assert!(
            matches!(collected, Err(Error::UnsafePath { .. })),
            "{planted}: gc: {collected:?}"
        );
        for id in ["one", "repo"] {
            let evicted = catalog.evict(id, false);
            assert!(
                matches!(evicted, Err(Error::UnsafePath { .. })),
                "{planted}: evict {id}: {evicted:?}"
            );
            assert!(
                catalog.exists(id),
                "{planted}: a refused eviction writes nothing"
            );
        }
        assert_eq!(
            snapshot(outside.path()),
            before,
            "{planted}: nothing outside the root was written or removed"
        );
        assert!(
            src.path().join("new.gguf").exists(),
            "{planted}: the source is untouched"
        );
    }
}
