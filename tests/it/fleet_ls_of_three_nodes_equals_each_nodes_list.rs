//! Three node catalogs exported into one stream: `fleet ls` holds exactly
//! each node's `list` (id, lifecycle, trust, digest, size), `--model`
//! narrows it to the nodes holding that model, `fleet history` merges that
//! model's events from every node in time order, and staleness follows
//! `--stale-after`.

use crate::nats_support::{NatsServer, catalog, run};
use serde_json::Value;
use std::collections::BTreeMap;

fn ok(root: &std::path::Path, args: &[&str]) -> String {
    let (code, out, err) = run(&mut catalog(root, args));
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

type Row = (String, String, String, Value, u64);

fn row(v: &Value) -> Row {
    (
        v["id"].as_str().unwrap().to_string(),
        v["lifecycle"].as_str().unwrap().to_string(),
        v["trust"].as_str().unwrap().to_string(),
        v["digest"].clone(),
        v["size_bytes"].as_u64().unwrap(),
    )
}

#[test]
fn fleet_ls_is_each_nodes_list_and_history_merges_the_nodes() {
    let server = NatsServer::start();
    let url = server.url();
    let src = tempfile::tempdir().unwrap();
    let nodes: Vec<(String, tempfile::TempDir)> = ["a", "b", "c"]
        .iter()
        .map(|n| (n.to_string(), tempfile::tempdir().unwrap()))
        .collect();
    for (k, (name, dir)) in nodes.iter().enumerate() {
        let root = dir.path();
        let shared = src.path().join(format!("shared-{name}.gguf"));
        std::fs::write(&shared, b"the same weights").unwrap();
        ok(root, &["add", shared.to_str().unwrap(), "--id", "llama"]);
        for i in 0..=k {
            let f = src.path().join(format!("{name}-{i}.gguf"));
            std::fs::write(&f, format!("weights {name} {i}")).unwrap();
            ok(
                root,
                &["add", f.to_str().unwrap(), "--id", &format!("{name}-{i}")],
            );
        }
        ok(root, &["verify", "--all"]);
        if k == 1 {
            ok(root, &["retire", "llama"]);
        }
        if k == 2 {
            ok(root, &["delete", "c-0"]);
        }
        ok(root, &["export", "--nats", &url, "--node", name]);
    }

    let any = nodes[0].1.path();
    let ls: Value =
        serde_json::from_str(&ok(any, &["--json", "fleet", "ls", "--nats", &url])).unwrap();
    let mut by_node: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for m in ls["models"].as_array().unwrap() {
        by_node
            .entry(m["node"].as_str().unwrap().to_string())
            .or_default()
            .push(row(m));
        assert_eq!(m["stale"], false, "{m}");
    }
    for (name, dir) in &nodes {
        let list: Value = serde_json::from_str(&ok(dir.path(), &["--json", "list"])).unwrap();
        let want: Vec<Row> = list.as_array().unwrap().iter().map(row).collect();
        assert_eq!(
            by_node.get(name),
            Some(&want),
            "fleet ls for node {name} is its list"
        );
    }
    assert_eq!(ls["nodes"].as_array().unwrap().len(), 3);

    let llama: Value = serde_json::from_str(&ok(
        any,
        &["--json", "fleet", "ls", "--nats", &url, "--model", "llama"],
    ))
    .unwrap();
    let held: Vec<(&str, &str)> = llama["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["node"].as_str().unwrap(),
                m["lifecycle"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(held, [("a", "active"), ("b", "retired"), ("c", "active")]);

    let stale: Value = serde_json::from_str(&ok(
        any,
        &[
            "--json",
            "fleet",
            "ls",
            "--nats",
            &url,
            "--stale-after",
            "0",
        ],
    ))
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let stale2: Value = serde_json::from_str(&ok(
        any,
        &[
            "--json",
            "fleet",
            "ls",
            "--nats",
            &url,
            "--stale-after",
            "0",
        ],
    ))
    .unwrap();
    for n in stale2["nodes"].as_array().unwrap() {
        assert_eq!(n["stale"], true, "nothing heard for more than 0 s: {n}");
    }
    assert!(stale["nodes"].is_array());

    let history: Vec<Value> = ok(
        any,
        &["--json", "fleet", "history", "llama", "--nats", &url],
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    let mut want = 0;
    for (name, dir) in &nodes {
        let h = ok(dir.path(), &["--json", "history", "llama"]);
        let n = h.lines().count();
        want += n;
        assert_eq!(
            history
                .iter()
                .filter(|e| e["node"] == name.as_str())
                .count(),
            n,
            "every llama event of node {name}"
        );
    }
    assert_eq!(history.len(), want);
    let times: Vec<u64> = history
        .iter()
        .map(|e| e["time_ms"].as_u64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "time order: {times:?}"
    );
    assert!(history.iter().all(|e| e["id"] == "llama"));
    // A deleted model is history, not fleet state.
    assert!(
        !by_node["c"].iter().any(|r| r.0 == "c-0"),
        "a deleted model is not listed"
    );
    let c0 = ok(any, &["--json", "fleet", "history", "c-0", "--nats", &url]);
    assert_eq!(
        c0.lines()
            .last()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].clone()),
        Some(Value::from("delete"))
    );
}
