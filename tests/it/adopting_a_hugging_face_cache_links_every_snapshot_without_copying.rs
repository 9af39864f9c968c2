//! `Catalog::adopt` of a Hugging Face hub cache built byte for byte as
//! huggingface_hub lays it out: one entry per snapshot (`org/name` for
//! `main`, `org/name@<short commit>` for any other; other refs are its
//! aliases), referenced by commit; every file followed through its
//! symlink, hard-linked into the store (the same inode: zero bytes
//! copied), read once — a blob shared by snapshots too — and checked
//! against its blob name (SHA-256 for LFS files, the git blob id for small
//! ones): verified, with digest source `publisher`.

use crate::support::layouts::{HfCache, HfRepo, Kind, bytes, commit, git_blob_hex, sha256_hex};
use catalog_core::{
    AdoptAction, AdoptOptions, Catalog, DigestSource, SourceLayout, TrustState, VerifyOptions,
};
use std::os::unix::fs::MetadataExt;

#[test]
fn every_snapshot_a_ref_points_to_is_adopted_by_hard_link_and_verified() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&home.path().join("hub"));
    let weights = bytes(300_000, 1);
    let config = br#"{"architectures": ["LlamaForCausalLM"]}"#.to_vec();
    let tokenizer = bytes(5_000, 2);
    let weights_v2 = bytes(200_000, 3);
    let repo = cache.repo("org", "llama");
    let (main, pr, old) = (commit("main"), commit("pr"), commit("old"));
    repo.snapshot(
        &main,
        &[
            ("model.safetensors", &weights, Kind::Lfs),
            ("config.json", &config, Kind::Git),
            ("sub/tokenizer.json", &tokenizer, Kind::Git),
        ],
    );
    // A pull request revision sharing the LFS blob; a detached snapshot.
    repo.snapshot(
        &pr,
        &[
            ("model.safetensors", &weights, Kind::Lfs),
            ("config.json", &config, Kind::Git),
        ],
    );
    repo.snapshot(&old, &[("model.safetensors", &weights_v2, Kind::Lfs)]);
    repo.set_ref("main", &main);
    repo.set_ref("refs/pr/1", &pr);
    let other = cache.repo("Qwen", "Qwen2-0.5B");
    let tagged = commit("tagged");
    other.snapshot(&tagged, &[("model.gguf", b"GGUF small", Kind::Lfs)]);
    other.set_ref("v1.0", &tagged);

    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.layout, SourceLayout::HfCache);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let mut ids: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    ids.sort();
    let short = &old[..7];
    assert_eq!(
        ids,
        [
            format!("Qwen/Qwen2-0.5B@{}", &tagged[..7]),
            "org/llama".to_string(),
            format!("org/llama@{short}"),
            format!("org/llama@{}", &pr[..7]),
        ]
    );
    assert!(report.models.iter().all(|m| m.action == AdoptAction::Added));
    assert_eq!(report.bytes_written(), 0, "nothing copied");
    assert!(!report.failed());
    // Each distinct blob was read once, though two snapshots share one.
    let distinct = weights.len() + config.len() + tokenizer.len() + weights_v2.len() + 10;
    assert_eq!(report.bytes_hashed(), distinct as u64);

    let e = catalog.get("org/llama").unwrap();
    assert_eq!(e.model_ref, format!("hf:org/llama@{main}"));
    assert_eq!(e.trust, TrustState::Verified);
    assert_eq!(e.digest_source, Some(DigestSource::Publisher));
    assert!(!e.external);
    let files: Vec<(&str, String, Option<String>)> = e
        .files
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.digest.hex(),
                f.publisher_digest.map(|d| d.to_string()),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                "config.json",
                sha256_hex(&config),
                Some(format!("git-sha1:{}", git_blob_hex(&config)))
            ),
            ("model.safetensors", sha256_hex(&weights), None),
            (
                "sub/tokenizer.json",
                sha256_hex(&tokenizer),
                Some(format!("git-sha1:{}", git_blob_hex(&tokenizer)))
            ),
        ]
    );
    // Zero bytes copied: the view's file is the cache's blob, same inode.
    let view = catalog.model_path("org/llama").unwrap();
    let cached = repo
        .dir
        .join("blobs")
        .join(HfRepo::blob_name(&weights, Kind::Lfs));
    let (a, b) = (
        std::fs::metadata(view.join("model.safetensors")).unwrap(),
        std::fs::metadata(&cached).unwrap(),
    );
    assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "hard-linked");
    assert_eq!(
        std::fs::read(view.join("sub/tokenizer.json")).unwrap(),
        tokenizer
    );
    let pr_entry = catalog.get(&format!("org/llama@{}", &pr[..7])).unwrap();
    assert_eq!(pr_entry.model_ref, format!("hf:org/llama@{pr}"));
    let m = &report.models.iter().find(|m| m.id == "org/llama").unwrap();
    assert_eq!(m.ingest.hard_linked, 3);

    // A later verification checks the publisher's digests too, and passes.
    let v = catalog
        .verify("org/llama", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Verified, "{}", v.outcome.reason);
    // The cache is untouched (a hard link adds a name, changes no byte).
    assert_eq!(std::fs::read(&cached).unwrap(), weights);
}

#[test]
fn one_repository_folder_is_adopted_on_its_own() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "tiny");
    let c = commit("c");
    repo.snapshot(&c, &[("w.gguf", b"GGUF tiny", Kind::Lfs)]);
    repo.set_ref("main", &c);
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&repo.dir, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.layout, SourceLayout::HfRepo);
    assert_eq!(report.models.len(), 1);
    assert_eq!(catalog.get("org/tiny").unwrap().trust, TrustState::Verified);
}

#[test]
fn a_single_segment_legacy_repository_is_skipped_with_the_reason() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let legacy = cache.repo("", "gpt2");
    let c = commit("g");
    legacy.snapshot(&c, &[("config.json", b"{}", Kind::Git)]);
    legacy.set_ref("main", &c);
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert!(report.models.is_empty());
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].reason.contains("single-segment"),
        "{:?}",
        report.skipped
    );
    assert!(catalog.is_empty());
}
