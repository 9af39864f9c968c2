//! Adopting the catalog root, anything beneath it, or a directory that
//! contains it is refused, and so is importing a file that lies inside it
//! (issue 19, N6): the live journal segment and `LOCK` would become store
//! blobs whose next append breaks their digest, and an entry registered in
//! place could sit on a blob that gc later deletes. The paths are compared
//! canonical, and by the root directory's device and inode, so a symlinked
//! parent or a bind mount of the root is caught too. Refused with
//! `Error::CatalogRootOverlap` (exit 2), nothing written.

use crate::cli_support::Cli;
use crate::support::layouts::tree;
use catalog_core::{
    AdoptOptions, Catalog, Digest, Error, ImportOptions, LinkMode, ModelRef, RootOverlap,
};
use std::path::{Path, PathBuf};

/// A catalog at `<tmp>/parent/cat` holding one imported model; returns
/// the temporary directory, the root and the model's blob.
fn catalog_with_a_model() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("parent/cat");
    std::fs::create_dir_all(&root).unwrap();
    let src = tmp.path().join("m.gguf");
    std::fs::write(&src, b"GGUF weights").unwrap();
    let catalog = Catalog::open(&root).unwrap();
    let source = ModelRef::parse(src.to_str().unwrap()).unwrap();
    catalog.import(&source, ImportOptions::default()).unwrap();
    let blob = root
        .join("blobs/sha256")
        .join(Digest::of_bytes(b"GGUF weights").hex());
    assert!(blob.is_file());
    (tmp, root, blob)
}

fn assert_refused(err: &Error, overlap: RootOverlap, what: &str) {
    assert!(
        matches!(err, Error::CatalogRootOverlap { overlap: o, .. } if *o == overlap),
        "{what}: expected {overlap:?}, got {err}"
    );
    let text = err.to_string();
    assert!(text.contains("nothing was written"), "{what}: {text}");
}

#[test]
fn the_root_a_path_beneath_it_or_a_directory_containing_it_is_never_adopted() {
    let (tmp, root, blob) = catalog_with_a_model();
    let parent = root.parent().unwrap().to_path_buf();
    // A second path to the root through a symlinked parent.
    let linked_parent = tmp.path().join("linked");
    std::os::unix::fs::symlink(&parent, &linked_parent).unwrap();
    // A plain directory outside the root whose file is a symlink to a blob.
    let plain = tmp.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("a.json"), b"{}").unwrap();
    std::os::unix::fs::symlink(&blob, plain.join("w.gguf")).unwrap();
    let catalog = Catalog::open(&root).unwrap();
    let before = tree(&root);
    let cases: [(&Path, RootOverlap); 7] = [
        (&root, RootOverlap::Root),
        (&root.join("catalog"), RootOverlap::Inside),
        (&root.join("catalog/journal"), RootOverlap::Inside),
        (&blob, RootOverlap::Inside),
        (&parent, RootOverlap::Contains),
        (&linked_parent.join("cat"), RootOverlap::Root),
        (&plain, RootOverlap::Inside),
    ];
    for (path, overlap) in cases {
        for opts in [
            AdoptOptions::default(),
            AdoptOptions::default().in_place(true),
            AdoptOptions::default().dry_run(true),
        ] {
            let what = format!("{} {opts:?}", path.display());
            let err = catalog.adopt(path, opts, &|_| {}).unwrap_err();
            if path == plain {
                // A symlink out of a source directory is refused as such
                // first (FORMAT.md §11.7), wherever it leads.
                assert!(
                    matches!(err, Error::UnsafeSource { .. }),
                    "{what}: expected UnsafeSource, got {err}"
                );
                continue;
            }
            assert_refused(&err, overlap, &what);
        }
        assert_eq!(tree(&root), before, "{}: nothing written", path.display());
    }
    assert_eq!(catalog.len(), 1);
}

#[test]
fn a_file_inside_the_root_is_never_imported() {
    let (_tmp, root, blob) = catalog_with_a_model();
    let catalog = Catalog::open(&root).unwrap();
    let before = tree(&root);
    let lock = root.join("catalog/LOCK");
    let cases: [(&Path, RootOverlap); 4] = [
        (&blob, RootOverlap::Inside),
        (&lock, RootOverlap::Inside),
        (&root, RootOverlap::Root),
        (root.parent().unwrap(), RootOverlap::Contains),
    ];
    for (path, overlap) in cases {
        for link in [LinkMode::Copy, LinkMode::HardLink, LinkMode::Move] {
            let source = ModelRef::parse(path.to_str().unwrap()).unwrap();
            let opts = ImportOptions::default().id("x").link(link);
            let err = catalog.import(&source, opts).unwrap_err();
            assert_refused(&err, overlap, &format!("{} {link:?}", path.display()));
            assert_eq!(tree(&root), before, "{}: nothing written", path.display());
        }
    }
    assert!(!catalog.exists("x"));
}

/// Unmounts a bind mount when dropped (before the directories go).
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_bind_mount_of_the_root_is_caught_by_device_and_inode() {
    let (tmp, root, _) = catalog_with_a_model();
    let other = tmp.path().join("bound");
    std::fs::create_dir(&other).unwrap();
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(&root)
        .arg(&other)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot bind-mount here (needs CAP_SYS_ADMIN)");
        return;
    }
    let _guard = Mounted(other.clone());
    let catalog = Catalog::open(&root).unwrap();
    let before = tree(&root);
    let err = catalog
        .adopt(&other, AdoptOptions::default(), &|_| {})
        .unwrap_err();
    assert_refused(&err, RootOverlap::Root, "the bind mount");
    let err = catalog
        .adopt(&other.join("blobs"), AdoptOptions::default(), &|_| {})
        .unwrap_err();
    assert_refused(&err, RootOverlap::Inside, "blobs/ through the bind mount");
    let source = ModelRef::parse(other.join("catalog/LOCK").to_str().unwrap()).unwrap();
    let err = catalog
        .import(&source, ImportOptions::default().id("x"))
        .unwrap_err();
    assert_refused(&err, RootOverlap::Inside, "LOCK through the bind mount");
    assert_eq!(tree(&root), before, "nothing written");
}

#[test]
fn the_command_line_exits_2_and_writes_nothing() {
    let cli = Cli::new();
    let file = cli.write_src("m.gguf", b"GGUF cli weights");
    cli.ok(&["add", file.to_str().unwrap()]);
    let blob = cli
        .root()
        .join("blobs/sha256")
        .join(Digest::of_bytes(b"GGUF cli weights").hex());
    let before = tree(cli.root());
    let root = cli.root().to_str().unwrap().to_owned();
    for args in [
        vec!["adopt", root.as_str()],
        vec!["adopt", "--in-place", root.as_str()],
        vec!["adopt", "--dry-run", root.as_str()],
        vec!["add", "--link", "move", "--id", "x", blob.to_str().unwrap()],
    ] {
        let out = cli.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("catalog root"), "{args:?}: {stderr}");
        assert_eq!(tree(cli.root()), before, "{args:?}: nothing written");
    }
    assert!(blob.is_file(), "the blob is where it was");
}
