//! S3 (issue 21), with the permission template: n2 publishes, on its own
//! subject, an event whose body says node n1 deleted model `m`, one with
//! n1's catalog id, one whose message id disagrees with its body, and a
//! second copy of its own event. `fleet history m` (as the read-only user)
//! shows each node's own events about `m`, once each, and leaves the rest
//! out, naming them on stderr (a JSON object with `--json`).

use crate::nats_support::{NatsServer, as_user, catalog, publish_as, read_stream_as, run};
use catalog_core::{Catalog, EntrySpec};
use serde_json::Value;

#[test]
fn history_keeps_only_what_each_subjects_node_says_of_itself() {
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&d1, &d2] {
        Catalog::open(dir.path())
            .unwrap()
            .put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    for (dir, node) in [(&d1, "n1"), (&d2, "n2")] {
        let (code, _, err) = run(as_user(
            &mut catalog(dir.path(), &["export", "--nats", &url, "--node", node]),
            node,
        ));
        assert_eq!(code, 0, "{node}: {err}");
    }
    let cid1 = Catalog::open_read_only(d1.path()).unwrap().catalog_id();
    let cid2 = Catalog::open_read_only(d2.path()).unwrap().catalog_id();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let event = |node: &str, cid: &str, seq: u64| {
        format!(
            r#"{{"node":"{node}","catalog_id":"{cid}","seq":{seq},"time_ms":{now},"kind":"delete","id":"m","actor":"forged"}}"#
        )
    };
    let n2_first = read_stream_as(&url, "CATALOG", Some("admin"))
        .into_iter()
        .find(|m| m.subject == "catalog.n2.events")
        .unwrap();
    let forgeries = [
        (format!("n1:{cid1}:2"), event("n1", &cid1, 2)),
        (format!("n2:{cid1}:2"), event("n2", &cid1, 2)),
        (format!("n2:{cid2}:3"), event("n2", &cid2, 2)),
        (
            format!("{}:0011223344556677", n2_first.msg_id),
            String::from_utf8(n2_first.raw.clone()).unwrap(),
        ),
    ];
    for (id, body) in &forgeries {
        let answer = publish_as(
            &url,
            "n2",
            "catalog.n2.events",
            &[("Nats-Msg-Id", id)],
            body.as_bytes(),
        );
        assert!(matches!(answer, Ok((_, false))), "{id}: {answer:?}");
    }

    let (code, out, err) = run(as_user(
        &mut catalog(
            d1.path(),
            &["--json", "fleet", "history", "m", "--nats", &url],
        ),
        "reader",
    ));
    assert_eq!(code, 0, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, u64)> = events
        .iter()
        .map(|e| {
            (
                e["node"].as_str().unwrap(),
                e["kind"].as_str().unwrap(),
                e["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [("n1", "put", 1), ("n2", "put", 1)],
        "each node's own put, once; no forged delete: {out}"
    );
    let warning: Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
    let mut reasons: Vec<&str> = warning["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "body-names-another-node",
            "catalog-id-not-the-claims",
            "duplicate",
            "message-id-disagrees"
        ],
        "{err}"
    );
    assert!(
        warning["warning"].as_str().unwrap().contains("left out 4"),
        "{warning}"
    );
}
