//! Downloads that are running or were interrupted are skipped and reported,
//! never registered (let alone as verified): a Hugging Face repository with
//! an `.incomplete` blob (its snapshots may lack files), a snapshot with a
//! dangling symlink, an Ollama manifest whose blob is missing. The rest of
//! the store is adopted.

use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, commit};
use catalog_core::{AdoptOptions, Catalog, SkipKind};

#[test]
fn an_incomplete_blob_or_a_dangling_link_skips_the_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let downloading = cache.repo("org", "downloading");
    let c = commit("d");
    downloading.snapshot(&c, &[("config.json", b"{}", Kind::Git)]);
    downloading.set_ref("main", &c);
    std::fs::write(
        downloading
            .dir
            .join("blobs")
            .join(format!("{}.incomplete", "e".repeat(64))),
        b"half a file",
    )
    .unwrap();
    let dangling = cache.repo("org", "dangling");
    let c2 = commit("x");
    dangling.snapshot(&c2, &[("config.json", b"{ }", Kind::Git)]);
    dangling.set_ref("main", &c2);
    std::os::unix::fs::symlink(
        format!("../../blobs/{}", "f".repeat(64)),
        dangling
            .dir
            .join("snapshots")
            .join(&c2)
            .join("model.safetensors"),
    )
    .unwrap();
    let whole = cache.repo("org", "whole");
    let c3 = commit("w");
    whole.snapshot(&c3, &[("config.json", b"{\"w\":1}", Kind::Git)]);
    whole.set_ref("main", &c3);
    // A ref to a commit that was never downloaded.
    whole.set_ref("v2", &commit("never"));

    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    let ids: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["org/whole"]);
    let skipped: Vec<(String, SkipKind)> = report
        .skipped
        .iter()
        .map(|s| (s.reason.clone(), s.kind))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped.iter().all(|(_, k)| *k == SkipKind::Incomplete),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|(r, _)| r.contains(".incomplete")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|(r, _)| r.contains("dangling")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|(r, _)| r.contains("not cached")),
        "{skipped:?}"
    );
    assert!(!catalog.exists("org/downloading"));
    assert!(!catalog.exists("org/dangling"));
}

#[test]
fn a_manifest_whose_blob_is_missing_is_skipped() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(home.path());
    let gguf = b"GGUF being pulled".to_vec();
    ollama.model(
        ("registry.ollama.ai", "library", "pulling", "latest"),
        b"{}",
        &[(MODEL, &gguf)],
    );
    // Ollama keeps a partial download beside, under another name.
    let blob = ollama.blob_path(&gguf);
    std::fs::rename(
        &blob,
        blob.with_file_name(format!(
            "{}-partial",
            blob.file_name().unwrap().to_str().unwrap()
        )),
    )
    .unwrap();
    ollama.model(
        ("registry.ollama.ai", "library", "ready", "latest"),
        b"{ }",
        &[(MODEL, b"GGUF")],
    );
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&ollama.models, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        report
            .models
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["ready:latest"]
    );
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].kind, SkipKind::Incomplete);
    assert!(
        report.skipped[0].reason.contains("missing"),
        "{:?}",
        report.skipped
    );
    assert!(!catalog.exists("pulling:latest"));
}
