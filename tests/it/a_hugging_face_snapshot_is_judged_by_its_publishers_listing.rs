//! huggingface_hub 2.x keeps the publisher's listing of a commit beside its
//! snapshot (`trees/<commit>.json`), and adoption takes it as the
//! reference (built by hand here, so it runs without Python; the same
//! cases written by huggingface_hub itself are in
//! `caches_written_by_huggingface_hub_are_adopted_as_it_sees_them`): a
//! snapshot missing a listed file is skipped as incomplete, a file it does
//! not list is left out and reported as unlisted, a real file (no symlink)
//! is checked against the listing's digest — a changed byte fails it — and
//! a stale `.incomplete` left beside its finished blob skips nothing.

use crate::support::layouts::{HfCache, HfRepo, Kind, bytes, commit};
use catalog_core::{AdoptOptions, Catalog, SkipKind, TrustState};

#[test]
fn a_snapshot_lacking_a_listed_file_is_incomplete_and_an_unlisted_file_is_left_out() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let weights = bytes(50_000, 7);
    let config = b"{\"a\": 1}".to_vec();
    let listed: [(&str, &[u8], Kind); 2] = [
        ("config.json", &config, Kind::Git),
        ("model.safetensors", &weights, Kind::Lfs),
    ];
    let partial = cache.repo("org", "partial");
    let c = commit("partial");
    partial.snapshot(&c, &listed[..1]);
    partial.listing(&c, &listed);
    partial.set_ref("main", &c);
    let extra = cache.repo("org", "extra");
    let c2 = commit("extra");
    extra.snapshot(&c2, &listed);
    extra.link(&c2, "notes.txt", b"mine", Kind::Git);
    extra.listing(&c2, &listed);
    extra.set_ref("main", &c2);

    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    let ids: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["org/extra"], "{:?}", report.skipped);
    assert_eq!(report.models[0].trust, TrustState::Verified);
    let files: Vec<String> = catalog
        .get("org/extra")
        .unwrap()
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(files, ["config.json", "model.safetensors"]);
    let skipped: Vec<(SkipKind, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.kind, s.path.file_name().unwrap().to_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            (SkipKind::Unlisted, "notes.txt"),
            (SkipKind::Incomplete, c.as_str())
        ],
        "{:?}",
        report.skipped
    );
    let partial_reason = &report.skipped[1].reason;
    assert!(
        partial_reason.contains("1 of the 2 files") && partial_reason.contains("model.safetensors"),
        "{partial_reason}"
    );
    assert_eq!(SkipKind::Unlisted.as_str(), "unlisted");
}

#[test]
fn a_real_file_is_checked_against_the_listing_and_a_changed_byte_fails_it() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let weights = bytes(40_000, 9);
    let config = b"{\"b\": 2}".to_vec();
    let listed: [(&str, &[u8], Kind); 2] = [
        ("config.json", &config, Kind::Git),
        ("model.safetensors", &weights, Kind::Lfs),
    ];
    for (name, flip) in [("good", false), ("flipped", true)] {
        let repo = cache.repo("org", name);
        let c = commit(name);
        let snap = repo.dir.join("snapshots").join(&c);
        std::fs::create_dir_all(&snap).unwrap();
        let mut w = weights.clone();
        if flip {
            w[123] ^= 1;
        }
        std::fs::write(snap.join("model.safetensors"), &w).unwrap();
        std::fs::write(snap.join("config.json"), &config).unwrap();
        repo.listing(&c, &listed);
        repo.set_ref("main", &c);
    }
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    let trust: Vec<(&str, TrustState)> = report
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.trust))
        .collect();
    assert_eq!(
        trust,
        [
            ("org/flipped", TrustState::Failed),
            ("org/good", TrustState::Verified)
        ]
    );
    assert!(report.failed());
}

#[test]
fn a_stale_incomplete_file_beside_its_finished_blob_skips_nothing() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let weights = bytes(30_000, 3);
    let repo = cache.repo("org", "stalled");
    let c = commit("stalled");
    repo.snapshot(&c, &[("model.safetensors", &weights, Kind::Lfs)]);
    repo.set_ref("main", &c);
    // A killed download (huggingface_hub 2.x names it <etag>.<8 hex>.incomplete);
    // a later one finished the blob. No listing: the name alone says it is stale.
    let etag = HfRepo::blob_name(&weights, Kind::Lfs);
    std::fs::write(
        repo.dir
            .join("blobs")
            .join(format!("{etag}.0a1b2c3d.incomplete")),
        &weights[..100],
    )
    .unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.models.len(), 1);
    assert_eq!(report.models[0].trust, TrustState::Verified);
}
