//! `history(id)`, `entry_at` and `locate` answer through indexes (the
//! per-model index of the journal, the map by reference); a full read of
//! the journal (`history_scan`, `state_at`) and a scan of every entry
//! (`locate_scan`) are the truth. Random workloads with rotations,
//! compactions that keep or prune history, reopens, and a long-lived
//! read-only handle whose indexes must follow all of it.

use catalog_core::{Catalog, EntrySpec, Lifecycle, ModelRef, Options, Verification, VerifyResult};
use proptest::prelude::*;
use std::path::Path;

#[derive(Clone, Debug)]
enum Step {
    Put { id: u8, r: u8 },
    Retire { id: u8 },
    Verify { id: u8, pass: bool },
    Delete { id: u8 },
    Compact,
    Reopen { retain_history: bool },
    Refresh,
}

const IDS: u8 = 8;
const REFS: u8 = 3;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0..IDS, 0..REFS).prop_map(|(id, r)| Step::Put { id, r }),
        2 => (0..IDS).prop_map(|id| Step::Retire { id }),
        2 => (0..IDS, any::<bool>()).prop_map(|(id, pass)| Step::Verify { id, pass }),
        2 => (0..IDS).prop_map(|id| Step::Delete { id }),
        1 => Just(Step::Compact),
        1 => any::<bool>().prop_map(|retain_history| Step::Reopen { retain_history }),
        1 => Just(Step::Refresh),
    ]
}

fn opts(retain_history: bool) -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(600)
        .retain_history(retain_history)
}

fn id(i: u8) -> String {
    format!("m{i}")
}

fn reference(r: u8) -> ModelRef {
    ModelRef::parse(&format!("hf:org/r{r}")).unwrap()
}

/// Every indexed answer of `c` equals the full read's.
fn same_answers(c: &Catalog, label: &str, at: u64) {
    let state = c.state_at(at);
    for i in 0..IDS {
        let (indexed, scanned) = (c.history(&id(i)), c.history_scan(&id(i)));
        match (&indexed, &scanned) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{label}: history of {}", id(i)),
            _ => assert!(
                indexed.is_err() && scanned.is_err(),
                "{label}: history of {}: {indexed:?} vs {scanned:?}",
                id(i)
            ),
        }
        match &state {
            Ok(state) => assert_eq!(
                c.entry_at(&id(i), at).unwrap(),
                state.get(&id(i)).cloned(),
                "{label}: entry_at({}, {at})",
                id(i)
            ),
            Err(_) => assert!(
                c.entry_at(&id(i), at).is_err(),
                "{label}: entry_at({}, {at}) answers where state_at cannot",
                id(i)
            ),
        }
    }
    for r in 0..REFS {
        let source = reference(r);
        assert_eq!(
            c.locate(&source),
            c.locate_scan(&source),
            "{label}: locate {source}"
        );
        assert_eq!(
            c.exists_ref(&source),
            !c.locate_scan(&source).is_empty(),
            "{label}: exists_ref {source}"
        );
    }
}

fn run(root: &Path, steps: &[Step], probe: u64) {
    let mut retain = true;
    let mut writer = Catalog::open_with(root, opts(retain)).unwrap();
    writer
        .put(EntrySpec::new("first", "hf:org/r0", "blobs/f"))
        .unwrap();
    let reader = Catalog::open_read_only_with(root, opts(true)).unwrap();
    for (n, s) in steps.iter().enumerate() {
        match *s {
            Step::Put { id: i, r } => {
                writer
                    .put(EntrySpec::new(
                        id(i),
                        format!("hf:org/r{r}"),
                        format!("blobs/{n}"),
                    ))
                    .unwrap();
            }
            Step::Retire { id: i } => {
                let _ = writer.set_state(&id(i), Lifecycle::Retired);
            }
            Step::Verify { id: i, pass } => {
                let result = if pass {
                    VerifyResult::Pass
                } else {
                    VerifyResult::Fail
                };
                let _ = writer.record_verification(&id(i), Verification::new(result, "test"));
            }
            Step::Delete { id: i } => {
                let _ = writer.delete(&id(i));
            }
            Step::Compact => {
                writer.compact().unwrap();
            }
            Step::Reopen { retain_history } => {
                drop(writer);
                retain = retain_history;
                writer = Catalog::open_with(root, opts(retain)).unwrap();
            }
            Step::Refresh => {
                reader.refresh().unwrap();
            }
        }
        let head = writer.head().seq;
        let at = probe % (head + 1);
        same_answers(&writer, &format!("writer after step {n} {s:?}"), at);
        same_answers(&reader, &format!("reader after step {n} {s:?}"), at);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn indexed_answers_equal_a_full_read(
        steps in proptest::collection::vec(step(), 1..32),
        probe in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &steps, probe);
    }
}

#[test]
fn a_reader_that_indexed_records_later_removed_answers_from_the_files() {
    // A writer removes records whose sync failed, and writes others in
    // their place: simulated by cutting the last records off the newest
    // segment and writing different ones. A reader that indexed the cut
    // records must not serve them.
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None).preallocate(0);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..6 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    drop(writer);
    let reader = Catalog::open_read_only_with(dir.path(), o.clone()).unwrap();
    let victim = crate::support::spec(5).id;
    assert_eq!(reader.history(&victim).unwrap().len(), 1, "indexed");
    let seg = crate::support::segment(dir.path(), 1);
    let bytes = std::fs::read(&seg).unwrap();
    let ends = crate::support::record_ends(&bytes);
    std::fs::write(&seg, &bytes[..ends[ends.len() - 3] as usize]).unwrap();
    // One record where two were: the new end is before where the reader
    // stopped indexing.
    let writer = Catalog::open_with(dir.path(), o).unwrap();
    writer.put(crate::support::spec(7)).unwrap();
    let fresh = crate::support::spec(7).id;
    assert_eq!(
        reader.history(&fresh).unwrap(),
        reader.history_scan(&fresh).unwrap(),
        "the record written in place of the removed ones is seen"
    );
    assert_eq!(reader.history(&fresh).unwrap().len(), 1);
    for i in 0..9 {
        let id = crate::support::spec(i).id;
        assert_eq!(
            reader.history(&id).unwrap(),
            reader.history_scan(&id).unwrap(),
            "history of {id} after records were replaced"
        );
    }
    assert!(
        reader.history(&victim).unwrap().is_empty(),
        "the cut record is gone"
    );
}

#[test]
fn a_reader_follows_a_repair_that_swapped_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default().auto_compact(None);
    let writer = Catalog::open_with(dir.path(), o.clone()).unwrap();
    for i in 0..10 {
        writer.put(crate::support::spec(i)).unwrap();
    }
    let ends = crate::support::record_ends(
        &std::fs::read(crate::support::segment(dir.path(), 1)).unwrap(),
    );
    drop(writer);
    let reader = Catalog::open_read_only_with(dir.path(), o.clone()).unwrap();
    for i in 0..10 {
        assert_eq!(
            reader.history(&crate::support::spec(i).id).unwrap().len(),
            1
        );
    }
    // Damage record 5 (its payload and CRC), and repair: a gap stands
    // where it was, in a new journal.
    let seg = crate::support::segment(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let (start, end) = (ends[3] as usize, ends[4] as usize);
    bytes[end - 1] ^= 0x01;
    let crc = crc32fast::hash(&bytes[start + 4..end]);
    bytes[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let report = Catalog::repair(dir.path(), o).unwrap();
    assert!(report.damage_found);
    for i in 0..10 {
        let id = crate::support::spec(i).id;
        assert_eq!(
            reader.history(&id).unwrap(),
            reader.history_scan(&id).unwrap(),
            "history of {id} after the repair"
        );
    }
    assert!(
        reader
            .history(&crate::support::spec(4).id)
            .unwrap()
            .is_empty(),
        "the lost record is not served from the index"
    );
}
