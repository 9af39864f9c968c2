//! Compaction (a snapshot of `ENTRIES` realistic entries, published
//! atomically) next to its plain baseline: writing the same number of bytes
//! with temp file + `fdatasync` + `rename` + directory `fsync`, and nothing
//! else.
//!
//! Each measured compaction follows one (unmeasured) `put`, since a
//! compaction with nothing new to cover writes nothing. It seals the
//! journal segment (publishing the next one: 2 fsyncs), encodes the state,
//! publishes the snapshot (2 fsyncs) and deletes the snapshot beyond
//! `keep_snapshots` (1 directory fsync); the baseline is the middle step's
//! I/O alone.

use catalog_core::{Catalog, Options};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

mod common;

const ENTRIES: u64 = 10_000;
const THREADS: usize = 32;

/// The plain way to publish `bytes` as `dir/name` durably.
fn publish_plain(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = std::fs::File::create(&tmp).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_data().unwrap();
    drop(file);
    std::fs::rename(&tmp, dir.join(name)).unwrap();
    std::fs::File::open(dir).unwrap().sync_all().unwrap();
}

fn snapshot(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    common::fill(&catalog, ENTRIES, ENTRIES, THREADS);
    let first = catalog.compact().unwrap();
    assert_eq!(first.entries, ENTRIES);
    let snapshot_bytes = std::fs::read(first.snapshot.as_ref().unwrap()).unwrap();

    let mut group = c.benchmark_group(format!("snapshot_{ENTRIES}_entries"));
    group.throughput(Throughput::Bytes(snapshot_bytes.len() as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));

    let mut i = 0;
    group.bench_function("catalog_compact", |b| {
        b.iter_batched(
            || {
                i += 1;
                catalog.put(common::spec(i, ENTRIES)).unwrap();
            },
            |()| catalog.compact().unwrap(),
            BatchSize::PerIteration,
        )
    });

    let plain_dir = tempfile::tempdir().unwrap();
    group.bench_function("baseline_tmp_fdatasync_rename_dirsync", |b| {
        b.iter(|| publish_plain(plain_dir.path(), "state.snap", &snapshot_bytes))
    });
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
