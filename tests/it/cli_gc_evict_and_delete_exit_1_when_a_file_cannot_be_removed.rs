//! `evict`, `delete` and `gc` exit 1 when a store file could not be
//! removed: the record is written and the report printed all the same (as
//! text or JSON, with the failures in `errors`), and stderr names each
//! file. Once removal works again, `gc` cleans up and exits 0.
//!
//! Removal must really fail, for root too: the blob directory is made
//! immutable with `chattr +i`. Where that is not possible (no `chattr`, no
//! CAP_LINUX_IMMUTABLE, a file system without the flag) the test says it
//! was skipped; the exit-code mapping is also unit-tested in the binary
//! (`removal::tests`), and the reports by `failed_removals_are_reported_by_
//! evict_delete_and_gc.rs` on a fault-injecting file system.

use crate::cli_support::{Cli, bytes, digest_of};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory made immutable (`chattr +i`) until dropped.
struct Immutable(PathBuf);

impl Immutable {
    /// `None`, with the reason, if the flag cannot be set or does not stop
    /// removal here.
    fn set(dir: &Path) -> Result<Immutable, String> {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .output()
            .map_err(|e| format!("chattr cannot be run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "chattr +i failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let guard = Immutable(dir.to_path_buf());
        let probe = dir.join("probe");
        if std::fs::write(&probe, b"p").is_ok() {
            let _ = std::fs::remove_file(&probe);
            return Err("the immutable flag does not stop changes here".into());
        }
        Ok(guard)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

fn blob_of(cli: &Cli, id: &str) -> PathBuf {
    PathBuf::from(cli.json(&["show", id])["model_path"].as_str().unwrap())
}

/// Runs, asserts exit 1 and that stderr names `path`; returns stdout.
fn fails_naming(cli: &Cli, args: &[&str], path: &Path) -> String {
    let out: Output = cli.run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "catalog {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains("error: "),
        "catalog {args:?}: stderr names {}:\n{stderr}",
        path.display()
    );
    stdout
}

/// The `errors` of a JSON report name `path`.
fn json_names(report: &str, path: &Path) -> bool {
    let v: Value = serde_json::from_str(report).unwrap();
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == path.display().to_string() && e["error"].is_string())
}

#[test]
fn evict_delete_and_gc_exit_1_when_a_blob_cannot_be_removed() {
    let cli = Cli::new();
    for (id, seed) in [("a", 50), ("b", 51), ("c", 52), ("d", 53)] {
        cli.write_src(&format!("{id}.gguf"), &bytes(3000 + seed, seed as u32));
        cli.ok(&["add", &format!("{id}.gguf"), "--id", id]);
    }
    let blobs: Vec<PathBuf> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| blob_of(&cli, id))
        .collect();
    // An orphan for gc to try (with no grace period: an mtime set back
    // does not make a file old, its ctime counts too).
    let orphan_bytes = bytes(1000, 54);
    let orphan_digest = digest_of(&orphan_bytes);
    let orphan = cli
        .root()
        .join("blobs/sha256")
        .join(orphan_digest.trim_start_matches("sha256:"));
    std::fs::write(&orphan, &orphan_bytes).unwrap();

    let guard = match Immutable::set(&cli.root().join("blobs/sha256")) {
        Ok(g) => g,
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so a
            // passing run still says it.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: cannot make a store directory immutable: {why}"
            );
            return;
        }
    };

    let out = fails_naming(&cli, &["evict", "a"], &blobs[0]);
    assert!(out.contains("evicted a:"), "the report is printed: {out}");
    assert!(cli.listed("a").is_none(), "the eviction is recorded");

    let out = fails_naming(&cli, &["--json", "evict", "b"], &blobs[1]);
    assert!(json_names(&out, &blobs[1]), "{out}");

    let out = fails_naming(&cli, &["delete", "c"], &blobs[2]);
    assert_eq!(out.trim(), "deleted c");
    assert!(cli.listed("c").is_none(), "the deletion is recorded");

    let out = fails_naming(&cli, &["--json", "delete", "d"], &blobs[3]);
    assert!(json_names(&out, &blobs[3]), "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["deleted"],
        true
    );

    let out = fails_naming(&cli, &["gc", "--grace", "0"], &orphan);
    assert!(out.contains("removed 0 unreferenced files"), "{out}");
    let out = fails_naming(&cli, &["--json", "gc", "--grace", "0"], &orphan);
    assert!(json_names(&out, &orphan), "{out}");
    for blob in blobs.iter().chain([&orphan]) {
        assert!(blob.exists(), "{} is still there", blob.display());
    }

    drop(guard);
    let r = cli.json(&["gc", "--grace", "0"]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
    assert_eq!(r["files_removed"], 5, "the leftovers go now: {r}");
    for blob in blobs.iter().chain([&orphan]) {
        assert!(!blob.exists(), "{} is gone", blob.display());
    }
}
