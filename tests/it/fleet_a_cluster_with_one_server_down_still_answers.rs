//! S6, S7 (issue 21): a 3-server JetStream cluster, stream and bucket with
//! 3 replicas, one server killed: with all three servers listed, `fleet
//! ls` and `fleet history` answer every time, and `export` resumes and
//! publishes the new events exactly once (the stream and bucket keep a
//! leader and a current replica).

use crate::nats_support::{NatsServer, catalog, free_port, read_stream, run};
use catalog_core::{Catalog, EntrySpec};
use serde_json::Value;
use std::time::{Duration, Instant};

const TRIES: usize = 8;

fn cluster() -> Vec<NatsServer> {
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let all = routes
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    (0..3)
        .map(|i| {
            let name = format!("s{i}");
            let listen = format!("nats://127.0.0.1:{}", routes[i]);
            NatsServer::start_with(&[
                "-n",
                &name,
                "--cluster_name",
                "fleet",
                "--cluster",
                &listen,
                "--routes",
                &all,
            ])
        })
        .collect()
}

#[test]
fn fleet_ls_history_and_export_work_with_one_server_of_three_down() {
    let mut servers = cluster();
    let urls = servers
        .iter()
        .map(NatsServer::url)
        .collect::<Vec<_>>()
        .join(",");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let put = |id: &str| {
        Catalog::open(root)
            .unwrap()
            .put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
            .unwrap();
    };
    put("m");
    put("m2");
    let export = || {
        run(&mut catalog(
            root,
            &["export", "--nats", &urls, "--node", "n1", "--replicas", "3"],
        ))
    };
    // The cluster elects its JetStream leader first.
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, _, err) = export();
        if code == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never took the export: {err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    eprintln!(
        "cluster took the first export after {:?}",
        started.elapsed()
    );
    servers[0].kill();
    let killed = Instant::now();
    let survivor = servers[1].url();
    let mut failures = Vec::new();
    for i in 0..TRIES {
        let (code, out, err) = run(&mut catalog(
            root,
            &["--json", "fleet", "ls", "--nats", &urls],
        ));
        if code != 0 {
            failures.push(format!("ls {i}: {err}"));
            continue;
        }
        let ls: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(ls["models"].as_array().map(Vec::len), Some(2), "{ls}");
        let (code, out, err) = run(&mut catalog(
            root,
            &["--json", "fleet", "history", "m", "--nats", &urls],
        ));
        if code != 0 {
            failures.push(format!("history {i}: {err}"));
            continue;
        }
        assert_eq!(out.lines().count(), 1, "{out}");
    }
    eprintln!(
        "{} reads after the kill in {:?}",
        2 * TRIES,
        killed.elapsed()
    );
    put("m3");
    let (code, _, err) = export();
    if code != 0 {
        failures.push(format!("export: {err}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed: {failures:#?}",
        failures.len(),
        2 * TRIES + 1
    );
    let seqs: Vec<u64> = read_stream(&survivor, "CATALOG")
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3], "each event once");
}
