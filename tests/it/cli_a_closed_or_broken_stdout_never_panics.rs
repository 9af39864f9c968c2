//! A stdout that cannot be written is never a panic (exit 101): a pipe
//! whose reader is gone (`catalog list | head -c0`) is quiet and keeps the
//! command's own exit code; a stdout that fails otherwise (a full disk)
//! gets one line on stderr and exit 1; a closed stdout (`>&-`) is fine.
//! In every case the command's effect happened.

use crate::cli_support::{BIN, Cli, bytes};
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Asserts that `out` is not a panic.
fn no_panic(args: &[&str], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(101), "catalog {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "catalog {args:?}: {stderr}");
    stderr
}

/// Runs `catalog --root <root> <args>` with stdout a pipe whose reader has
/// already gone, so every write fails with EPIPE.
fn with_reader_gone(cli: &Cli, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = cli.cmd(args);
    cmd.stdout(writer).stderr(Stdio::piped());
    cmd.output().unwrap()
}

#[test]
fn a_pipe_whose_reader_is_gone_is_quiet_and_keeps_the_exit_code() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(3000, 70));
    cli.write_src("n.gguf", &bytes(2000, 71));
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    for args in [
        &["list"][..],
        &["--json", "list"],
        &["show", "m"],
        &["--json", "show", "m"],
        &["history", "m"],
        &["--json", "history", "m"],
        &["events"],
        &["head"],
        &["check"],
        &["verify", "m"],
        &["retire", "m"],
        &["add", "n.gguf", "--id", "n"],
        &["gc"],
    ] {
        let out = with_reader_gone(&cli, args);
        let stderr = no_panic(args, &out);
        assert_eq!(out.status.code(), Some(0), "catalog {args:?}: {stderr}");
        assert!(
            stderr.is_empty(),
            "a reader that left is not an error: {args:?}: {stderr}"
        );
    }
    assert_eq!(
        cli.listed("m").unwrap()["lifecycle"],
        "retired",
        "retire happened although its output could not be written"
    );
    assert!(cli.listed("n").is_some(), "add happened too");

    // A failing command keeps its own code and its message on stderr.
    let out = with_reader_gone(&cli, &["show", "nope"]);
    let stderr = no_panic(&["show", "nope"], &out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

#[test]
fn a_stdout_that_fails_otherwise_exits_1_with_one_line_on_stderr() {
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        // Straight to stderr, past the test harness's capture, so a passing
        // run still says it.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: /dev/full does not exist on this system"
        );
        return;
    }
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(3000, 72));
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    for args in [&["list"][..], &["--json", "list"], &["retire", "m"]] {
        let mut cmd = cli.cmd(args);
        cmd.stdout(std::fs::File::create(full).unwrap())
            .stderr(Stdio::piped());
        let out = cmd.output().unwrap();
        let stderr = no_panic(args, &out);
        assert_eq!(out.status.code(), Some(1), "catalog {args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("error: could not write the output"),
            "{stderr}"
        );
    }
    assert_eq!(cli.listed("m").unwrap()["lifecycle"], "retired");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(3000, 73));
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    for args in [&["list"][..], &["retire", "m"]] {
        // `exec catalog ... >&-`: the command starts with file descriptor 1
        // closed.
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" >&-"#)
            .arg(BIN)
            .arg("--root")
            .arg(cli.root())
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = no_panic(args, &out);
        assert_eq!(out.status.code(), Some(0), "catalog {args:?}: {stderr}");
    }
    assert_eq!(cli.listed("m").unwrap()["lifecycle"], "retired");
}
