//! S4 and S8 (issue 21): an existing event stream whose retention
//! (work-queue, interest), age limit or per-subject limit would remove a
//! node's last message (and make its exporter publish its history again),
//! or which allows roll-ups, is refused with what is wrong and how to fix
//! it, and nothing is published; so is an existing fleet bucket that
//! allows roll-ups (any node could erase it) or expires values, by the
//! exporter and by `fleet ls`. Fixed, the same stream and bucket work.

use crate::nats_support::{NatsServer, catalog, read_stream, rt, run};
use async_nats::jetstream::{self, stream};
use catalog_core::{Catalog, EntrySpec};
use std::time::Duration;

fn events_stream(change: impl FnOnce(&mut stream::Config)) -> stream::Config {
    let mut cfg = stream::Config {
        name: "CATALOG".into(),
        subjects: vec!["catalog.*.events".into()],
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    change(&mut cfg);
    cfg
}

fn bucket_stream(change: impl FnOnce(&mut stream::Config)) -> stream::Config {
    let mut cfg = stream::Config {
        name: "KV_CATALOG_FLEET".into(),
        subjects: vec!["$KV.CATALOG_FLEET.>".into()],
        max_messages_per_subject: 1,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    };
    change(&mut cfg);
    cfg
}

/// Replaces the streams `name`d in `configs` with them.
fn set_up(url: &str, configs: &[stream::Config]) {
    rt().block_on(async {
        let js = jetstream::new(async_nats::connect(url).await.unwrap());
        for cfg in configs {
            let _ = js.delete_stream(&cfg.name).await;
            js.create_stream(cfg.clone()).await.unwrap();
        }
    });
}

#[test]
fn streams_and_buckets_that_would_break_the_fleet_are_refused() {
    let server = NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    Catalog::open(root)
        .unwrap()
        .put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();
    let export = || {
        run(&mut catalog(
            root,
            &["export", "--nats", &url, "--node", "n1"],
        ))
    };

    let cases: Vec<(&str, stream::Config, &str)> = vec![
        (
            "work-queue retention",
            events_stream(|c| c.retention = stream::RetentionPolicy::WorkQueue),
            "WorkQueue",
        ),
        (
            "interest retention",
            events_stream(|c| c.retention = stream::RetentionPolicy::Interest),
            "Interest",
        ),
        (
            "an age limit",
            events_stream(|c| c.max_age = Duration::from_secs(3600)),
            "--max-age 0",
        ),
        (
            "a per-subject limit",
            events_stream(|c| c.max_messages_per_subject = 10),
            "--max-msgs-per-subject=-1",
        ),
        (
            "roll-ups",
            events_stream(|c| c.allow_rollup = true),
            "--no-allow-rollup",
        ),
    ];
    for (what, cfg, fix) in cases {
        set_up(&url, &[cfg]);
        let (code, out, err) = export();
        assert_eq!(code, 1, "{what} is refused: {out} {err}");
        assert!(
            err.contains("CATALOG") && err.contains(fix),
            "{what}: says what to do: {err}"
        );
        assert!(
            read_stream(&url, "CATALOG").is_empty(),
            "{what}: nothing published"
        );
    }

    // A bucket as the client's `create_key_value` (and this exporter,
    // before) lays it out: roll-ups allowed.
    set_up(&url, &[events_stream(|_| {}), bucket_stream(|_| {})]);
    let (code, _, err) = export();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("KV_CATALOG_FLEET") && err.contains("--no-allow-rollup"),
        "{err}"
    );
    assert!(read_stream(&url, "CATALOG").is_empty(), "nothing published");
    let (code, _, err) = run(&mut catalog(root, &["fleet", "ls", "--nats", &url]));
    assert_eq!(code, 1, "fleet ls refuses it too: {err}");
    assert!(err.contains("roll-ups"), "{err}");
    set_up(
        &url,
        &[bucket_stream(|c| {
            c.allow_rollup = false;
            c.max_age = Duration::from_secs(60);
        })],
    );
    let (code, _, err) = export();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("expire"), "{err}");

    // Fixed: the same names work.
    set_up(&url, &[bucket_stream(|c| c.allow_rollup = false)]);
    let (code, _, err) = export();
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_stream(&url, "CATALOG").len(), 1);
}
