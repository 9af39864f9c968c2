//! Matrix row 18 (property P5): a move intent is an instruction to rename a
//! staged file to the path it names, anywhere on the node. One planted in
//! `blobs/tmp/` by someone who can write there — another user, or the same
//! user naming a file that is not the one an import moved — must never make
//! a writer open or gc create anything outside the root. Such intents are
//! not acted on; `check` reports them.

use catalog_core::{Catalog, EntrySpec, ProblemKind};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The bytes of a move intent (docs/FORMAT.md §11.5) naming one file.
fn intent(id: &str, staged: &str, source: &Path, inode: u64) -> Vec<u8> {
    let mut out = b"\x89CCMOVE\n".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes()); // version
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    out.extend_from_slice(&0u64.to_le_bytes()); // head_seq
    out.extend_from_slice(&(id.len() as u16).to_le_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // one file
    out.extend_from_slice(&(staged.len() as u16).to_le_bytes());
    out.extend_from_slice(staged.as_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // rel: a one-file model
    let source = source.as_os_str().as_bytes();
    out.extend_from_slice(&(source.len() as u32).to_le_bytes());
    out.extend_from_slice(source);
    out.extend_from_slice(&inode.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A catalog with a store, and a planted staged file and intent naming
/// `target` (outside the root); returns the staged file.
fn plant(root: &Path, target: &Path, inode_of_staged: bool) -> std::path::PathBuf {
    let catalog = Catalog::open(root).unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, b"weights").unwrap();
    let source = catalog_core::ModelRef::parse(&format!("file:{}", file.display())).unwrap();
    catalog
        .import(&source, catalog_core::ImportOptions::default().id("m"))
        .unwrap();
    catalog
        .put(EntrySpec::new("other", "hf:org/other", "blobs/x"))
        .unwrap();
    drop(catalog);
    let tmp = root.join("blobs/tmp");
    let staged = tmp.join("666-0-1.tmp");
    std::fs::write(&staged, b"#!/bin/sh\necho owned\n").unwrap();
    let inode = if inode_of_staged {
        std::fs::metadata(&staged).unwrap().ino()
    } else {
        12345
    };
    std::fs::write(
        tmp.join("move-666-0-1.intent"),
        intent("evil", "666-0-1.tmp", target, inode),
    )
    .unwrap();
    staged
}

fn assert_not_acted_on(root: &Path, target: &Path, staged: &Path) {
    // Every writer open and gc resolves intents: none may act on this one.
    let catalog = Catalog::open(root).unwrap();
    catalog
        .gc(
            catalog_core::GcOptions::default().grace(std::time::Duration::ZERO),
            &|_| {},
        )
        .unwrap();
    drop(catalog);
    assert!(
        !target.exists(),
        "nothing was created outside the root at {}",
        target.display()
    );
    assert!(staged.exists(), "the planted file is left where it is");
    let check = Catalog::check(root, catalog_core::Options::default(), false).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Store && p.file.starts_with(root.join("blobs/tmp"))),
        "check reports it: {:?}",
        check.problems
    );
}

#[test]
fn an_intent_written_by_another_user_is_not_acted_on() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted");
    let staged = plant(root.path(), &target, true);
    let intent = root.path().join("blobs/tmp/move-666-0-1.intent");
    let nobody = 65534;
    if std::os::unix::fs::chown(&intent, Some(nobody), None).is_err()
        || std::fs::metadata(&intent).unwrap().uid() != nobody
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: cannot give a file to another user here (not root)"
        );
        return;
    }
    assert_not_acted_on(root.path(), &target, &staged);
}

#[test]
fn an_intent_naming_a_file_the_import_did_not_move_is_not_acted_on() {
    // Same owner, but the staged file is not the inode the intent recorded
    // (someone put a file under the staging name).
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted");
    let staged = plant(root.path(), &target, false);
    assert_not_acted_on(root.path(), &target, &staged);
}

#[test]
fn a_symlink_under_a_staging_name_is_never_moved_out() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted-link");
    let staged = plant(root.path(), &target, true);
    std::fs::remove_file(&staged).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &staged).unwrap();
    // The recorded inode is the removed file's; a link has another.
    assert_not_acted_on(root.path(), &target, &staged);
    assert!(std::fs::symlink_metadata(&target).is_err());
}
