//! `catalog export --follow` is killed with SIGKILL at random instants, over
//! and over, while this process keeps writing to the catalog (with segment
//! rotation and compaction); once in the middle the server itself is
//! killed and restarted under a following exporter; then a one-shot export
//! meets a refused connection (exit 1), and a follower started while the
//! server is away catches up once it is back. An independent read of the
//! stream then holds every event of the node exactly once, as 1..N, in
//! order, each body the event as `events --json` shows it.
//!
//! `CATALOG_FLEET_KILL_ROUNDS=N` runs N kill rounds (default 60).

use crate::nats_support::{NatsServer, catalog, last_seq, node_messages, run};
use catalog_core::{Catalog, EntrySpec, Lifecycle, Options};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn rounds() -> u64 {
    std::env::var("CATALOG_FLEET_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// `n` operations: puts, retirements, deletions, now and then a compaction.
fn write(catalog: &Catalog, i: &mut u64, n: u64) {
    for _ in 0..n {
        let id = format!("m{}", *i % 23);
        match *i % 7 {
            3 if catalog.exists(&id) => {
                catalog.set_state(&id, Lifecycle::Retired).unwrap();
            }
            5 if catalog.exists(&id) => {
                assert!(catalog.delete(&id).unwrap());
            }
            6 if (*i).is_multiple_of(5) => {
                catalog.compact().unwrap();
            }
            _ => {
                catalog
                    .put(EntrySpec::new(id, format!("hf:org/r{i}"), "blobs/x").size_bytes(*i))
                    .unwrap();
            }
        }
        *i += 1;
    }
}

fn follower(root: &std::path::Path, url: &str) -> Child {
    catalog(root, &["export", "--nats", url, "--node", "n1", "--follow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Waits (a hang guard, not a timing check) until the node's last message
/// is event `head`.
fn wait_for(url: &str, head: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while last_seq(url, "n1") < head {
        assert!(
            Instant::now() < deadline,
            "the follower never published event {head}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn export_killed_at_random_instants_leaves_each_event_exactly_once_in_order() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let mut server = NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The writer stays open all along: the exporter never needs its lock.
    let writer = Catalog::open_with(root, Options::default().max_segment_bytes(4096)).unwrap();
    let mut i = 0;
    let rounds = rounds();
    // Rounds whose kill came before the follower had caught up, and the
    // stream's last sequence number after each kill (never going back).
    let mut cut_short = 0;
    let mut last = 0;
    for round in 0..rounds {
        write(&writer, &mut i, 1 + rng.below(15));
        let child = follower(root, &url);
        for _ in 0..rng.below(4) {
            write(&writer, &mut i, 1 + rng.below(10));
            std::thread::sleep(Duration::from_millis(rng.below(15)));
        }
        if round == rounds / 2 {
            // The server dies under the follower and comes back.
            std::thread::sleep(Duration::from_millis(100));
            server.kill();
            write(&writer, &mut i, 5);
            std::thread::sleep(Duration::from_millis(300));
            server.up();
            write(&writer, &mut i, 5);
            std::thread::sleep(Duration::from_millis(rng.below(1500)));
        }
        std::thread::sleep(Duration::from_micros(rng.below(60_000)));
        let head = writer.head().seq;
        kill(child);
        let now = last_seq(&url, "n1");
        assert!(
            now >= last,
            "round {round}: the stream went back from {last} to {now}"
        );
        cut_short += u64::from(now < head);
        last = now;
    }

    // A refused connection: a one-shot export fails with exit 1.
    server.kill();
    write(&writer, &mut i, 3);
    let (code, _, err) = run(&mut catalog(
        root,
        &["export", "--nats", &url, "--node", "n1"],
    ));
    assert_eq!(
        code, 1,
        "a one-shot export to a stopped server exits 1: {err}"
    );
    assert!(err.contains("connecting"), "{err}");

    // A follower started while the server is away catches up once it is back.
    let child = follower(root, &url);
    std::thread::sleep(Duration::from_millis(500));
    server.up();
    write(&writer, &mut i, 3);
    let head = writer.head().seq;
    wait_for(&url, head);
    kill(child);

    // And a last one-shot export finds nothing left to do.
    let (code, out, err) = run(&mut catalog(
        root,
        &["--json", "export", "--nats", &url, "--node", "n1"],
    ));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["published"], 0, "{report}");
    assert_eq!(report["last_seq"], head, "{report}");

    // The independent read.
    let msgs = node_messages(&url, "n1");
    let seqs: Vec<u64> = msgs
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=head).collect();
    if let Some(i) = (0..seqs.len().max(expected.len())).find(|&i| seqs.get(i) != expected.get(i)) {
        panic!(
            "the stream must hold each event of the node exactly once, in order, no gap: \
             {} messages for {head} events, first difference at position {i}: {:?} where {:?} \
             was due",
            seqs.len(),
            seqs.get(i),
            expected.get(i)
        );
    }
    let cid = writer.catalog_id();
    let events: Vec<_> = writer.events(0).unwrap().map(Result::unwrap).collect();
    for (m, e) in msgs.iter().zip(&events) {
        assert_eq!(m.msg_id, format!("n1:{cid}:{}", e.seq));
        let mut body = m.body.clone();
        let obj = body.as_object_mut().unwrap();
        assert_eq!(obj.remove("node").unwrap(), "n1");
        assert_eq!(obj.remove("catalog_id").unwrap(), cid.as_str());
        assert_eq!(
            body,
            e.to_json(),
            "message {} is event {}",
            m.stream_seq,
            e.seq
        );
    }
    eprintln!(
        "{rounds} kill rounds ({cut_short} killed before catching up) + a server kill and \
         restart + a refused connection: {head} events, each exactly once"
    );
}
