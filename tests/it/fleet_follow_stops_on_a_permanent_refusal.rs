//! S10 (issue 21): `export --follow` retries what may pass (a server
//! away), but not what cannot: with the permission template, a node
//! exporting under another node's name gets the server's permissions
//! violation and exits 1 at once, saying so; so do a wrong password and an
//! event larger than the server's `max_payload` (a client-side refusal),
//! instead of retrying forever.

use crate::nats_support::{NatsServer, as_user, catalog};
use catalog_core::{Catalog, EntrySpec};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` for at most `limit` (then kills it): (exit code or -1,
/// stderr, how long it ran).
fn run_for(cmd: &mut Command, limit: Duration) -> (i32, String, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_follower_exits_on_what_retrying_cannot_change() {
    let limit = Duration::from_secs(15);
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    Catalog::open(root)
        .unwrap()
        .put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();

    // n2's credentials, n1's name.
    let (code, err, took) = run_for(
        as_user(
            &mut catalog(
                root,
                &["export", "--follow", "--nats", &url, "--node", "n1"],
            ),
            "n2",
        ),
        limit,
    );
    assert_eq!(code, 1, "exits, does not retry: {err}");
    assert!(
        err.to_lowercase().contains("permissions violation") && err.contains("refused"),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(5),
        "at once, not after a timeout: {took:?}"
    );

    // A wrong password.
    let (code, err, _) = run_for(
        catalog(
            root,
            &["export", "--follow", "--nats", &url, "--node", "n1"],
        )
        .env("NATS_USER", "n1")
        .env("NATS_PASSWORD", "wrong"),
        limit,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.to_lowercase().contains("authorization violation"),
        "{err}"
    );

    // Its own name and credentials: it follows (killed at the limit).
    let (code, err, _) = run_for(
        as_user(
            &mut catalog(
                root,
                &["export", "--follow", "--nats", &url, "--node", "n1"],
            ),
            "n1",
        ),
        Duration::from_secs(2),
    );
    assert_eq!(code, -1, "a permitted follower keeps following: {err}");
}

#[test]
fn a_follower_exits_on_an_event_over_the_servers_payload_limit() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("small.conf");
    std::fs::write(&conf, "max_payload: 2048\n").unwrap();
    let server = NatsServer::start_with(&["-c", conf.to_str().unwrap()]);
    let root = dir.path().join("root");
    // A 3,000-byte stored path: an event body over 2 KiB.
    let long_path = format!("blobs/{}x", format!("{}/", "d".repeat(199)).repeat(15));
    Catalog::open(&root)
        .unwrap()
        .put(EntrySpec::new("m", "hf:org/repo", long_path))
        .unwrap();
    let (code, err, took) = run_for(
        &mut catalog(
            &root,
            &[
                "export",
                "--follow",
                "--nats",
                &server.url(),
                "--node",
                "n1",
            ],
        ),
        Duration::from_secs(15),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("max payload") && err.contains("refused"),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}
