//! S2 and S4 (issue 21), with the permission template: n2 writes, on its
//! own keys, a row whose body says node n1 and a row carrying n1's catalog
//! id; tries to write, delete or purge n1's keys and claim; and puts a
//! `Nats-Rollup: all` value. `fleet ls` (as the read-only user) still
//! lists exactly each node's own models, leaves the forged rows out and
//! names them (in `--json` and on stderr); the server refuses the rest.

use crate::nats_support::{NatsServer, api_as, as_user, catalog, publish_as, run};
use catalog_core::{Catalog, EntrySpec};
use serde_json::{Value, json};

fn row(node: &str, cid: &str, id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "node": node, "catalog_id": cid, "id": id, "ref": "hf:forged/model",
        "lifecycle": "active", "trust": "verified", "digest": null, "size_bytes": 1,
        "seq": 1, "last_event_ms": 1, "first_event_ms": 1, "deleted": false
    }))
    .unwrap()
}

#[test]
fn fleet_ls_lists_only_what_each_node_says_of_itself() {
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, id) in [(&d1, "llama"), (&d2, "other")] {
        Catalog::open(dir.path())
            .unwrap()
            .put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
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
    let kv = |key: &str| format!("$KV.CATALOG_FLEET.{key}");

    // On n2's own keys: allowed by the server, left out by the reader.
    for (key, body) in [
        ("m.n2.forged2", row("n1", &cid1, "forged2")),
        ("m.n2.forged3", row("n2", &cid1, "forged3")),
        ("m.n2.forged4", row("n2", &cid1, "not-its-key")),
    ] {
        let answer = publish_as(&url, "n2", &kv(key), &[], &body);
        assert!(answer.is_ok(), "{key}: {answer:?}");
    }
    // On n1's keys: refused by the server.
    for (key, headers) in [
        ("m.n1.forged", vec![]),
        ("m.n1.llama", vec![("KV-Operation", "DEL")]),
        ("n.n1", vec![]),
    ] {
        let answer = publish_as(&url, "n2", &kv(key), &headers, &row("n1", &cid1, "forged"));
        assert!(answer.is_err(), "{key} must be refused: {answer:?}");
    }
    for api in [
        "$JS.API.STREAM.PURGE.KV_CATALOG_FLEET",
        "$JS.API.STREAM.DELETE.KV_CATALOG_FLEET",
        "$JS.API.STREAM.PURGE.CATALOG",
        "$JS.API.STREAM.UPDATE.KV_CATALOG_FLEET",
    ] {
        assert!(
            api_as(&url, "n2", api, "{}").is_err(),
            "{api} must be refused"
        );
    }

    let ls = || {
        let (code, out, err) = run(as_user(
            &mut catalog(d1.path(), &["--json", "fleet", "ls", "--nats", &url]),
            "reader",
        ));
        assert_eq!(code, 0, "{err}");
        (serde_json::from_str::<Value>(&out).unwrap(), err)
    };
    let holdings = |ls: &Value| -> Vec<(String, String)> {
        ls["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["node"].as_str().unwrap().into(),
                    m["id"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let want = vec![
        ("n1".to_string(), "llama".to_string()),
        ("n2".into(), "other".into()),
    ];
    let (listing, err) = ls();
    assert_eq!(holdings(&listing), want, "{listing}");
    let mut dropped: Vec<(String, String)> = listing["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["at"].as_str().unwrap().into(),
                d["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    dropped.sort();
    assert_eq!(
        dropped,
        [
            (
                "m.n2.forged2".to_string(),
                "body-names-another-node".to_string()
            ),
            ("m.n2.forged3".into(), "catalog-id-not-the-claims".into()),
            ("m.n2.forged4".into(), "body-names-another-model".into()),
        ]
    );
    assert!(
        err.contains("left out 3") && err.contains("m.n2.forged2"),
        "{err}"
    );
    let nodes: Vec<&str> = listing["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["n1", "n2"]);

    // A roll-up from n2's own key would erase every node's values: the
    // bucket does not allow it.
    let answer = publish_as(&url, "n2", &kv("m.n2.zz"), &[("Nats-Rollup", "all")], b"{}");
    assert!(answer.is_err(), "a roll-up is refused: {answer:?}");
    let (listing, _) = ls();
    assert_eq!(holdings(&listing), want, "still there: {listing}");
}
