//! `get`, `lookup` (a shared `Arc`, no clone), `exists` and `list` on a
//! catalog of `ENTRIES` realistic entries, next to their plain baseline: a `BTreeMap<String, ModelEntry>` holding
//! the same entries (lookup + clone, `contains_key`, clone of every value).
//! The difference is the catalog's read lock and id check.

use catalog_core::{Catalog, ModelEntry, Options};
use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

mod common;

const ENTRIES: u64 = 100_000;
const THREADS: usize = 64;

fn lookup(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    common::fill(&catalog, ENTRIES, ENTRIES, THREADS);
    assert_eq!(catalog.len() as u64, ENTRIES);
    let map: BTreeMap<String, ModelEntry> = catalog
        .list()
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    // Ids in a scattered order, so lookups do not walk the tree in order.
    let ids: Vec<String> = (0..4096u64)
        .map(|k| common::id(k.wrapping_mul(0x9e37_79b9) % ENTRIES))
        .collect();

    let mut group = c.benchmark_group(format!("lookup_{ENTRIES}_entries"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));

    let mut k = 0;
    group.bench_function("catalog_get", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            catalog.get(black_box(&ids[k])).unwrap()
        })
    });
    group.bench_function("catalog_lookup_arc", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            catalog.lookup(black_box(&ids[k])).unwrap()
        })
    });
    group.bench_function("baseline_btreemap_get_clone", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            map.get(black_box(ids[k].as_str())).cloned().unwrap()
        })
    });
    group.bench_function("catalog_exists", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            catalog.exists(black_box(&ids[k]))
        })
    });
    group.bench_function("baseline_btreemap_contains_key", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            map.contains_key(black_box(ids[k].as_str()))
        })
    });
    group.bench_function("catalog_list", |b| b.iter(|| catalog.list()));
    group.bench_function("baseline_btreemap_values_cloned", |b| {
        b.iter(|| map.values().cloned().collect::<Vec<_>>())
    });
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
