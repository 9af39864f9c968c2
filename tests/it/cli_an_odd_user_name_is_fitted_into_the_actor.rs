//! The actor a command stores is `<$USER> via catalog <command>`. `$USER`
//! comes from the environment, so it is fitted, never a reason to refuse a
//! write: cut at a character boundary (marked `…`) so the actor stays
//! within `MAX_CONTEXT_LEN`, control characters replaced, non-UTF-8 bytes
//! converted. An explicit `--correlation-id` that is too long is the
//! caller's input: refused with exit 2 before anything is written.

use crate::cli_support::Cli;
use catalog_core::MAX_CONTEXT_LEN;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// The actor of the last record of `id`.
fn last_actor(cli: &Cli, id: &str) -> String {
    let history = cli.json_lines(&["history", id]);
    history.last().unwrap()["actor"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `args` with `$USER` set to `user`; asserts success.
fn as_user(cli: &Cli, user: &[u8], args: &[&str]) {
    let out = cli
        .cmd(args)
        .env("USER", OsStr::from_bytes(user))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "catalog {args:?} as a {}-byte user: {}",
        user.len(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_long_user_name_is_cut_at_a_character_boundary_and_the_write_succeeds() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    // 4 + 396 bytes, with a control character and two-byte characters, so
    // no cut can fall on a byte boundary by luck.
    let user = format!("op\tx{}", "é".repeat(198));
    assert_eq!(user.len(), 400);
    as_user(&cli, user.as_bytes(), &["add", "m.gguf", "--id", "m"]);
    as_user(&cli, user.as_bytes(), &["retire", "m"]);
    for (command, actor) in [
        ("add", cli.json_lines(&["history", "m"])[0]["actor"].clone()),
        ("retire", last_actor(&cli, "m").into()),
    ] {
        let actor = actor.as_str().unwrap();
        assert!(actor.len() <= MAX_CONTEXT_LEN, "{} bytes", actor.len());
        assert!(
            actor.starts_with("op?xéé") && actor.ends_with(&format!("é… via catalog {command}")),
            "cut where it fits, control character replaced: {actor}"
        );
        assert!(
            actor.len() > MAX_CONTEXT_LEN - 4,
            "cut no shorter than needed: {actor}"
        );
    }
}

#[test]
fn a_user_name_that_is_not_utf8_is_converted() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    as_user(&cli, b"al\xffice", &["retire", "m"]);
    assert_eq!(last_actor(&cli, "m"), "al\u{FFFD}ice via catalog retire");
}

#[test]
fn a_too_long_correlation_id_is_refused_with_exit_2_before_anything_is_written() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    let long = "c".repeat(MAX_CONTEXT_LEN + 1);
    for args in [
        &["--correlation-id", &long, "add", "m.gguf", "--id", "m"][..],
        &["--correlation-id", "a\nb", "add", "m.gguf", "--id", "m"],
    ] {
        let out = cli.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.starts_with("error: invalid correlation_id"),
            "{stderr}"
        );
        assert!(cli.root_is_empty(), "no catalog created: {stderr}");
    }
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    let head = cli.json(&["head"]);
    let out = cli.run(&["--correlation-id", &long, "retire", "m"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(cli.json(&["head"]), head, "no record written");
}
