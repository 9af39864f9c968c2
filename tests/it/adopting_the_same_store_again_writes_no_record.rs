//! Adoption is idempotent: adopting the same store again writes no record
//! (the journal is byte for byte the same) and reads no model byte when
//! nothing changed; a snapshot that changed (a file downloaded since) is an
//! update, recorded as such; a model adopted in place and then linked (or
//! back) is an update too.

use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, bytes, commit};
use catalog_core::{AdoptAction, AdoptOptions, Catalog, Lifecycle};

fn journal(root: &std::path::Path) -> Vec<u8> {
    let mut names: Vec<_> = std::fs::read_dir(root.join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn a_second_adoption_of_an_unchanged_store_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&home.path().join("hub"));
    let repo = cache.repo("org", "m");
    let c = commit("c");
    repo.snapshot(
        &c,
        &[
            ("model.safetensors", &bytes(64_000, 1), Kind::Lfs),
            ("config.json", b"{}", Kind::Git),
        ],
    );
    repo.set_ref("main", &c);
    let ollama = Ollama::new(&home.path().join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "o", "1"),
        b"{}",
        &[(MODEL, b"GGUF o")],
    );
    let catalog = Catalog::open(root.path()).unwrap();
    for source in [&cache.hub, &ollama.models] {
        catalog
            .adopt(source, AdoptOptions::default(), &|_| {})
            .unwrap();
    }
    // Retired since: a re-adoption keeps the lifecycle (and writes nothing).
    catalog.set_state("o:1", Lifecycle::Retired).unwrap();
    drop(catalog);
    let before = journal(root.path());
    let catalog = Catalog::open(root.path()).unwrap();
    for source in [&cache.hub, &ollama.models] {
        let plan = catalog
            .plan_adoption(source, &AdoptOptions::default())
            .unwrap();
        assert_eq!(plan.bytes_to_hash(), 0, "nothing will be read");
        let again = catalog
            .adopt(source, AdoptOptions::default(), &|_| {})
            .unwrap();
        assert!(
            again
                .models
                .iter()
                .all(|m| m.action == AdoptAction::Unchanged),
            "{:?}",
            again.models
        );
        assert_eq!(again.bytes_hashed(), 0);
    }
    drop(catalog);
    assert_eq!(journal(root.path()), before, "no record written");
    let catalog = Catalog::open(root.path()).unwrap();
    assert_eq!(catalog.get("o:1").unwrap().lifecycle, Lifecycle::Retired);

    // A file downloaded into the snapshot since: an update.
    repo.link(&c, "tokenizer.json", b"{\"t\":1}", Kind::Git);
    let seq = catalog.head().seq;
    let changed = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(changed.models[0].action, AdoptAction::Updated);
    assert!(catalog.head().seq > seq);
    assert_eq!(catalog.get("org/m").unwrap().files.len(), 3);
    let history: Vec<&str> = catalog
        .history("org/m")
        .unwrap()
        .iter()
        .map(|e| e.kind())
        .collect();
    assert_eq!(history, ["put", "verify", "put", "verify"]);

    // In place now: an update too; and again, nothing.
    let in_place = AdoptOptions::default().in_place(true);
    let moved = catalog
        .adopt(&cache.hub, in_place.clone(), &|_| {})
        .unwrap();
    assert_eq!(moved.models[0].action, AdoptAction::Updated);
    assert!(catalog.get("org/m").unwrap().external);
    let seq = catalog.head().seq;
    let same = catalog.adopt(&cache.hub, in_place, &|_| {}).unwrap();
    assert_eq!(same.models[0].action, AdoptAction::Unchanged);
    assert_eq!(catalog.head().seq, seq);
}

#[test]
fn a_plain_model_adopted_again_is_unchanged_after_one_read() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, b"GGUF plain").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(&file, AdoptOptions::default(), &|_| {})
        .unwrap();
    let seq = catalog.head().seq;
    let again = catalog
        .adopt(&file, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(again.models[0].action, AdoptAction::Unchanged);
    assert_eq!(catalog.head().seq, seq, "no record");
    std::fs::write(&file, b"GGUF plain, changed").unwrap();
    let changed = catalog
        .adopt(&file, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(changed.models[0].action, AdoptAction::Updated);
}
