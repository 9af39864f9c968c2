//! `Catalog::adopt` reads the files of one model on every core at once
//! (largest first): a snapshot of several shards is hashed by more than
//! one thread, and the result is the same as reading one by one — every
//! shard linked, verified against its blob name, each byte read once.

use crate::support::layouts::{HfCache, Kind, bytes, commit};
use catalog_core::{AdoptOptions, Catalog, TrustState};
use std::collections::HashSet;
use std::sync::Mutex;

#[test]
fn a_snapshot_s_shards_are_read_by_more_than_one_thread() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        eprintln!("one core: nothing to show");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&home.path().join("hub"));
    let shards: Vec<Vec<u8>> = (0..4).map(|i| bytes(8 << 20, 10 + i)).collect();
    let names: Vec<String> = (1..=4)
        .map(|i| format!("model-{i:05}-of-00004.safetensors"))
        .collect();
    let mut files: Vec<(&str, &[u8], Kind)> = names
        .iter()
        .zip(&shards)
        .map(|(n, b)| (n.as_str(), b.as_slice(), Kind::Lfs))
        .collect();
    files.push(("config.json", b"{\"n\":1}", Kind::Git));
    let repo = cache.repo("org", "sharded");
    let main = commit("main");
    repo.snapshot(&main, &files);
    repo.set_ref("main", &main);

    let catalog = Catalog::open(root.path()).unwrap();
    let threads = Mutex::new(HashSet::new());
    let report = catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {
            threads.lock().unwrap().insert(std::thread::current().id());
        })
        .unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let total: u64 = shards.iter().map(|s| s.len() as u64).sum::<u64>() + 7;
    assert_eq!(report.bytes_hashed(), total, "each byte read once");
    assert_eq!(report.bytes_written(), 0);
    let threads = threads.into_inner().unwrap().len();
    assert!(threads >= 2, "the shards were read by {threads} thread(s)");

    let entry = catalog.get("org/sharded").unwrap();
    assert_eq!(entry.trust, TrustState::Verified);
    assert_eq!(entry.files.len(), 5);
    for (name, shard) in names.iter().zip(&shards) {
        let f = entry.files.iter().find(|f| &f.path == name).unwrap();
        assert_eq!(f.size_bytes, shard.len() as u64, "{name}");
        assert_eq!(
            std::fs::read(catalog.model_path("org/sharded").unwrap().join(name)).unwrap(),
            *shard,
            "{name}"
        );
    }
}
