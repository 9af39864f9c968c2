//! A repair copies salvaged records byte for byte (their chain values stay),
//! so each must stay in a segment of the format that wrote it: a format-1
//! or format-2 `Put` has fewer fields than today's. Repairing the golden
//! `corrupt_sealed_segment` fixtures of formats 1 and 2 keeps every other
//! record decoding to exactly what the clean fixture holds.

use crate::support::golden::{copy, opts};
use catalog_core::{Catalog, EntrySpec, ProblemKind};
use std::path::Path;

fn versions(root: &Path) -> Vec<u32> {
    let mut names: Vec<_> = std::fs::read_dir(root.join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| u32::from_le_bytes(std::fs::read(p).unwrap()[8..12].try_into().unwrap()))
        .collect()
}

fn repairs_to_the_clean_state_but_the_lost_record(version: &str, format: u32) {
    let clean = copy(version, "clean");
    let clean = Catalog::open_read_only_with(clean.path(), opts()).unwrap();
    let dir = copy(version, "corrupt_sealed_segment");
    let report = Catalog::repair(dir.path(), opts()).unwrap();
    assert!(report.damage_found);
    assert_eq!(
        report.gaps.iter().map(|g| g.lost_seqs).collect::<Vec<_>>(),
        [Some((3, 3))],
        "only the damaged record is lost"
    );
    let seen = versions(dir.path());
    assert_eq!(
        seen[0], format,
        "the salvaged records stay in format {format}: {seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    // Record 3 registered m2; every other entry is exactly the clean one.
    for e in clean.list() {
        if e.id == "m2" {
            assert!(!catalog.exists("m2"), "its registration was lost");
        } else {
            assert_eq!(catalog.get(&e.id).unwrap(), e, "{} decodes as it was", e.id);
        }
    }
    catalog
        .put(EntrySpec::new("after", "hf:org/after", "blobs/after"))
        .unwrap();
    drop(catalog);
    let check = Catalog::check(dir.path(), opts(), false).unwrap();
    // The repaired gap is reported as history that was lost, and nothing else.
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .filter(|p| !(p.kind == ProblemKind::History && p.seq == Some(3)))
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
    let reopened = Catalog::open_with(dir.path(), opts()).unwrap();
    assert!(reopened.exists("after"));
}

#[test]
fn a_format_1_journal_is_repaired_into_format_1_segments() {
    repairs_to_the_clean_state_but_the_lost_record("v1", 1);
}

#[test]
fn a_format_2_journal_is_repaired_into_format_2_segments() {
    repairs_to_the_clean_state_but_the_lost_record("v2", 2);
}
