//! Audit from the log: a model's whole history across sealed segments and
//! compactions, the state as of a sequence number or a time, and a
//! resumable cursor over all events.

use catalog_core::{
    Catalog, EntrySpec, Lifecycle, Op, OpContext, Options, Verification, VerifyResult,
};

fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1024)
}

#[test]
fn history_shows_every_event_of_a_model_across_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    let ctx = OpContext::new().correlation_id("req-9").actor("ops");
    catalog
        .with_context(ctx.clone())
        .put(EntrySpec::new("m", "hf:o/r", "blobs/x").size_bytes(1))
        .unwrap();
    for i in 0..30 {
        catalog
            .put(EntrySpec::new(format!("other{i}"), "hf:o/r", "blobs/y"))
            .unwrap();
    }
    catalog.compact().unwrap();
    catalog.set_state("m", Lifecycle::Retired).unwrap();
    catalog
        .record_verification(
            "m",
            Verification::new(VerifyResult::Fail, "digest mismatch"),
        )
        .unwrap();
    catalog.compact().unwrap();
    catalog
        .put(EntrySpec::new("m", "hf:o/r", "blobs/x").size_bytes(2))
        .unwrap();
    assert!(catalog.delete("m").unwrap());
    drop(catalog);

    let reader = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    let history = reader.history("m").unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, ["put", "set_state", "verify", "put", "delete"]);
    assert_eq!(history[0].seq, 1);
    assert_eq!(
        history[0].context, ctx,
        "the correlation id and actor are in the history"
    );
    assert!(matches!(&history[0].op, Op::Put(spec) if spec.size_bytes == 1));
    assert!(
        matches!(&history[2].op, Op::Verify { outcome, .. } if outcome.result == VerifyResult::Fail)
    );
    assert!(
        history
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].time_ms <= w[1].time_ms)
    );
    assert!(
        reader.recovery_report().snapshot_seq.is_some(),
        "the history crossed snapshots"
    );
}

#[test]
fn state_as_of_a_sequence_or_a_time_and_a_resumable_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    // (seq, time, state) after every operation.
    let mut seen = vec![(0u64, 0u64, catalog.list())];
    for i in 0..40u64 {
        let id = format!("m{}", i % 7);
        catalog
            .put(EntrySpec::new(id.clone(), "hf:o/r", "blobs/x").size_bytes(i))
            .unwrap();
        seen.push((catalog.head().seq, catalog.head().time_ms, catalog.list()));
        if i % 3 == 0 {
            catalog.set_state(&id, Lifecycle::Retired).unwrap();
            seen.push((catalog.head().seq, catalog.head().time_ms, catalog.list()));
        }
        if i % 9 == 0 {
            assert!(catalog.delete(&format!("m{}", (i + 3) % 7)).is_ok());
            seen.push((catalog.head().seq, catalog.head().time_ms, catalog.list()));
        }
        if i == 20 {
            catalog.compact().unwrap();
        }
    }
    for (seq, _, state) in &seen {
        let at: Vec<_> = catalog.state_at(*seq).unwrap().into_values().collect();
        assert_eq!(&at, state, "state_at({seq})");
    }
    // By time: after every record written at or before t (several records
    // can share a millisecond, so compare with the last one at that time).
    for (i, (_, time, _)) in seen.iter().enumerate().skip(1) {
        let last_at_time = seen.iter().rposition(|(_, t, _)| t == time).unwrap();
        let at: Vec<_> = catalog
            .state_at_time(*time)
            .unwrap()
            .into_values()
            .collect();
        assert_eq!(at, seen[last_at_time].2, "state_at_time for record {i}");
    }

    // The cursor resumes where it stopped.
    let head = catalog.head().seq;
    let mut cursor = catalog.events(0).unwrap();
    let first: Vec<u64> = cursor.by_ref().take(10).map(|e| e.unwrap().seq).collect();
    assert_eq!(first, (1..=10).collect::<Vec<_>>());
    assert_eq!(cursor.next_seq(), 11, "the cursor says where to resume");
    let all: Vec<u64> = catalog.events(0).unwrap().map(|e| e.unwrap().seq).collect();
    assert_eq!(
        all,
        (1..=head).collect::<Vec<_>>(),
        "every record, in order, across segments"
    );
    let resumed: Vec<u64> = catalog
        .events(11)
        .unwrap()
        .map(|e| e.unwrap().seq)
        .collect();
    assert_eq!(resumed, (11..=head).collect::<Vec<_>>());
}

#[test]
fn pruned_history_is_an_error_not_an_empty_past() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts().retain_history(false).keep_snapshots(1);
    let catalog = Catalog::open_with(dir.path(), o).unwrap();
    let first = catalog
        .put(EntrySpec::new("a", "hf:o/r", "blobs/x"))
        .unwrap();
    for i in 0..40 {
        catalog
            .put(EntrySpec::new(format!("b{i}"), "hf:o/r", "blobs/x"))
            .unwrap();
    }
    catalog.compact().unwrap();
    catalog
        .put(EntrySpec::new("c", "hf:o/r", "blobs/x"))
        .unwrap();
    let start = catalog.history_start().unwrap();
    assert!(start > 1, "history was pruned");
    assert!(
        catalog.state_at(1).is_err(),
        "the state at a pruned sequence is not known"
    );
    assert!(catalog.state_at_time(first.updated_at_ms).is_err() || start == 1);
    assert!(
        catalog.events(1).is_err(),
        "events from a pruned sequence are refused"
    );
    assert!(catalog.events(0).is_ok(), "from 0: whatever is kept");
    assert_eq!(
        catalog.events(start).unwrap().next().unwrap().unwrap().seq,
        start
    );
}
