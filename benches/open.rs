//! Opening a catalog (replaying its journal) next to its plain baselines:
//! reading the same journal bytes with `std::fs::read`, and reading them
//! plus one SHA-256 pass over them (the floor of what checking the hash
//! chain can cost). The journal holds `RECORDS` realistic `put` records
//! over `IDS` models, no snapshot; the page cache is warm.
//!
//! `catalog_open` is the writer open (lock, recovery, one `fdatasync` of
//! the newest segment); `catalog_open_read_only` takes no lock and syncs
//! nothing, so it is the replay alone.

use catalog_core::{Catalog, Options};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

const RECORDS: u64 = 20_000;
const IDS: u64 = 2_000;
const THREADS: usize = 32;

fn segments(root: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    paths.sort();
    paths
}

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    common::fill(&catalog, RECORDS, IDS, THREADS);
    drop(catalog);
    let segs = segments(dir.path());
    let journal_bytes: u64 = segs
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    // Check the fixture once (and warm the page cache).
    let reopened = Catalog::open_read_only(dir.path()).unwrap();
    assert_eq!(reopened.recovery_report().records_replayed, RECORDS);
    assert_eq!(reopened.len() as u64, IDS);
    drop(reopened);

    let mut group = c.benchmark_group(format!("open_{RECORDS}_records"));
    group.throughput(Throughput::Bytes(journal_bytes));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("catalog_open", |b| {
        b.iter(|| Catalog::open(black_box(dir.path())).unwrap())
    });
    group.bench_function("catalog_open_read_only", |b| {
        b.iter(|| Catalog::open_read_only(black_box(dir.path())).unwrap())
    });
    group.bench_function("baseline_fs_read_journal", |b| {
        b.iter(|| {
            segs.iter()
                .map(|p| std::fs::read(black_box(p)).unwrap().len())
                .sum::<usize>()
        })
    });
    group.bench_function("baseline_fs_read_then_sha256_journal", |b| {
        b.iter(|| {
            let mut h = sha2::Sha256::new();
            for p in &segs {
                h.update(std::fs::read(black_box(p)).unwrap());
            }
            h.finalize()
        })
    });
    group.finish();
}

criterion_group!(benches, open);
criterion_main!(benches);
