//! `events_from(position)` (what `catalog events --follow` polls with)
//! reads only what follows the last event seen, and never skips or repeats
//! one: across segment rotations, when a compaction prunes the segment it
//! was in, at a torn tail, and when the records after it were replaced.

use catalog_core::{Catalog, Event, EventsPosition, Options};
use std::path::Path;

fn drain(c: &Catalog, from: &EventsPosition) -> (Vec<Event>, EventsPosition) {
    let mut events = c.events_from(from).unwrap();
    let seen: Vec<Event> = events.by_ref().map(Result::unwrap).collect();
    (seen, events.position())
}

fn start(c: &Catalog) -> (Vec<Event>, EventsPosition) {
    let mut events = c.events(0).unwrap();
    let seen: Vec<Event> = events.by_ref().map(Result::unwrap).collect();
    (seen, events.position())
}

fn segments(root: &Path) -> Vec<u64> {
    let mut n: Vec<u64> = std::fs::read_dir(root.join("catalog/journal"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".seg")?.parse().ok()
        })
        .collect();
    n.sort_unstable();
    n
}

#[test]
fn polls_across_rotations_see_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None).max_segment_bytes(700);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    let follower = Catalog::open_read_only_with(dir.path(), o).unwrap();
    let (mut seen, mut pos) = start(&follower);
    let mut rng = crate::support::Rng(crate::support::seed());
    let mut i = 0;
    for _ in 0..80 {
        for _ in 0..rng.below(4) {
            writer.put(crate::support::spec(i % 25)).unwrap();
            i += 1;
        }
        let (new, next) = drain(&follower, &pos);
        seen.extend(new);
        pos = next;
        assert_eq!(pos.next_seq(), writer.head().seq + 1, "caught up");
    }
    assert!(segments(dir.path()).len() > 5, "the journal rotated");
    let all: Vec<Event> = writer.events(0).unwrap().map(Result::unwrap).collect();
    assert_eq!(seen, all, "every event once, in order");
}

#[test]
fn a_pruned_segment_is_resumed_by_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default()
        .auto_compact(None)
        .max_segment_bytes(700)
        .retain_history(false)
        .keep_snapshots(1);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..20 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    let follower = Catalog::open_read_only_with(dir.path(), o).unwrap();
    let (seen, pos) = start(&follower);
    assert_eq!(seen.len(), 20);
    let followed = *segments(dir.path()).last().unwrap();
    writer.compact().unwrap();
    for i in 20..25 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    assert!(
        !segments(dir.path()).contains(&followed),
        "the compaction pruned the segment the follower was in: {:?}",
        segments(dir.path())
    );
    let (new, pos) = drain(&follower, &pos);
    let seqs: Vec<u64> = new.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = writer.events(21).unwrap().map(|e| e.unwrap().seq).collect();
    assert_eq!(seqs, expected, "exactly the events after the last one seen");
    assert!(new.iter().all(|e| e.seq > 20));
    assert_eq!(
        new.iter().filter(|e| e.kind() == "put").count(),
        5,
        "the five new puts: {new:?}"
    );
    assert_eq!(pos.next_seq(), writer.head().seq + 1);
}

#[test]
fn a_torn_tail_is_not_an_event_and_what_replaces_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..5 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    drop(writer);
    let follower = Catalog::open_read_only_with(dir.path(), o.clone()).unwrap();
    let (seen, pos) = start(&follower);
    assert_eq!(seen.len(), 5);
    // Half of a record, as a crash in mid-write leaves it.
    let seg = crate::support::segment(dir.path(), 1);
    let bytes = std::fs::read(&seg).unwrap();
    let ends = crate::support::record_ends(&bytes);
    let last = &bytes[ends[3] as usize..ends[4] as usize];
    crate::support::write_at_end(&seg, &last[..last.len() / 2]);
    let (new, same) = drain(&follower, &pos);
    assert!(new.is_empty(), "a torn tail is not history: {new:?}");
    assert_eq!(same, pos, "the position stays before the torn bytes");
    // The writer's open cuts the torn tail; what it writes next is seen.
    let writer = Catalog::open_with(dir.path(), o).unwrap();
    assert!(writer.recovery_report().torn_tail.is_some());
    writer.put(crate::support::spec(9)).unwrap();
    let (new, _) = drain(&follower, &pos);
    let seqs: Vec<u64> = new.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [6], "the one new record, once");
    assert_eq!(new[0].model_id(), Some(crate::support::spec(9).id.as_str()));
}

#[test]
fn records_replaced_after_the_position_are_resumed_by_sequence_number() {
    // A writer removes records whose sync failed and writes others: here
    // the last two records are cut and two different ones written where
    // they were. The follower saw the cut ones; it resumes after them by
    // sequence number, never reading from the middle of a new record.
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None).preallocate(0);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..6 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    drop(writer);
    let follower = Catalog::open_read_only_with(dir.path(), o.clone()).unwrap();
    let (_, pos) = start(&follower);
    assert_eq!(pos.next_seq(), 7);
    let seg = crate::support::segment(dir.path(), 1);
    let bytes = std::fs::read(&seg).unwrap();
    let ends = crate::support::record_ends(&bytes);
    std::fs::write(&seg, &bytes[..ends[3] as usize]).unwrap();
    let writer = Catalog::open_with(dir.path(), o).unwrap();
    for i in 10..13 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    let (new, pos) = drain(&follower, &pos);
    let seqs: Vec<u64> = new.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [7], "only the record after the last one seen");
    assert_eq!(
        new[0].model_id(),
        Some(crate::support::spec(12).id.as_str())
    );
    assert_eq!(pos.next_seq(), 8);
}
