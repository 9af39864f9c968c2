//! A model adopted `--in-place` is external: its files are the user's
//! (a Hugging Face cache, an Ollama store), and `evict`, `delete` and `gc`
//! — with a size budget that evicts every retired model — never remove,
//! move or change one of them (P5). A model linked into the store is
//! evicted by removing the store's name only: the cache keeps its blob.
//! `check` reports an in-place file that disappeared.

use crate::cli_support::Cli;
use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, bytes, commit, tree};
use catalog_core::{AdoptOptions, Catalog, GcOptions, Lifecycle, ProblemKind};
use std::time::Duration;

#[test]
fn evict_delete_and_gc_leave_every_in_place_file_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&home.path().join("hub"));
    let repo = cache.repo("org", "m");
    let (c1, c2) = (commit("1"), commit("2"));
    repo.snapshot(&c1, &[("model.safetensors", &bytes(80_000, 1), Kind::Lfs)]);
    repo.snapshot(&c2, &[("model.safetensors", &bytes(80_000, 2), Kind::Lfs)]);
    repo.set_ref("main", &c1);
    repo.set_ref("v2", &c2);
    let ollama = Ollama::new(&home.path().join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "o", "1"),
        b"{}",
        &[(MODEL, &bytes(60_000, 3))],
    );
    let before = tree(home.path());

    let catalog = Catalog::open(root.path()).unwrap();
    let in_place = AdoptOptions::default().in_place(true);
    catalog
        .adopt(&cache.hub, in_place.clone(), &|_| {})
        .unwrap();
    catalog.adopt(&ollama.models, in_place, &|_| {}).unwrap();
    assert!(catalog.list().iter().all(|e| e.external));

    let evicted = catalog.evict("org/m", false).unwrap();
    assert_eq!((evicted.bytes_reclaimed, evicted.files_removed), (0, 0));
    assert_eq!(evicted.left_in_place, 1);
    let deleted = catalog.delete_with_report("o:1").unwrap().unwrap();
    assert_eq!(deleted.files_removed, 0);
    assert_eq!(deleted.left_in_place, 2);
    let v2 = format!("org/m@{}", &c2[..7]);
    catalog.set_state(&v2, Lifecycle::Retired).unwrap();
    let gc = catalog
        .gc(
            GcOptions::default().grace(Duration::ZERO).max_bytes(0),
            &|_| {},
        )
        .unwrap();
    assert!(
        gc.evicted.is_empty(),
        "evicting it would free nothing: {gc:?}"
    );
    assert_eq!(gc.files_removed, 0);
    assert_eq!(
        tree(home.path()),
        before,
        "every file, link and inode as it was"
    );
    assert!(catalog.exists(&v2));

    // Removed outside the catalog: check says so.
    std::fs::remove_file(repo.blob(&bytes(80_000, 2), Kind::Lfs)).unwrap();
    drop(catalog);
    let check = Catalog::check(root.path(), Default::default(), false).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Store && p.what.contains("registered in place")),
        "{:?}",
        check.problems
    );
}

#[test]
fn evicting_a_linked_model_leaves_the_caches_blob() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "l");
    let weights = bytes(90_000, 4);
    let c = commit("l");
    repo.snapshot(&c, &[("model.safetensors", &weights, Kind::Lfs)]);
    repo.set_ref("main", &c);
    let before = tree(home.path());
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    let report = catalog.evict("org/l", false).unwrap();
    assert_eq!(report.bytes_reclaimed, 0, "the cache still links the bytes");
    assert!(report.files_removed > 0, "the store's names went");
    catalog
        .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
        .unwrap();
    assert_eq!(
        std::fs::read(repo.blob(&weights, Kind::Lfs)).unwrap(),
        weights
    );
    assert_eq!(
        tree(home.path()),
        before,
        "the cache as it was, byte for byte"
    );
}

#[test]
fn the_command_says_what_it_left_in_place() {
    let cli = Cli::new();
    let ollama = Ollama::new(&cli.src.path().join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "o", "1"),
        b"{}",
        &[(MODEL, b"GGUF o")],
    );
    let before = tree(&ollama.models);
    cli.ok(&["adopt", "--in-place", ollama.models.to_str().unwrap()]);
    let out = cli.ok(&["evict", "o:1"]);
    assert!(out.contains("left where they are"), "{out}");
    cli.ok(&["gc", "--grace", "0"]);
    assert_eq!(tree(&ollama.models), before);
}
