//! `catalog events`: the journal as JSON lines (`seq`, `time`, `kind`, `id`,
//! context, the operation's fields), resumable with `--since`, and live
//! with `--follow` while another command writes.

use crate::cli_support::{Cli, digest_of};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn events_are_json_lines_and_since_resumes() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights of m");
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    cli.ok(&["retire", "m"]);
    cli.ok(&["--correlation-id", "req-1", "activate", "m"]);

    let events = cli.json_lines(&["events"]);
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["put", "verify", "set_state", "set_state"]);
    for e in &events {
        assert_eq!(e["id"], "m", "{e}");
        let time = e["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && time.len() == 24, "{time}");
        assert!(e["actor"].as_str().unwrap().contains("catalog "), "{e}");
        assert_eq!(e["chain"].as_str().unwrap().len(), 64);
    }
    assert_eq!(events[0]["digest"], digest_of(b"weights of m"));
    assert_eq!(events[0]["size_bytes"], 12);
    assert_eq!(events[1]["result"], "warn");
    assert_eq!(events[2]["lifecycle"], "retired");
    assert_eq!(events[3]["lifecycle"], "active");
    assert_eq!(events[3]["correlation_id"], "req-1");

    let tail = cli.json_lines(&["events", "--since", "3"]);
    assert_eq!(tail, events[2..].to_vec(), "--since is inclusive");
    assert!(cli.json_lines(&["events", "--since", "5"]).is_empty());

    let table = cli.ok(&["events"]);
    assert!(table.starts_with("SEQ"), "{table}");
    assert_eq!(table.lines().count(), 1 + 4, "{table}");
    assert!(table.contains("lifecycle -> retired"), "{table}");
}

#[test]
fn follow_prints_new_events_as_another_command_writes_them() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    cli.ok(&["add", "m.gguf", "--id", "m"]);

    let mut child = cli
        .cmd(&["--json", "events", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| -> Value {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("no line for {what}: {e}"));
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next("put")["kind"], "put");
    assert_eq!(next("verify")["kind"], "verify");

    // The follower holds no lock: the writer goes ahead.
    cli.ok(&["retire", "m"]);
    let e = next("set_state");
    assert_eq!(e["seq"], 3);
    assert_eq!(e["kind"], "set_state");
    assert_eq!(e["lifecycle"], "retired");
    assert!(
        child.try_wait().unwrap().is_none(),
        "--follow keeps running until killed"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
}
