//! `catalog adopt <PATH> [--in-place] [--dry-run] [--json]` says which
//! layout it recognised, reports per model what it did (added, updated,
//! unchanged), how the bytes came in and how many bytes it wrote, and what
//! it skipped; `--dry-run` hashes and writes nothing (not even a catalog);
//! progress goes to a terminal only, so a pipe's stderr stays clean.

use crate::cli_support::Cli;
use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, bytes, commit};

fn hub(cli: &Cli) -> std::path::PathBuf {
    let cache = HfCache::new(&cli.src.path().join("hub"));
    let repo = cache.repo("org", "m");
    let c = commit("c");
    repo.snapshot(
        &c,
        &[
            ("model.safetensors", &bytes(100_000, 1), Kind::Lfs),
            ("config.json", b"{}", Kind::Git),
        ],
    );
    repo.set_ref("main", &c);
    std::fs::write(
        repo.dir
            .join("blobs")
            .join(format!("{}.incomplete", "0".repeat(64))),
        b"",
    )
    .unwrap();
    let other = cache.repo("org", "n");
    let c2 = commit("n");
    other.snapshot(&c2, &[("w.gguf", b"GGUF n", Kind::Lfs)]);
    other.set_ref("main", &c2);
    cache.hub
}

#[test]
fn a_dry_run_says_what_would_be_adopted_and_writes_nothing() {
    let cli = Cli::new();
    let hub = hub(&cli);
    let out = cli.ok(&["adopt", "--dry-run", hub.to_str().unwrap()]);
    assert!(out.starts_with("Hugging Face hub cache at "), "{out}");
    assert!(out.contains("would be added org/n"), "{out}");
    assert!(out.contains("skipped"), "{out}");
    assert!(
        cli.root_is_empty(),
        "a dry run writes nothing, not even a catalog"
    );
}

#[test]
fn the_json_report_names_the_layout_every_model_and_every_skip() {
    let cli = Cli::new();
    let hub = hub(&cli);
    let out = cli.run(&["--json", "adopt", hub.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "no progress in a pipe: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["layout"], "hf-cache");
    assert_eq!(r["dry_run"], false);
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{r}");
    let m = &models[0];
    assert_eq!(m["id"], "org/n");
    assert_eq!(m["action"], "added");
    assert_eq!(m["hard_linked"], 1);
    assert_eq!(m["bytes_written"], 0);
    assert_eq!(m["trust"], "verified");
    assert_eq!(m["entry"]["digest_source"], "publisher");
    let skipped = r["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["kind"], "incomplete");
    // Again: unchanged.
    let again = cli.json(&["adopt", hub.to_str().unwrap()]);
    assert_eq!(again["models"][0]["action"], "unchanged");
    assert_eq!(cli.listed("org/n").unwrap()["digest_source"], "publisher");
}

#[test]
fn the_table_says_which_layout_and_how_the_bytes_came_in() {
    let cli = Cli::new();
    let ollama = Ollama::new(&cli.src.path().join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "o", "1"),
        b"{}",
        &[(MODEL, b"GGUF o")],
    );
    let out = cli.ok(&["adopt", ollama.models.to_str().unwrap()]);
    assert!(out.starts_with("Ollama models directory at "), "{out}");
    assert!(out.contains("added o:1"), "{out}");
    assert!(out.contains("hard-linked, 0 B written"), "{out}");
    assert!(out.contains("verified (publisher)"), "{out}");
    assert!(
        out.contains("ollama:registry.ollama.ai/library/o:1"),
        "{out}"
    );
    let out = cli.ok(&["adopt", "--in-place", ollama.models.to_str().unwrap()]);
    assert!(out.contains("updated o:1"), "{out}");
    assert!(out.contains("in place"), "{out}");
}

#[test]
fn a_path_that_does_not_exist_is_bad_input_and_writes_nothing() {
    let cli = Cli::new();
    let out = cli.run(&["adopt", "/nonexistent/hub"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(cli.root_is_empty());
}
