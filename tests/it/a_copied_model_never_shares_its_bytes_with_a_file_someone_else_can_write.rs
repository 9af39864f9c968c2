//! Issue 19, attacked after the fix. An adoption (and a `--link hardlink`
//! import) puts the publisher's own inode into the store as the blob: its
//! owner can still write it ("a later change to the source shows up as a
//! failed verification"). Deduplication then shares that blob with any
//! model imported later with the same bytes: `catalog add` of root's own
//! copy finds the blob "already stored" and the new model's file *is* the
//! user's inode. The user rewrites their file and root's model changes
//! with it (and, written through a shared mapping, even `verify --fast`
//! does not notice: see
//! `a_file_rewritten_through_a_shared_mapping_never_passes_the_fast_path`).
//!
//! A model imported by copy must never end up sharing an inode that a
//! source's owner can write: rewriting the adopted source leaves the
//! copied model's bytes as they were.
//!
//! Failed before the fix (the attack of 2026-12-07): the copied model's bytes change. Shown
//! with the `catalog` binary as root: `nobody` adopted (linked) a public
//! 2 MiB file, root then added its own copy of it (`stored 0 B,
//! deduplicated 2.0 MiB`), the blob was `nobody`'s inode, and `nobody`
//! wrote `EVIL` into root's model.

use catalog_core::{AdoptOptions, Catalog, ImportOptions, ModelRef};
use std::os::unix::fs::FileExt;

#[test]
fn rewriting_an_adopted_file_never_changes_a_model_copied_later() {
    let base = tempfile::tempdir().unwrap();
    let public = vec![0x42u8; 1 << 20];
    let user = base.path().join("user/llm");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("w.bin"), &public).unwrap();
    let own = base.path().join("own/model.gguf");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    std::fs::write(&own, &public).unwrap();
    let root = base.path().join("root");
    let catalog = Catalog::open(&root).unwrap();
    catalog
        .adopt(&user, AdoptOptions::default(), &|_| {})
        .unwrap();
    let source = ModelRef::parse(&format!("file:{}", own.display())).unwrap();
    let report = catalog
        .import(&source, ImportOptions::default().id("own"))
        .unwrap();

    std::fs::OpenOptions::new()
        .write(true)
        .open(user.join("w.bin"))
        .unwrap()
        .write_all_at(b"EVIL", 0)
        .unwrap();
    let stored = std::fs::read(root.join(&report.entry.local_path)).unwrap();
    assert!(
        stored == public,
        "the model copied from {} changed when the adopted {} was rewritten (it starts \
         {:?}): they share an inode",
        own.display(),
        user.join("w.bin").display(),
        String::from_utf8_lossy(&stored[..4])
    );
}
