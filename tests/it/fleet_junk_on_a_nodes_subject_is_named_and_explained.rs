//! S11 (issue 21): a message on a node's subject that `catalog export` did
//! not publish for that node (no message id; an id naming another catalog
//! over a body that is not an event) stops its export with what is wrong
//! and how to remove it, never with a misleading "belongs to catalog x";
//! once it is removed, the export continues where it was.

use crate::nats_support::{NatsServer, catalog, node_messages, rt, run};
use async_nats::jetstream;
use catalog_core::{Catalog, EntrySpec};

#[test]
fn junk_on_a_subject_is_named_with_its_fix() {
    let server = NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let put = |id: &str| {
        Catalog::open(root)
            .unwrap()
            .put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
            .unwrap();
    };
    put("a");
    put("b");
    let export = || {
        run(&mut catalog(
            root,
            &["export", "--nats", &url, "--node", "n1"],
        ))
    };
    assert_eq!(export().0, 0);

    let other = "f".repeat(32);
    for (id, body) in [
        (None, "hello".to_string()),
        (Some(format!("n1:{other}:5")), "{\"junk\":true}".to_string()),
        (Some("n1:x:y".to_string()), "{}".to_string()),
    ] {
        let seq = rt().block_on(async {
            let js = jetstream::new(async_nats::connect(&url).await.unwrap());
            let mut h = async_nats::HeaderMap::new();
            if let Some(id) = &id {
                h.insert("Nats-Msg-Id", id.as_str());
            }
            js.publish_with_headers("catalog.n1.events", h, body.clone().into())
                .await
                .unwrap()
                .await
                .unwrap()
                .sequence
        });
        put(&format!("after-{seq}"));
        let (code, out, err) = export();
        assert_eq!(code, 1, "{id:?}: {out} {err}");
        assert!(!err.contains("belongs to catalog"), "not misleading: {err}");
        assert!(
            err.contains("was not published by `catalog export` for node `n1`")
                && err.contains(&format!("nats stream rmm CATALOG {seq}")),
            "{id:?}: names the message and its fix: {err}"
        );
        rt().block_on(async {
            let js = jetstream::new(async_nats::connect(&url).await.unwrap());
            js.get_stream("CATALOG")
                .await
                .unwrap()
                .delete_message(seq)
                .await
                .unwrap();
        });
        let (code, _, err) = export();
        assert_eq!(code, 0, "removed, the export continues: {err}");
    }
    let seqs: Vec<u64> = node_messages(&url, "n1")
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "each event once, in order");
}
