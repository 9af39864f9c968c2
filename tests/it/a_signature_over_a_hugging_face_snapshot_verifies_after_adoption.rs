//! model-signing signs a Hugging Face snapshot directory with
//! `--allow_symlinks` (its files are symlinks into `blobs/`); adopted, the
//! snapshot's files are recorded under the same paths, so the signature
//! verifies against the adopted model, and a snapshot whose file was
//! rewritten fails naming it.

use crate::a_model_signing_signature_verifies_and_records_who_signed::{fixtures, policy};
use catalog_core::signature::Failure;
use catalog_core::{AdoptOptions, Catalog, DigestSource, TrustState};
use std::path::Path;

/// Copies a tree, symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if t.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn adopted(tamper: bool) -> (tempfile::TempDir, tempfile::TempDir, Catalog, String) {
    let root = tempfile::tempdir().unwrap();
    let hub = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("hf"), hub.path());
    if tamper {
        // Rewrite the blob behind config.json and rename it to its new
        // digest's name, as a cache edited by hand would look.
        let snap = hub
            .path()
            .join("models--org--tiny/snapshots/0123456789abcdef0123456789abcdef01234567");
        let link = snap.join("config.json");
        let old = snap.join(std::fs::read_link(&link).unwrap());
        let bytes = b"{\"model_type\": \"evil\"}\n";
        let new = old
            .parent()
            .unwrap()
            .join(catalog_core::Digest::of_bytes(bytes).hex());
        std::fs::write(&new, bytes).unwrap();
        std::fs::remove_file(&old).unwrap();
        std::fs::remove_file(&link).unwrap();
        let target = format!("../../blobs/{}", new.file_name().unwrap().to_string_lossy());
        std::os::unix::fs::symlink(target, &link).unwrap();
    }
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(hub.path(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let ids: Vec<String> = catalog.list().into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids[0].clone();
    (root, hub, catalog, id)
}

#[test]
fn the_snapshot_signature_verifies_against_the_adopted_model() {
    let (_root, _hub, catalog, id) = adopted(false);
    let bundle = std::fs::read(fixtures().join("hf.sig")).unwrap();
    let r = catalog
        .verify_signature(&id, &bundle, &policy("p256"))
        .unwrap();
    assert_eq!(r.failure, None, "{}", r.outcome.reason);
    assert_eq!(r.entry.trust, TrustState::Verified);
    assert_eq!(r.entry.digest_source, Some(DigestSource::Signature));
}

#[test]
fn a_rewritten_snapshot_file_fails_naming_it() {
    let (_root, _hub, catalog, id) = adopted(true);
    let bundle = std::fs::read(fixtures().join("hf.sig")).unwrap();
    let r = catalog
        .verify_signature(&id, &bundle, &policy("p256"))
        .unwrap();
    assert_eq!(
        r.failure,
        Some(Failure::Files {
            missing: vec![],
            extra: vec![],
            changed: vec!["config.json".into()]
        })
    );
    assert_eq!(r.entry.trust, TrustState::Failed);
}
