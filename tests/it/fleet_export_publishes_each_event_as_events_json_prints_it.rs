//! The message of each journal event is, byte for byte, the line `catalog
//! --json events` prints plus `node` and `catalog_id`, on subject
//! `catalog.<node>.events`, with `Nats-Msg-Id: <catalog_id>:<seq>`; and a
//! following exporter never holds the writer lock.

use crate::nats_support::{NatsServer, catalog, node_messages, run};
use catalog_core::{Catalog, EntrySpec, Options};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn each_message_is_the_events_json_line_plus_node_and_catalog_id() {
    let server = NatsServer::start();
    let url = server.url();
    let src = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let model = src.path().join("m.gguf");
    std::fs::write(&model, b"weights").unwrap();
    let add = |args: &[&str]| {
        let (code, _, err) = run(&mut catalog(root, args));
        assert_eq!(code, 0, "{args:?}: {err}");
    };
    add(&["add", model.to_str().unwrap(), "--id", "m"]);
    add(&["--correlation-id", "req-7", "retire", "m"]);
    add(&["verify", "m"]);
    add(&["compact"]);

    let mut child = catalog(
        root,
        &["export", "--nats", &url, "--node", "gpu-7", "--follow"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // While it follows, a writer opens at once (no lock wait) and writes.
    let writer = Catalog::open_with(root, Options::default()).expect("the exporter holds no lock");
    writer
        .put(EntrySpec::new(
            "n",
            "https://user:pw-abcdefghijklmnopqrstuvwxyz@example.com/m.gguf",
            "blobs/y",
        ))
        .unwrap();
    writer.delete("m").unwrap();
    let head = writer.head().seq;
    drop(writer);
    let deadline = Instant::now() + Duration::from_secs(60);
    while node_messages(&url, "gpu-7").len() < head as usize {
        assert!(
            Instant::now() < deadline,
            "the follower did not publish the new events"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (code, lines, err) = run(&mut catalog(root, &["--json", "events"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = lines.lines().collect();
    let msgs = node_messages(&url, "gpu-7");
    assert_eq!(msgs.len(), lines.len(), "one message per event");
    let cid = Catalog::open_read_only(root).unwrap().catalog_id();
    for (m, line) in msgs.iter().zip(&lines) {
        assert_eq!(m.subject, "catalog.gpu-7.events");
        let mut body: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&m.raw).unwrap();
        assert_eq!(body.remove("node").unwrap(), "gpu-7");
        assert_eq!(body.remove("catalog_id").unwrap(), cid.as_str());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            *line,
            "the body without node and catalog_id is the events --json line, byte for byte"
        );
        assert_eq!(m.msg_id, format!("gpu-7:{cid}:{}", body["seq"]));
        let raw = String::from_utf8_lossy(&m.raw);
        assert!(
            !raw.contains("abcdefghijklmnopqrstuvwxyz"),
            "redacted as stored: {raw}"
        );
    }
    let kinds: Vec<&str> = msgs
        .iter()
        .map(|m| m.body["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"checkpoint") && kinds.contains(&"delete"),
        "{kinds:?}"
    );
}
