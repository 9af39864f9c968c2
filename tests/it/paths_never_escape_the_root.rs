//! Every path the catalog writes or deletes stays under the root: traversal
//! is refused, and symlinks planted inside the store are never followed —
//! not to read, not to delete.

use catalog_core::{Catalog, EntrySpec, Error, ImportOptions, ModelRef, VerifyOptions};
use std::path::Path;

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

#[test]
fn traversal_in_registered_paths_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    for bad in [
        "../outside",
        "blobs/../../x",
        "/etc/passwd",
        "views/./x",
        "a//b",
        "a\\..\\b",
    ] {
        let err = catalog.put(EntrySpec::new("m", "hf:o/r", bad)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err}");
    }
}

#[test]
fn a_symlinked_blob_is_neither_read_nor_deleted_through() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, b"do not touch").unwrap();
    let model = src.path().join("m.gguf");
    std::fs::write(&model, b"weights").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&model), ImportOptions::default().id("m"))
        .unwrap();
    // Replace the blob with a symlink that leads outside the root.
    let blob = catalog.model_path("m").unwrap();
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink(&secret, &blob).unwrap();

    for err in [
        catalog.model_path("m").unwrap_err(),
        catalog
            .verify("m", VerifyOptions::default(), &|_| {})
            .unwrap_err(),
        catalog.evict("m", false).unwrap_err(),
    ] {
        assert!(matches!(err, Error::UnsafePath { .. }), "{err}");
    }
    assert!(catalog.exists("m"), "a refused eviction writes nothing");
    // delete removes the entry; the file removal is best-effort and refuses the link.
    assert!(catalog.delete("m").unwrap());
    assert!(!catalog.exists("m"));
    assert_eq!(std::fs::read(&secret).unwrap(), b"do not touch");
}

#[test]
fn a_symlinked_view_directory_is_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("config.json"), b"outside").unwrap();
    let repo = src.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("config.json"), b"{}").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&repo), ImportOptions::default().id("d"))
        .unwrap();
    let view = catalog.model_path("d").unwrap();
    std::fs::remove_dir_all(&view).unwrap();
    std::os::unix::fs::symlink(outside.path(), &view).unwrap();
    let err = catalog.model_path("d").unwrap_err();
    assert!(matches!(err, Error::UnsafePath { .. }), "{err}");
    assert!(catalog.evict("d", false).is_err());
    assert!(
        outside.path().join("config.json").exists(),
        "nothing outside was touched"
    );
}

#[test]
fn a_root_that_is_itself_a_symlink_works() {
    let real = tempfile::tempdir().unwrap();
    let links = tempfile::tempdir().unwrap();
    let root = links.path().join("models");
    std::os::unix::fs::symlink(real.path(), &root).unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = src.path().join("m.gguf");
    std::fs::write(&model, b"w").unwrap();
    let catalog = Catalog::open(&root).unwrap();
    catalog
        .import(&r(&model), ImportOptions::default().id("m"))
        .unwrap();
    assert!(catalog.model_path("m").unwrap().exists());
    assert_eq!(catalog.evict("m", false).unwrap().bytes_reclaimed, 1);
}
