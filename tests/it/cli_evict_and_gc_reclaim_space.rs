//! `evict` and `gc` free disk space and say how much: a dry run changes
//! nothing, shared blobs are kept, orphans go only once older than the
//! grace period, and a size budget evicts retired models.

use crate::cli_support::{Cli, bytes, digest_of};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

fn blob_of(cli: &Cli, id: &str) -> PathBuf {
    PathBuf::from(cli.json(&["show", id])["model_path"].as_str().unwrap())
}

/// A file in the blob store named by its digest that no entry uses, with
/// its modification time `age` ago.
fn orphan(cli: &Cli, content: &[u8], age: Duration) -> PathBuf {
    let hex = digest_of(content).trim_start_matches("sha256:").to_string();
    let path = cli.root().join("blobs/sha256").join(hex);
    std::fs::write(&path, content).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

#[test]
fn evict_dry_run_changes_nothing_then_evict_reclaims_the_bytes() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(40 * 1024, 30));
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    let blob = blob_of(&cli, "m");
    let head = cli.json(&["head"])["seq"].clone();

    let dry = cli.json(&["evict", "m", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["bytes_reclaimed"], 40 * 1024, "{dry}");
    assert!(
        blob.exists() && cli.listed("m").is_some(),
        "a dry run removes nothing"
    );
    assert_eq!(cli.json(&["head"])["seq"], head, "and writes nothing");
    let human = cli.ok(&["evict", "m", "--dry-run"]);
    assert!(human.contains("would evict m: 40.0 KiB"), "{human}");

    let out = cli.ok(&["evict", "m"]);
    assert!(
        out.contains("evicted m: 40.0 KiB reclaimed (40960 bytes)"),
        "{out}"
    );
    assert!(!blob.exists(), "the blob is gone");
    assert!(cli.listed("m").is_none());
    let history = cli.json_lines(&["history", "m"]);
    let last = history.last().unwrap();
    assert_eq!(last["kind"], "evict");
    assert_eq!(last["bytes_reclaimed"], 40 * 1024);
    cli.expect(2, &["evict", "m"]); // gone: not found
}

#[test]
fn evicting_one_of_two_models_with_the_same_bytes_frees_nothing() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(8192, 31));
    cli.ok(&["add", "m.gguf", "--id", "one"]);
    cli.ok(&["add", "m.gguf", "--id", "two"]);
    let r = cli.json(&["evict", "one"]);
    assert_eq!(r["bytes_reclaimed"], 0, "{r}");
    assert_eq!(r["shared_kept"], 1, "{r}");
    cli.ok(&["verify", "two"]);
}

#[test]
fn gc_removes_orphans_older_than_the_grace_period_and_nothing_in_use() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(3000, 32));
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    let used = blob_of(&cli, "m");
    let old = orphan(&cli, &bytes(1500, 33), Duration::from_secs(2 * 3600));
    let young = orphan(&cli, &bytes(700, 34), Duration::ZERO);

    let dry = cli.json(&["gc", "--dry-run", "--grace", "0"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["files_removed"], 2, "{dry}");
    assert_eq!(dry["bytes_removed"], 1500 + 700, "{dry}");
    assert_eq!(dry["kept"], 1, "{dry}");
    assert!(old.exists() && young.exists(), "a dry run removes nothing");

    // An mtime set into the past does not age a file (the grace period
    // counts from the inode change time too): both were changed just now.
    let out = cli.ok(&["gc"]);
    assert!(out.contains("removed 0 unreferenced files"), "{out}");
    assert!(out.contains("skipped 2 unreferenced"), "{out}");
    assert!(
        old.exists() && young.exists(),
        "both are within the grace period"
    );

    let r = cli.json(&["gc", "--grace", "0"]);
    assert_eq!(r["files_removed"], 2, "{r}");
    assert_eq!(r["bytes_removed"], 1500 + 700, "{r}");
    assert!(!old.exists() && !young.exists());
    assert!(used.exists(), "a blob in use is never removed");
    cli.ok(&["verify", "m"]);

    let budget = cli.json(&["gc", "--max-time", "0", "--dry-run"]);
    assert!(
        budget["not_reached"].as_u64().unwrap() >= 1,
        "a zero time budget examines nothing: {budget}"
    );
}

#[test]
fn gc_with_a_size_budget_evicts_retired_models_first() {
    let cli = Cli::new();
    cli.write_src("a.gguf", &bytes(4000, 35));
    cli.write_src("b.gguf", &bytes(4000, 36));
    cli.ok(&["add", "a.gguf", "--id", "a"]);
    cli.ok(&["add", "b.gguf", "--id", "b"]);
    cli.ok(&["retire", "b"]);
    let r = cli.json(&["gc", "--max-bytes", "1K"]);
    assert_eq!(r["evicted"], serde_json::json!(["b"]), "{r}");
    assert_eq!(r["evicted_bytes"], 4000);
    assert!(cli.listed("b").is_none());
    assert!(cli.listed("a").is_some(), "active models are never evicted");
}
