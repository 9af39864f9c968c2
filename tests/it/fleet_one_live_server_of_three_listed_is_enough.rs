//! S6 (issue 21): with three servers listed and two of them down, a
//! one-shot `export`, `fleet ls` and `fleet history` try every listed
//! server (in random order) and answer from the one that is up, every
//! time, instead of failing with "reached maximum number of reconnects".

use crate::nats_support::{NatsServer, catalog, free_port, node_messages, run};
use catalog_core::{Catalog, EntrySpec};

#[test]
fn one_server_up_of_three_listed_answers_every_time() {
    let server = NatsServer::start();
    let dead = [free_port(), free_port()];
    let urls = format!(
        "nats://127.0.0.1:{},nats://127.0.0.1:{},{}",
        dead[0],
        dead[1],
        server.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rounds = 6;
    for round in 0..rounds {
        Catalog::open(root)
            .unwrap()
            .put(EntrySpec::new(
                format!("m{round}"),
                "hf:org/repo",
                "blobs/x",
            ))
            .unwrap();
        for args in [
            vec!["export", "--nats", &urls, "--node", "n1"],
            vec!["--json", "fleet", "ls", "--nats", &urls],
            vec!["fleet", "history", "m0", "--nats", &urls],
        ] {
            let (code, out, err) = run(&mut catalog(root, &args));
            assert_eq!(code, 0, "round {round}, {args:?}: {out} {err}");
        }
    }
    let seqs: Vec<u64> = node_messages(&server.url(), "n1")
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=rounds).collect::<Vec<u64>>());
}
