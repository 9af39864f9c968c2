//! A following exporter resumes each poll where the journal ended at the
//! last one (a byte offset, `Catalog::events_from`): while a writer keeps
//! appending — rotating segments and compacting — every event is published
//! exactly once, and none twice (the server's duplicate detection would
//! hide a re-read from the stream, so the exporter's own count of
//! duplicates is asserted too).

use crate::nats_support::{NatsServer, node_messages};
use catalog_core::fleet::{self, ExportOptions, NatsConfig, NodeName};
use catalog_core::{Catalog, EntrySpec, Options};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[test]
fn each_new_event_is_read_and_published_once() {
    let server = NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let opts = || {
        Options::default()
            .auto_compact(None)
            .max_segment_bytes(2_000)
    };
    let writer = Catalog::open_with(&root, opts()).unwrap();
    let put = |i: u64| {
        writer
            .put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    };
    for i in 0..5 {
        put(i);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut export = ExportOptions::new(NodeName::new("follower").unwrap());
    export.follow = true;
    export.poll = Duration::from_millis(20);
    export.stop = Some(stop.clone());
    let nats = NatsConfig::new(&url).unwrap();
    let exporter = {
        let root = root.clone();
        std::thread::spawn(move || fleet::export(&root, &nats, &export))
    };
    for round in 0..12u64 {
        for i in 0..5 {
            put(100 + round * 5 + i);
        }
        if round % 4 == 3 {
            writer.compact().unwrap();
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    let head = writer.head().seq;
    let deadline = Instant::now() + Duration::from_secs(60);
    while node_messages(&url, "follower").len() < head as usize {
        assert!(Instant::now() < deadline, "the follower fell behind");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let report = exporter.join().unwrap().unwrap();
    assert_eq!(report.duplicates, 0, "an event was read and sent twice");
    assert_eq!(report.published, head);
    let seqs: Vec<u64> = node_messages(&url, "follower")
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>());
}
