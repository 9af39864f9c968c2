//! S9 (issue 21): the one stream is bounded by rotation, as docs/FLEET.md
//! ("Rotation") says: the old stream is sealed, kept as a mirror
//! (`CATALOG_ARCHIVE`, no subjects of its own, so nothing overlaps), and
//! deleted; the exporters create the stream again and resume after what
//! each node's claim in the bucket says was exported, not at event 1. The
//! archive still answers `fleet history`, and the new stream holds only
//! what came after.

use crate::nats_support::{NatsServer, catalog, read_stream, rt, run};
use async_nats::jetstream::{self, stream};
use catalog_core::{Catalog, EntrySpec};
use serde_json::Value;
use std::time::{Duration, Instant};

fn seqs(url: &str, stream: &str, node: &str) -> Vec<u64> {
    let subject = format!("catalog.{node}.events");
    read_stream(url, stream)
        .iter()
        .filter(|m| m.subject == subject)
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn exporters_resume_from_their_claims_in_a_new_stream() {
    let server = NatsServer::start();
    let url = server.url();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let put = |root: &std::path::Path, id: &str| {
        Catalog::open(root)
            .unwrap()
            .put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
            .unwrap();
    };
    let export = |root: &std::path::Path, node: &str| {
        let (code, out, err) = run(&mut catalog(
            root,
            &["--json", "export", "--nats", &url, "--node", node],
        ));
        assert_eq!(code, 0, "{node}: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    for id in ["a", "b", "c"] {
        put(d1.path(), id);
    }
    put(d2.path(), "a");
    put(d2.path(), "z");
    export(d1.path(), "n1");
    export(d2.path(), "n2");

    // The rotation, as an administrator runs it.
    rt().block_on(async {
        let js = jetstream::new(async_nats::connect(&url).await.unwrap());
        let mut cfg = js
            .get_stream("CATALOG")
            .await
            .unwrap()
            .cached_info()
            .config
            .clone();
        cfg.sealed = true;
        js.update_stream(cfg).await.unwrap();
        let mut archive = js
            .create_stream(stream::Config {
                name: "CATALOG_ARCHIVE".into(),
                mirror: Some(stream::Source {
                    name: "CATALOG".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while archive.info().await.unwrap().state.messages < 5 {
            assert!(Instant::now() < deadline, "the mirror never caught up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        js.delete_stream("CATALOG").await.unwrap();
    });

    put(d1.path(), "d");
    put(d1.path(), "e");
    let r1 = export(d1.path(), "n1");
    let r2 = export(d2.path(), "n2");
    assert_eq!(
        (r1["resumed_after"].as_u64(), r1["published"].as_u64()),
        (Some(3), Some(2)),
        "n1 resumes after its claim: {r1}"
    );
    assert_eq!(
        r2["published"].as_u64(),
        Some(0),
        "n2 has nothing new: {r2}"
    );
    assert_eq!(seqs(&url, "CATALOG", "n1"), [4, 5], "only what came after");
    assert!(seqs(&url, "CATALOG", "n2").is_empty());
    assert_eq!(seqs(&url, "CATALOG_ARCHIVE", "n1"), [1, 2, 3]);
    assert_eq!(seqs(&url, "CATALOG_ARCHIVE", "n2"), [1, 2]);

    // The archive answers history; the new stream, what came after.
    let history = |stream: &str, id: &str| -> Vec<(String, u64)> {
        let (code, out, err) = run(&mut catalog(
            d1.path(),
            &[
                "--json", "fleet", "history", id, "--nats", &url, "--stream", stream,
            ],
        ));
        assert_eq!(code, 0, "{err}");
        out.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["node"].as_str().unwrap().to_string(),
                    v["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let mut a = history("CATALOG_ARCHIVE", "a");
    a.sort();
    assert_eq!(a, [("n1".to_string(), 1), ("n2".to_string(), 1)]);
    assert_eq!(history("CATALOG", "d"), [("n1".to_string(), 4)]);
    assert!(history("CATALOG", "a").is_empty());
}
