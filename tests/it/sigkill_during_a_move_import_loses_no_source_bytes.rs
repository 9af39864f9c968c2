//! Matrix row 17 (finding F1, part b; property P5), with real processes: a
//! child process runs a `--link move` import of a multi-file model and is
//! killed with SIGKILL at a random instant, round after round on the same
//! root. After each kill the catalog is opened (recovery puts interrupted
//! moves back) and gc runs with no grace period. Every source file's bytes
//! are then back at the source path, or registered, or kept in the store
//! and reported by `check` — never gone.
//!
//! `CATALOG_MOVE_KILL_ROUNDS=N` runs N rounds (default 40).

use crate::support::{Rng, run_child_until_killed};
use catalog_core::{Catalog, Digest, GcOptions, ImportOptions, LinkMode, ModelRef, Options};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FILES: usize = 24;

fn rounds() -> u64 {
    std::env::var("CATALOG_MOVE_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}

fn opts() -> Options {
    Options::default().lock_wait(Duration::from_secs(20))
}

fn rel(i: usize) -> String {
    format!("shard-{:02}/part-{i:03}.bin", i % 3)
}

/// Distinct bytes for every file of every round (file 0 of every round is
/// the same, so imports after the first deduplicate it).
fn bytes(round: u64, i: usize) -> Vec<u8> {
    if i == 0 {
        return b"{\"arch\":\"shared config\"}".to_vec();
    }
    let mut b = format!("round {round} file {i} ").into_bytes();
    b.resize(16 * 1024 + i, (round as u8) ^ (i as u8));
    b
}

/// Child body: opens the catalog, says READY, imports by moving, says DONE.
#[test]
#[ignore = "child process body; run by the kill test"]
fn child_move_importer() {
    let (Ok(root), Ok(src), Ok(id)) = (
        std::env::var("CATALOG_CHILD_ROOT"),
        std::env::var("CATALOG_CHILD_SRC"),
        std::env::var("CATALOG_CHILD_ID"),
    ) else {
        return;
    };
    let catalog = Catalog::open_with(&root, opts()).unwrap();
    println!("\nREADY");
    let source = ModelRef::parse(&format!("file:{src}")).unwrap();
    catalog
        .import(
            &source,
            ImportOptions::default().id(id).link(LinkMode::Move),
        )
        .unwrap();
    println!("DONE");
}

/// Runs the child; kills it `delay` after it is READY (None: lets it
/// finish). Returns how long it ran after READY and whether it said DONE.
fn run(root: &Path, src: &Path, id: &str, delay: Option<Duration>) -> (Duration, bool) {
    run_child_until_killed(
        &crate::support::test_path(module_path!(), "child_move_importer"),
        &[
            ("CATALOG_CHILD_ROOT", root.to_str().unwrap()),
            ("CATALOG_CHILD_SRC", src.to_str().unwrap()),
            ("CATALOG_CHILD_ID", id),
        ],
        delay,
    )
}

#[test]
fn a_move_import_killed_at_random_instants_never_loses_the_source() {
    let mut rng = Rng(crate::support::seed());
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    let started = Instant::now();
    let make_source = |round: u64| -> PathBuf {
        let src = base.path().join(format!("src-{round}"));
        for i in 0..FILES {
            let p = src.join(rel(i));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes(round, i)).unwrap();
        }
        src
    };
    // Calibrate: how long an uninterrupted import takes here.
    let src = make_source(0);
    let (full, done) = run(&root, &src, "m0", None);
    assert!(done, "the calibration import finished");
    let mut outcomes = [0u64; 3];
    let mut killed_mid_import = 0;
    for round in 1..=rounds() {
        let src = make_source(round);
        let id = format!("m{round}");
        let window = full.as_micros() as u64 * 5 / 4 + 1;
        let delay = Duration::from_micros(rng.below(window));
        let (_, done) = run(&root, &src, &id, Some(delay));
        killed_mid_import += u64::from(!done);

        let catalog = Catalog::open_with(&root, opts())
            .unwrap_or_else(|e| panic!("round {round}: open after the kill failed: {e}"));
        catalog
            .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
            .unwrap_or_else(|e| panic!("round {round}: gc failed: {e}"));
        let check = Catalog::check(&root, opts(), false).unwrap();
        let staged: Vec<PathBuf> = std::fs::read_dir(root.join("blobs/tmp"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        for i in 0..FILES {
            let want = bytes(round, i);
            let source = src.join(rel(i));
            if std::fs::read(&source).ok().as_ref() == Some(&want) {
                outcomes[0] += 1;
                continue;
            }
            let registered = catalog.get(&id).ok().is_some_and(|e| {
                e.files.iter().any(|f| {
                    f.path == rel(i)
                        && f.digest == Digest::of_bytes(&want)
                        && std::fs::read(root.join("blobs/sha256").join(f.digest.hex())).ok()
                            == Some(want.clone())
                })
            });
            if registered {
                outcomes[1] += 1;
                continue;
            }
            let kept = staged
                .iter()
                .any(|p| std::fs::read(p).ok().as_ref() == Some(&want));
            let reported = check
                .problems
                .iter()
                .any(|p| p.what.contains(&source.display().to_string()));
            assert!(
                kept && reported,
                "round {round} (killed {delay:?} after READY): the bytes of {} are neither back, \
                 nor registered, nor kept and reported (kept: {kept}, problems: {:?})",
                rel(i),
                check.problems
            );
            outcomes[2] += 1;
        }
    }
    eprintln!(
        "{} rounds ({killed_mid_import} killed before the import finished; an import takes \
         {full:?} here) in {:?}: {FILES} files each — back at the source {}, registered {}, \
         kept and reported {}; none lost",
        rounds(),
        started.elapsed(),
        outcomes[0],
        outcomes[1],
        outcomes[2]
    );
}
