//! Exit codes: 2 for bad usage or input, with a clear message and nothing
//! written; 1 when the bytes are not what was said; 3 when another process
//! holds the writer lock.

use crate::cli_support::{Cli, bytes, digest_of};
use catalog_core::Catalog;

/// Runs and asserts exit code 2 with an `error:` message on stderr.
fn usage_error(cli: &Cli, args: &[&str]) -> String {
    let out = cli.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "catalog {args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "catalog {args:?}: {stderr}");
    stderr
}

#[test]
fn bad_usage_and_bad_input_exit_2_and_write_nothing() {
    let cli = Cli::new();
    cli.write_src("a.gguf", b"weights");
    usage_error(&cli, &["list", "--bogus"]);
    usage_error(&cli, &[]);
    usage_error(&cli, &["retire"]);
    usage_error(&cli, &["frobnicate"]);
    let err = usage_error(&cli, &["add", "a.gguf", "--digest", "sha256:xyz"]);
    assert!(err.contains("--digest"), "{err}");
    usage_error(&cli, &["add", "a.gguf", "--digest", "md5:00"]);
    usage_error(&cli, &["add", "a.gguf", "--link", "symlink"]);
    usage_error(&cli, &["verify"]);
    usage_error(&cli, &["verify", "--all", "a"]);
    usage_error(&cli, &["verify", "a", "--expect", "sha256:12"]);
    usage_error(&cli, &["gc", "--max-bytes", "5X"]);
    usage_error(&cli, &["events", "--since", "-1"]);
    let err = usage_error(&cli, &["add", "hf:meta-llama/Llama-3-8B"]);
    assert!(err.contains("not a local file"), "{err}");
    let err = usage_error(&cli, &["add", "missing.gguf"]);
    assert!(err.contains("does not exist"), "{err}");
    // No catalog under the root yet: commands that need one say so.
    for args in [
        &["list"][..],
        &["show", "a"],
        &["retire", "a"],
        &["delete", "a"],
        &["verify", "--all"],
        &["evict", "a"],
        &["gc"],
        &["compact"],
        &["head"],
        &["history", "a"],
        &["events"],
        &["check"],
        &["repair"],
    ] {
        let err = usage_error(&cli, args);
        assert!(err.contains("no catalog at"), "{args:?}: {err}");
    }
    assert!(cli.root_is_empty(), "nothing was written under the root");
}

#[test]
fn unknown_ids_exit_2_and_write_nothing() {
    let cli = Cli::new();
    cli.write_src("a.gguf", b"weights");
    cli.write_src("b.gguf", b"other weights");
    cli.ok(&["add", "a.gguf", "--id", "a"]);
    cli.ok(&["add", "b.gguf", "--id", "b"]);
    let head = cli.json(&["head"]);
    let digest = digest_of(b"weights");
    for args in [
        &["show", "nope"][..],
        &["retire", "nope"],
        &["activate", "nope"],
        &["verify", "a", "nope"],
        &["verify", "a", "b", "--expect", &digest],
        &["evict", "nope"],
        &["evict", "nope", "--dry-run"],
        &["history", "nope"],
    ] {
        usage_error(&cli, args);
    }
    assert_eq!(cli.json(&["head"]), head, "nothing was written");
    assert_eq!(
        cli.listed("a").unwrap()["trust"],
        "warned",
        "a not verified"
    );

    let out = cli.run(&["--json", "show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["exit_code"], 2, "{err}");
    assert!(err["error"].as_str().unwrap().contains("nope"), "{err}");
}

#[test]
fn a_wrong_digest_exits_1_and_registers_nothing() {
    let cli = Cli::new();
    cli.write_src("a.gguf", &bytes(5000, 40));
    cli.write_src("repo/config.json", b"{}");
    cli.write_src("repo/w.safetensors", &bytes(300, 41));
    let wrong = digest_of(b"something else");
    for source in ["a.gguf", "repo"] {
        let out = cli.run(&["add", source, "--id", "m", "--digest", &wrong]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source}: {stderr}");
        assert!(stderr.starts_with("error: digest mismatch"), "{stderr}");
    }
    assert_eq!(
        cli.json(&["list"]),
        serde_json::json!([]),
        "nothing registered"
    );
    assert!(cli.json_lines(&["events"]).is_empty(), "no record written");
}

#[test]
fn a_second_writer_exits_3_and_readers_are_not_blocked() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    let holder = Catalog::open(cli.root()).unwrap();
    for args in [
        &["retire", "m"][..],
        &["verify", "m"],
        &["add", "m.gguf", "--id", "m2"],
        &["evict", "m"],
        &["delete", "m"],
        &["gc"],
        &["compact"],
        &["repair"],
    ] {
        let out = cli.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("busy"), "{args:?}: {stderr}");
    }
    for args in [
        &["list"][..],
        &["show", "m"],
        &["history", "m"],
        &["events"],
        &["head"],
        &["check"],
    ] {
        cli.ok(args);
    }
    drop(holder);
    assert_eq!(cli.ok(&["retire", "m"]).trim(), "m is retired");
}
