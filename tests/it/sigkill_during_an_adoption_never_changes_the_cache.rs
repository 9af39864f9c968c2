//! P5 for adoption, with real processes: a child process adopts a Hugging
//! Face cache (linked into the store, or in place, alternately) and is
//! killed with SIGKILL at a random instant, round after round on the same
//! root. After each kill the cache is byte for byte, link for link and
//! inode for inode what it was; the catalog opens; adopting again (in the
//! parent) verifies every model; gc with no grace period removes what the
//! killed adoption left and nothing of the cache; `check` finds no damage.
//!
//! `CATALOG_ADOPT_KILL_ROUNDS=N` runs N rounds (default 30).

use crate::support::layouts::{HfCache, Kind, bytes, commit, tree};
use crate::support::{Rng, run_child_until_killed};
use catalog_core::{AdoptOptions, Catalog, GcOptions, Options, ProblemKind, TrustState};
use std::path::Path;
use std::time::Duration;

fn rounds() -> u64 {
    std::env::var("CATALOG_ADOPT_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

fn opts() -> Options {
    Options::default().lock_wait(Duration::from_secs(20))
}

/// Child body: opens the catalog, says READY, adopts, says DONE.
#[test]
#[ignore = "child process body; run by the kill test"]
fn child_adopter() {
    let (Ok(root), Ok(hub), Ok(in_place)) = (
        std::env::var("CATALOG_CHILD_ROOT"),
        std::env::var("CATALOG_CHILD_HUB"),
        std::env::var("CATALOG_CHILD_IN_PLACE"),
    ) else {
        return;
    };
    let catalog = Catalog::open_with(&root, opts()).unwrap();
    println!("\nREADY");
    catalog
        .adopt(
            Path::new(&hub),
            AdoptOptions::default().in_place(in_place == "1"),
            &|_| {},
        )
        .unwrap();
    println!("DONE");
}

/// Runs the child, killing it `delay` after READY (None: to the end).
fn run(root: &Path, hub: &Path, in_place: bool, delay: Option<Duration>) -> (Duration, bool) {
    run_child_until_killed(
        &crate::support::test_path(module_path!(), "child_adopter"),
        &[
            ("CATALOG_CHILD_ROOT", root.to_str().unwrap()),
            ("CATALOG_CHILD_HUB", hub.to_str().unwrap()),
            ("CATALOG_CHILD_IN_PLACE", if in_place { "1" } else { "0" }),
        ],
        delay,
    )
}

#[test]
fn an_adoption_killed_at_random_instants_never_changes_the_cache() {
    let mut rng = Rng(crate::support::seed());
    let base = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&base.path().join("hub"));
    for r in 0..4u32 {
        let repo = cache.repo("org", &format!("model-{r}"));
        let (c1, c2) = (commit(&format!("{r}-a")), commit(&format!("{r}-b")));
        let shared = bytes(600_000, 100 + r);
        let files_a: Vec<(String, Vec<u8>, Kind)> = (0..6u32)
            .map(|i| {
                (
                    format!("shard-{i}.safetensors"),
                    bytes(200_000, r * 10 + i),
                    Kind::Lfs,
                )
            })
            .chain([(
                "config.json".to_string(),
                format!("{{\"r\":{r}}}").into_bytes(),
                Kind::Git,
            )])
            .collect();
        let refs: Vec<(&str, &[u8], Kind)> = files_a
            .iter()
            .map(|(p, b, k)| (p.as_str(), b.as_slice(), *k))
            .chain([("model.safetensors", shared.as_slice(), Kind::Lfs)])
            .collect();
        repo.snapshot(&c1, &refs);
        repo.snapshot(&c2, &[("model.safetensors", &shared, Kind::Lfs)]);
        repo.set_ref("main", &c1);
        repo.set_ref("refs/pr/1", &c2);
    }
    let before = tree(&cache.hub);
    // How long an uninterrupted adoption takes here.
    let scratch = base.path().join("scratch");
    let (full, done) = run(&scratch, &cache.hub, false, None);
    assert!(done, "an uninterrupted adoption finishes");
    let root = base.path().join("root");
    let mut killed_mid = 0;
    for round in 0..rounds() {
        let in_place = round % 2 == 1;
        let window = full.as_micros() as u64 * 5 / 4;
        let delay = Duration::from_micros(rng.below(window.max(1)));
        let (_, done) = run(&root, &cache.hub, in_place, Some(delay));
        killed_mid += u64::from(!done);
        assert_eq!(
            tree(&cache.hub),
            before,
            "round {round}: the cache as it was"
        );
        let catalog = Catalog::open_with(&root, opts()).unwrap();
        for e in catalog.list() {
            assert_ne!(
                e.trust,
                TrustState::Failed,
                "round {round}: {} failed",
                e.id
            );
        }
        // Adopting again finishes what the kill interrupted.
        let report = catalog
            .adopt(
                &cache.hub,
                AdoptOptions::default().in_place(in_place),
                &|_| {},
            )
            .unwrap();
        assert!(!report.failed());
        assert_eq!(catalog.len(), 8);
        assert!(
            catalog
                .list()
                .iter()
                .all(|e| e.trust == TrustState::Verified),
            "round {round}"
        );
        catalog
            .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
            .unwrap();
        assert_eq!(
            tree(&cache.hub),
            before,
            "round {round}: gc left the cache alone"
        );
        drop(catalog);
        let check = Catalog::check(&root, opts(), false).unwrap();
        let damage: Vec<_> = check
            .problems
            .iter()
            .filter(|p| p.kind != ProblemKind::Store || !in_place)
            .collect();
        assert!(damage.is_empty(), "round {round}: {damage:?}");
    }
    eprintln!(
        "{} rounds, {killed_mid} killed mid-adoption (an adoption takes {:?} here)",
        rounds(),
        full
    );
}
