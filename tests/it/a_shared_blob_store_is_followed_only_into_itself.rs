//! huggingface_hub 2.x keeps a Xet file once per cache, in a shared blob
//! store (`<cache>/blobs/<2 hex>/<xet hash>`, marked by
//! `<cache>/blobs/.huggingface-shared-blobs` holding "1\n"), and makes the
//! repository blob a symlink to it. Adoption follows that symlink only
//! into the marked store, under the hash's own prefix directory, and
//! refuses anything else before anything is written: a store without the
//! marker, a link out of the store, a prefix directory that is a symlink,
//! a store file that is a symlink. (The layout written by huggingface_hub
//! itself is adopted in
//! `caches_written_by_huggingface_hub_are_adopted_as_it_sees_them`.)

use crate::support::layouts::{HfCache, HfRepo, Kind, bytes, commit};
use catalog_core::{AdoptOptions, Catalog, Error, TrustState};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// A cache whose repository `org/shared` has its weights in the shared
/// store; returns the cache, the repository blob and the store file.
fn shared_cache(home: &Path, weights: &[u8]) -> (HfCache, PathBuf, PathBuf) {
    let cache = HfCache::new(&home.join("hub"));
    let repo = cache.repo("org", "shared");
    let c = commit("shared");
    repo.snapshot(&c, &[("model.safetensors", weights, Kind::Lfs)]);
    repo.set_ref("main", &c);
    let blob = repo
        .dir
        .join("blobs")
        .join(HfRepo::blob_name(weights, Kind::Lfs));
    let xet = format!("ab{}", "7".repeat(62));
    let store = cache.hub.join("blobs");
    std::fs::create_dir_all(store.join("ab")).unwrap();
    std::fs::write(store.join(".huggingface-shared-blobs"), "1\n").unwrap();
    let stored = store.join("ab").join(&xet);
    std::fs::rename(&blob, &stored).unwrap();
    symlink(format!("../../blobs/ab/{xet}"), &blob).unwrap();
    (cache, blob, stored)
}

#[test]
fn a_blob_in_the_marked_store_is_adopted_from_the_cache_and_as_one_folder() {
    let home = tempfile::tempdir().unwrap();
    let weights = bytes(20_000, 5);
    let (cache, _, _) = shared_cache(home.path(), &weights);
    for source in [cache.hub.clone(), cache.hub.join("models--org--shared")] {
        let root = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(root.path()).unwrap();
        let report = catalog
            .adopt(&source, AdoptOptions::default(), &|_| {})
            .unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(report.models.len(), 1);
        assert_eq!(report.models[0].trust, TrustState::Verified);
        assert_eq!(report.bytes_written(), 0, "hard-linked, not copied");
    }
}

#[test]
fn anything_but_the_marked_store_is_refused_before_anything_is_written() {
    let weights = bytes(20_000, 6);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), &weights).unwrap();
    type Spoil = Box<dyn Fn(&HfCache, &Path, &Path)>;
    let out = outside.path().to_path_buf();
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "no marker",
            Box::new(|c: &HfCache, _: &Path, _: &Path| {
                std::fs::remove_file(c.hub.join("blobs/.huggingface-shared-blobs")).unwrap();
            }),
        ),
        (
            "a link out of the store",
            Box::new(move |_: &HfCache, blob: &Path, _: &Path| {
                std::fs::remove_file(blob).unwrap();
                symlink(out.join("secret"), blob).unwrap();
            }),
        ),
        ("a prefix directory that is a symlink", {
            let out = outside.path().to_path_buf();
            Box::new(move |c: &HfCache, _: &Path, stored: &Path| {
                let prefix = c.hub.join("blobs/ab");
                std::fs::rename(stored, out.join(stored.file_name().unwrap())).unwrap();
                std::fs::remove_dir(&prefix).unwrap();
                symlink(&out, &prefix).unwrap();
            })
        }),
        ("a store file that is a symlink", {
            let out = outside.path().to_path_buf();
            Box::new(move |_: &HfCache, _: &Path, stored: &Path| {
                std::fs::remove_file(stored).unwrap();
                symlink(out.join("secret"), stored).unwrap();
            })
        }),
    ];
    for (what, spoil) in cases {
        let home = tempfile::tempdir().unwrap();
        let (cache, blob, stored) = shared_cache(home.path(), &weights);
        spoil(&cache, &blob, &stored);
        let root = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(root.path()).unwrap();
        let err = catalog
            .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
            .unwrap_err();
        assert!(matches!(err, Error::UnsafeSource { .. }), "{what}: {err}");
        assert!(catalog.list().is_empty(), "{what}: nothing registered");
    }
}
