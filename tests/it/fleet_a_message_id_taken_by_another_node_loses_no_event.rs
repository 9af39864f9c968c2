//! S1 (issue 21): JetStream's duplicate window is per stream, so a node
//! may publish, on its own subject, messages carrying another node's next
//! message ids. With the permission template, n2 does so for n1's events 2
//! and 3: n1's export must not take the "duplicate" acknowledgements as
//! success. It says which id was taken and by which subject (exit 1), and
//! still stores both events, each once, under ids nobody can guess; the
//! next export has nothing to do, and `fleet history` shows n1's events
//! once and none of n2's forgeries. n1 signs (`--sign`): its events
//! published again under fallback ids are signed over those ids, and pass
//! `fleet history --verify`.

use crate::nats_support::{NatsServer, as_user, catalog, publish_as, read_stream_as, run};
use catalog_core::{Catalog, EntrySpec};
use serde_json::Value;

#[test]
fn a_taken_message_id_is_reported_and_its_event_still_stored_once() {
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let put = |root: &std::path::Path, id: &str| {
        Catalog::open(root)
            .unwrap()
            .put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
            .unwrap();
    };
    put(d1.path(), "m");
    put(d2.path(), "other");
    let export = |root: &std::path::Path, node: &str| {
        let mut args = vec!["--json", "export", "--nats", &url, "--node", node];
        if node == "n1" {
            args.push("--sign");
        }
        run(as_user(&mut catalog(root, &args), node))
    };
    assert_eq!(export(d1.path(), "n1").0, 0);
    assert_eq!(export(d2.path(), "n2").0, 0);

    // n2 takes n1's next two message ids, on its own subject (which the
    // server lets it write).
    let cid1 = Catalog::open_read_only(d1.path()).unwrap().catalog_id();
    for seq in [2, 3] {
        let id = format!("n1:{cid1}:{seq}");
        let forged = format!(
            r#"{{"node":"n1","catalog_id":"{cid1}","seq":{seq},"time_ms":1,"kind":"delete","id":"m"}}"#
        );
        let answer = publish_as(
            &url,
            "n2",
            "catalog.n2.events",
            &[("Nats-Msg-Id", &id)],
            forged.as_bytes(),
        );
        assert!(matches!(answer, Ok((_, false))), "stored: {answer:?}");
    }

    put(d1.path(), "m2");
    put(d1.path(), "m3");
    let (code, out, err) = export(d1.path(), "n1");
    assert_eq!(
        code, 1,
        "a taken id is an error, never success: {out} {err}"
    );
    assert!(
        err.contains(&format!("n1:{cid1}:2")) && err.contains("catalog.n2.events"),
        "names the taken id and who holds it: {err}"
    );
    let n1: Vec<_> = read_stream_as(&url, "CATALOG", Some("admin"))
        .into_iter()
        .filter(|m| m.subject == "catalog.n1.events")
        .collect();
    let seqs: Vec<u64> = n1.iter().map(|m| m.body["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3], "every event of n1 stored, once");
    for (m, seq) in n1[1..].iter().zip([2, 3]) {
        let tag = m.msg_id.strip_prefix(&format!("n1:{cid1}:{seq}:"));
        assert!(
            tag.is_some_and(|t| t.len() == 16),
            "event {seq} was stored under a fallback id: {}",
            m.msg_id
        );
    }

    let (code, out, err) = export(d1.path(), "n1");
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["published"].as_u64(), report["last_seq"].as_u64()),
        (Some(0), Some(3)),
        "nothing left to publish: {report}"
    );

    for model in ["m", "m2"] {
        let (code, out, err) = run(as_user(
            &mut catalog(
                d1.path(),
                &[
                    "--json", "fleet", "history", model, "--nats", &url, "--verify",
                ],
            ),
            "reader",
        ));
        assert_eq!(code, 0, "{err}");
        let events: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 1, "{model}: n1's put, once: {out}");
        assert_eq!(
            (events[0]["node"].as_str(), events[0]["kind"].as_str()),
            (Some("n1"), Some("put"))
        );
        if model == "m" {
            let warning: Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
            assert_eq!(
                warning["dropped"].as_array().map(Vec::len),
                Some(2),
                "n2's two forgeries are left out and counted: {err}"
            );
        }
    }
}
