//! A store file that cannot be removed, or a store directory that cannot be
//! synced, is named in the report of the operation that tried: `evict`,
//! `delete` (through `delete_with_report`) and `gc`, including the
//! evictions its size budget makes. The record is written all the same and
//! the file is left for a later gc.

use crate::support::mem_fs::{Call, MemFs};
use catalog_core::{Catalog, GcOptions, ImportOptions, Lifecycle, ModelRef, Options};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ROOT: &str = "/mem/catalog";

/// A catalog on `fs` with the one-file model `m` imported from `/src`.
fn catalog_with_model(fs: &MemFs) -> (Catalog, PathBuf) {
    use catalog_core::fs::Fs;
    fs.create_dir_all(Path::new("/src")).unwrap();
    let mut f = fs.create(Path::new("/src/m.gguf")).unwrap();
    f.write_all(&[5u8; 4096]).unwrap();
    f.sync_data().unwrap();
    let catalog = Catalog::open_with(
        ROOT,
        Options::default()
            .auto_compact(None)
            .fs(Arc::new(fs.clone())),
    )
    .unwrap();
    let source = ModelRef::parse("file:/src/m.gguf").unwrap();
    catalog
        .import(&source, ImportOptions::default().id("m"))
        .unwrap();
    let blob = catalog.model_path("m").unwrap();
    (catalog, blob)
}

/// Whether `errors` names `path`.
fn names(errors: &[(PathBuf, String)], path: &Path) -> bool {
    errors.iter().any(|(p, _)| p == path)
}

#[test]
fn evict_names_the_file_it_could_not_remove_and_the_directory_it_could_not_sync() {
    let fs = MemFs::new();
    let (catalog, blob) = catalog_with_model(&fs);
    fs.fail_nth(Call::Remove, 1, ErrorKind::Other);
    fs.fail_nth(Call::SyncDir, 1, ErrorKind::Other);
    let r = catalog.evict("m", false).unwrap();
    assert!(names(&r.errors, &blob), "the blob is named: {r:?}");
    assert_eq!(r.errors.len(), 2, "and one directory sync: {r:?}");
    assert!(
        !catalog.exists("m"),
        "the eviction is recorded all the same"
    );
    assert!(fs.bytes(&blob).is_some(), "the blob is left for gc");
}

#[test]
fn delete_with_report_names_the_file_it_could_not_remove() {
    let fs = MemFs::new();
    let (catalog, blob) = catalog_with_model(&fs);
    fs.fail_nth(Call::Remove, 1, ErrorKind::Other);
    let r = catalog
        .delete_with_report("m")
        .unwrap()
        .expect("m was in the catalog");
    assert_eq!(r.id, "m");
    assert!(names(&r.errors, &blob), "the blob is named: {r:?}");
    assert_eq!(r.files_removed, 0, "{r:?}");
    assert!(
        !catalog.exists("m"),
        "the deletion is recorded all the same"
    );
    assert!(
        catalog.delete_with_report("m").unwrap().is_none(),
        "deleting a missing id reports nothing"
    );

    // Without a fault the report is clean and the file is gone.
    let fs = MemFs::new();
    let (catalog, blob) = catalog_with_model(&fs);
    let r = catalog.delete_with_report("m").unwrap().unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!((r.files_removed, r.bytes_reclaimed), (1, 4096), "{r:?}");
    assert!(fs.bytes(&blob).is_none());
}

#[test]
fn gc_reports_what_the_evictions_of_its_size_budget_could_not_remove() {
    let fs = MemFs::new();
    let (catalog, blob) = catalog_with_model(&fs);
    catalog.set_state("m", Lifecycle::Retired).unwrap();
    fs.fail_nth(Call::Remove, 1, ErrorKind::Other);
    let r = catalog
        .gc(GcOptions::default().max_bytes(0), &|_| {})
        .unwrap();
    assert_eq!(r.evicted, vec!["m".to_string()], "{r:?}");
    assert!(
        names(&r.errors, &blob),
        "the blob the eviction could not remove is named: {r:?}"
    );
}

#[test]
fn gc_names_the_directory_it_could_not_sync() {
    let fs = MemFs::new();
    let (catalog, _) = catalog_with_model(&fs);
    fs.fail_nth(Call::SyncDir, 1, ErrorKind::Other);
    let r = catalog.gc(GcOptions::default(), &|_| {}).unwrap();
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert!(r.errors[0].0.starts_with(ROOT), "{r:?}");
}
