//! An import either registers the model with verified bytes, or changes
//! nothing the user owns: a refused import puts moved files back; a symlinked
//! source is copied, never moved or linked; a damaged stored file is never
//! trusted because a new copy hashed right.

use catalog_core::{
    Catalog, Digest, Error, ImportOptions, LinkMode, ModelRef, TrustState, VerifyOptions,
    VerifyResult,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

#[test]
fn a_refused_move_import_of_a_directory_puts_every_file_back() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap(); // beside the root: a real move
    let repo = src.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(repo.join("config.json"), b"{}").unwrap();
    std::fs::write(repo.join("sub/weights.bin"), vec![1u8; 10_000]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let wrong = Digest::of_bytes(b"not the manifest");
    let err = catalog
        .import(
            &r(&repo),
            ImportOptions::default()
                .id("d")
                .link(LinkMode::Move)
                .expected(wrong),
        )
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert_eq!(
        std::fs::read(repo.join("config.json")).unwrap(),
        b"{}",
        "moved back"
    );
    assert_eq!(
        std::fs::read(repo.join("sub/weights.bin")).unwrap().len(),
        10_000,
        "moved back"
    );
    assert!(!catalog.exists("d"));
    assert_eq!(
        std::fs::read_dir(root.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("blobs/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn symlinked_sources_are_copied_not_moved_or_linked() {
    // A Hugging Face cache snapshot: files are relative symlinks into blobs/.
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap();
    let blobs = cache.path().join("blobs");
    let snap = cache.path().join("snapshots/abc");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(blobs.join("1111"), b"{\"arch\":\"x\"}").unwrap();
    std::fs::write(blobs.join("2222"), vec![7u8; 5000]).unwrap();
    std::os::unix::fs::symlink("../../blobs/1111", snap.join("config.json")).unwrap();
    std::os::unix::fs::symlink("../../blobs/2222", snap.join("model.safetensors")).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    for (id, mode) in [("moved", LinkMode::Move), ("linked", LinkMode::HardLink)] {
        let report = catalog
            .import(&r(&snap), ImportOptions::default().id(id).link(mode))
            .unwrap();
        assert_eq!(report.files_linked_or_moved, 0, "{id}: symlinks are copied");
        for name in ["config.json", "model.safetensors"] {
            let link = std::fs::symlink_metadata(snap.join(name)).unwrap();
            assert!(
                link.file_type().is_symlink(),
                "{id}: the cache's {name} link is untouched"
            );
        }
    }
    for e in std::fs::read_dir(root.path().join("blobs/sha256")).unwrap() {
        let meta = std::fs::symlink_metadata(e.unwrap().path()).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the store holds regular files only"
        );
    }
    let view = catalog.model_path("moved").unwrap();
    assert_eq!(
        std::fs::read(view.join("model.safetensors")).unwrap(),
        vec![7u8; 5000]
    );
}

#[test]
fn a_damaged_stored_file_is_replaced_by_a_verified_copy_not_trusted() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let a = src.path().join("a.gguf");
    let bytes = vec![3u8; 50_000];
    std::fs::write(&a, &bytes).unwrap();
    let digest = Digest::of_bytes(&bytes);
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&a), ImportOptions::default().id("a"))
        .unwrap();
    // The stored file rots (same length).
    let blob = catalog.model_path("a").unwrap();
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut rotten = bytes.clone();
    rotten[100] ^= 1;
    std::fs::write(&blob, &rotten).unwrap();
    // A pristine copy is imported under another id, with the right digest.
    let b = src.path().join("b.gguf");
    std::fs::write(&b, &bytes).unwrap();
    let report = catalog
        .import(&r(&b), ImportOptions::default().id("b").expected(digest))
        .unwrap();
    assert_eq!(report.entry.trust, TrustState::Verified);
    assert_eq!(
        std::fs::read(&blob).unwrap(),
        bytes,
        "the verified copy replaced the damaged file"
    );
    let full = catalog
        .verify("b", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(full.outcome.result, VerifyResult::Pass);
    let fast = catalog
        .verify("a", VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert_eq!(
        fast.outcome.result,
        VerifyResult::Warn,
        "a's bytes are again those it was imported with; its digest was computed at import, \
         so that is a warning, never a pass: {}",
        fast.outcome.reason
    );
    assert_ne!(fast.entry.trust, TrustState::Failed);
}

#[test]
fn two_imports_of_the_same_directory_under_different_ids_both_succeed() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let repo = src.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for i in 0..20 {
        std::fs::write(repo.join(format!("f{i}")), vec![i as u8; 1000]).unwrap();
    }
    let catalog = Catalog::open(root.path()).unwrap();
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let (catalog, repo) = (&catalog, &repo);
                s.spawn(move || {
                    catalog.import(&r(repo), ImportOptions::default().id(format!("d{t}")))
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap().unwrap();
        }
    });
    let paths: std::collections::BTreeSet<_> = (0..4)
        .map(|t| catalog.model_path(&format!("d{t}")).unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "one shared view");
}
