//! A blob whose bytes are not what its name says (an LFS blob whose
//! SHA-256 differs, a small file whose git blob id differs, an Ollama layer
//! whose digest differs) registers its model as `failed` — never verified —
//! naming the file, where it is: its bytes never enter the store. Every
//! later verification fails too (the publisher's digest is kept), and
//! `catalog adopt` exits 1. Once the bytes are right again, adopting again
//! brings the model in, verified: an update recorded as such.

use crate::cli_support::Cli;
use crate::support::layouts::{HfCache, HfRepo, Kind, MODEL, Ollama, bytes, commit};
use catalog_core::{AdoptAction, AdoptOptions, Catalog, TrustState, VerifyOptions};

#[test]
fn a_mismatch_is_a_failed_model_registered_in_place_until_the_bytes_are_right() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "m");
    let weights = bytes(100_000, 1);
    let c = commit("c");
    repo.snapshot(
        &c,
        &[
            ("model.safetensors", &weights, Kind::Lfs),
            ("config.json", b"{}", Kind::Git),
        ],
    );
    repo.set_ref("main", &c);
    let blob = repo.blob(&weights, Kind::Lfs);
    let mut damaged = weights.clone();
    damaged[77_777] ^= 0x20;
    std::fs::write(&blob, &damaged).unwrap();

    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert!(report.failed());
    let m = &report.models[0];
    assert_eq!(m.trust, TrustState::Failed);
    let failure = m.failure.as_deref().unwrap();
    assert!(failure.contains("model.safetensors"), "{failure}");
    assert!(failure.contains("publisher's digest"), "{failure}");
    let e = catalog.get("org/m").unwrap();
    assert_eq!(e.trust, TrustState::Failed);
    assert!(e.external, "registered where it is");
    assert_eq!(m.ingest.in_place, 2);
    assert!(
        std::fs::read_dir(root.path().join("blobs/sha256"))
            .unwrap()
            .next()
            .is_none(),
        "no byte of it entered the store"
    );
    let v = catalog
        .verify("org/m", VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        v.entry.trust,
        TrustState::Failed,
        "never verified: {}",
        v.outcome.reason
    );

    // The right bytes again: adopted into the store, verified, an update.
    std::fs::write(&blob, &weights).unwrap();
    let before = catalog.head().seq;
    let again = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(again.models[0].action, AdoptAction::Updated);
    assert!(catalog.head().seq > before, "the update is recorded");
    let e = catalog.get("org/m").unwrap();
    assert_eq!(e.trust, TrustState::Verified);
    assert!(!e.external);
}

#[test]
fn a_small_file_whose_git_blob_id_differs_fails_too() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "g");
    let config = br#"{"a": 1}"#.to_vec();
    let c = commit("g");
    repo.snapshot(&c, &[("config.json", &config, Kind::Git)]);
    repo.set_ref("main", &c);
    std::fs::write(
        repo.dir
            .join("blobs")
            .join(HfRepo::blob_name(&config, Kind::Git)),
        br#"{"a": 2}"#,
    )
    .unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&repo.dir, AdoptOptions::default().in_place(true), &|_| {})
        .unwrap();
    assert!(report.failed());
    assert!(
        report.models[0]
            .failure
            .as_deref()
            .unwrap()
            .contains("git-sha1:"),
        "{:?}",
        report.models[0].failure
    );
}

#[test]
fn the_command_exits_1_and_names_the_file() {
    let cli = Cli::new();
    let ollama = Ollama::new(&cli.src.path().join("models"));
    let gguf = bytes(50_000, 9);
    ollama.model(
        ("registry.ollama.ai", "library", "bad", "latest"),
        b"{}",
        &[(MODEL, &gguf)],
    );
    ollama.model(
        ("registry.ollama.ai", "library", "good", "latest"),
        b"{ }",
        &[(MODEL, b"GGUF ok")],
    );
    let mut damaged = gguf.clone();
    damaged[10] ^= 1;
    std::fs::write(ollama.blob_path(&gguf), &damaged).unwrap();
    let out = cli.run(&["--json", "adopt", ollama.models.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let model = |id: &str| {
        report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(model("bad:latest")["trust"], "failed");
    assert!(
        model("bad:latest")["failure"]
            .as_str()
            .unwrap()
            .contains("model.gguf")
    );
    assert_eq!(
        model("good:latest")["trust"],
        "verified",
        "the others are adopted"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad:latest"), "{stderr}");
    assert_eq!(cli.listed("bad:latest").unwrap()["trust"], "failed");
}
