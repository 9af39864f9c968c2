//! Issue 21 item 2, with the permission template: n1 exports with
//! `--sign`; then whoever can write anything on the server (here its
//! `admin`: an operator not trusted) adds, on n1's own subject and keys,
//! an event with a valid subject and message id but no signature, one
//! with a signature that is not n1's, n1's own signed event replayed under
//! another message id, and a fleet-state row with no signature. Without
//! `--verify` the forgeries are shown (the subject and key are n1's); with
//! `--verify` only what n1's key signed is kept and each forgery is
//! dropped with its reason; with `--keys` pinning another key, nothing of
//! n1's passes.

use crate::nats_support::{NatsServer, as_user, catalog, publish_as, read_stream_as, run};
use catalog_core::{Catalog, EntrySpec, Lifecycle};
use serde_json::Value;

fn history(root: &std::path::Path, url: &str, extra: &[&str]) -> (Vec<Value>, Vec<String>) {
    let mut args = vec!["--json", "fleet", "history", "m", "--nats", url];
    args.extend_from_slice(extra);
    let (code, out, err) = run(as_user(&mut catalog(root, &args), "reader"));
    assert_eq!(code, 0, "{err}");
    let events = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, reasons(&err))
}

fn ls(root: &std::path::Path, url: &str, extra: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut args = vec!["--json", "fleet", "ls", "--nats", url];
    args.extend_from_slice(extra);
    let (code, out, err) = run(as_user(&mut catalog(root, &args), "reader"));
    assert_eq!(code, 0, "{err}");
    let listing: Value = serde_json::from_str(&out).unwrap();
    let rows = listing["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["node"].as_str().unwrap(),
                m["id"].as_str().unwrap()
            )
        })
        .collect();
    let mut dropped: Vec<String> = listing["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["at"].as_str().unwrap(),
                d["reason"].as_str().unwrap()
            )
        })
        .collect();
    dropped.sort();
    (rows, dropped)
}

/// What was forged, its headers and its body.
type Forgery<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

/// The reasons a `--json` query's warning on stderr names, sorted.
fn reasons(err: &str) -> Vec<String> {
    let Some(line) = err.lines().find(|l| l.starts_with('{')) else {
        return Vec::new();
    };
    let warning: Value = serde_json::from_str(line).unwrap();
    let mut r: Vec<String> = warning["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_string())
        .collect();
    r.sort();
    r
}

#[test]
fn only_what_the_nodes_key_signed_passes_verify() {
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    {
        let c = Catalog::open(dir.path()).unwrap();
        c.put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
            .unwrap();
        c.set_state("m", Lifecycle::Retired).unwrap();
    }
    let (code, out, err) = run(as_user(
        &mut catalog(
            dir.path(),
            &["--json", "export", "--nats", &url, "--node", "n1", "--sign"],
        ),
        "n1",
    ));
    assert_eq!(code, 0, "{err}");
    let key = serde_json::from_str::<Value>(&out).unwrap()["sign_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.starts_with("ed25519:"), "{out}");
    let key_file = dir.path().join("catalog").join("fleet-signing.key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the key is the node's alone");

    // Before any forgery: everything of n1's verifies.
    let (events, dropped) = history(dir.path(), &url, &["--verify"]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(dropped.is_empty(), "{dropped:?}");
    let (rows, dropped) = ls(dir.path(), &url, &["--verify"]);
    assert_eq!(rows, ["n1/m"]);
    assert!(dropped.is_empty(), "{dropped:?}");

    // The forgeries, by someone who can write anything.
    let cid = Catalog::open_read_only(dir.path()).unwrap().catalog_id();
    let first = read_stream_as(&url, "CATALOG", Some("admin"))
        .into_iter()
        .find(|m| m.subject == "catalog.n1.events" && m.body["seq"] == 1)
        .unwrap();
    assert!(first.sig.starts_with("ed25519:"), "n1's event is signed");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let delete = |seq: u64| {
        format!(
            r#"{{"node":"n1","catalog_id":"{cid}","seq":{seq},"time_ms":{now},"kind":"delete","id":"m","actor":"forged"}}"#
        )
    };
    let bad_sig = format!("ed25519:{}", "ab".repeat(64));
    let (id3, id4) = (format!("n1:{cid}:3"), format!("n1:{cid}:4"));
    let replayed_id = format!("{}:0011223344556677", first.msg_id);
    let forgeries: [Forgery; 3] = [
        (
            "no signature",
            vec![("Nats-Msg-Id", &id3)],
            delete(3).into_bytes(),
        ),
        (
            "not n1's signature",
            vec![("Nats-Msg-Id", &id4), ("Catalog-Sig", &bad_sig)],
            delete(4).into_bytes(),
        ),
        (
            "n1's event under another id",
            vec![("Nats-Msg-Id", &replayed_id), ("Catalog-Sig", &first.sig)],
            first.raw.clone(),
        ),
    ];
    for (what, headers, body) in &forgeries {
        let answer = publish_as(&url, "admin", "catalog.n1.events", headers, body);
        assert!(matches!(answer, Ok((_, false))), "{what}: {answer:?}");
    }
    let row = format!(
        r#"{{"node":"n1","catalog_id":"{cid}","id":"forged","ref":"hf:evil/x","lifecycle":"active","trust":"verified","digest":null,"size_bytes":1,"seq":9,"last_event_ms":{now},"first_event_ms":{now},"deleted":false}}"#
    );
    let answer = publish_as(
        &url,
        "admin",
        "$KV.CATALOG_FLEET.m.n1.forged",
        &[],
        row.as_bytes(),
    );
    assert!(answer.is_ok(), "{answer:?}");

    // Without --verify the forgeries speak for n1 (subject and key are its).
    let (events, _) = history(dir.path(), &url, &[]);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "delete").count(),
        2,
        "{kinds:?}"
    );
    let (rows, _) = ls(dir.path(), &url, &[]);
    assert_eq!(rows, ["n1/forged", "n1/m"]);

    // With --verify: only n1's own, and each forgery named.
    let (events, dropped) = history(dir.path(), &url, &["--verify"]);
    let seqs: Vec<(u64, &str)> = events
        .iter()
        .map(|e| (e["seq"].as_u64().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(seqs, [(1, "put"), (2, "set_state")]);
    assert_eq!(dropped, ["bad-signature", "bad-signature", "no-signature"]);
    let (rows, dropped) = ls(dir.path(), &url, &["--verify"]);
    assert_eq!(rows, ["n1/m"]);
    assert_eq!(dropped, ["m.n1.forged no-signature"]);

    // Keys pinned out of band: n1's passes, another key fails everything.
    let pins = dir.path().join("pins");
    std::fs::write(&pins, format!("# fleet keys\nn1 {key}\n")).unwrap();
    let pinned = pins.to_str().unwrap();
    let (rows, dropped) = ls(dir.path(), &url, &["--keys", pinned]);
    assert_eq!(rows, ["n1/m"]);
    assert_eq!(dropped, ["m.n1.forged no-signature"]);
    let other = catalog_core::fleet::NodeKey::from_seed([9; 32]).public_hex();
    std::fs::write(&pins, format!("n1 {other}\n")).unwrap();
    let (events, dropped) = history(dir.path(), &url, &["--keys", pinned, "--since", "24h"]);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        dropped.len(),
        5,
        "n1's two events and the three forgeries: {dropped:?}"
    );
    let (rows, _) = ls(dir.path(), &url, &["--keys", pinned]);
    assert!(rows.is_empty(), "{rows:?}");
}
