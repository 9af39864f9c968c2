//! S5 (issue 21): a password or token inside a server URL would stay in
//! `ps` and `/proc/PID/cmdline` for the life of `export --follow`. Every
//! command refuses `user:pass@` and `token@` in `--nats` (and in
//! `NATS_URL`, one rule) before it connects (exit 2), without showing the
//! secret, saying to use `NATS_USER`/`NATS_PASSWORD`, `NATS_TOKEN` or
//! `--creds`; the same credentials from the environment work.

use crate::nats_support::{NatsServer, catalog, run};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` for at most `limit` (then kills it: -1): (exit code, stdout,
/// stderr).
fn run_for(cmd: &mut Command, limit: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PASSWORD: &str = "pa55-in-argv-9c1d";

#[test]
fn credentials_in_a_server_url_are_refused_before_connecting() {
    let server = NatsServer::start_with(&["--user", "alice", "--pass", PASSWORD]);
    let port = server.port;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    catalog_core::Catalog::open(root).unwrap();
    let with_password = format!("nats://alice:{PASSWORD}@127.0.0.1:{port}");
    let with_token = format!("nats://{PASSWORD}@127.0.0.1:{port}");
    let second = format!("nats://127.0.0.1:1,{with_password}");
    for url in [&with_password, &with_token, &second] {
        for args in [
            vec!["export", "--follow", "--nats", url, "--node", "n1"],
            vec!["export", "--nats", url, "--node", "n1"],
            vec!["--json", "fleet", "ls", "--nats", url],
            vec!["fleet", "history", "m", "--nats", url],
        ] {
            let (code, out, err) = run_for(&mut catalog(root, &args), Duration::from_secs(10));
            assert_eq!(code, 2, "{args:?} is refused at once: {out} {err}");
            assert!(
                err.contains("may not carry credentials")
                    && err.contains("NATS_USER")
                    && err.contains("NATS_PASSWORD")
                    && err.contains("NATS_TOKEN")
                    && err.contains("--creds"),
                "says what to use instead: {err}"
            );
            assert!(
                !err.contains(PASSWORD) && !out.contains(PASSWORD),
                "never shown: {out} {err}"
            );
        }
    }
    let (code, _, err) = run(catalog(root, &["fleet", "ls"]).env("NATS_URL", &with_password));
    assert_eq!(code, 2, "NATS_URL follows the same rule: {err}");

    let plain = format!("nats://127.0.0.1:{port}");
    let (code, _, err) = run(catalog(root, &["export", "--nats", &plain, "--node", "n1"])
        .env("NATS_USER", "alice")
        .env("NATS_PASSWORD", PASSWORD));
    assert_eq!(code, 0, "from the environment they work: {err}");
}
