//! Durable append: one `put` (record + fdatasync) next to its physical
//! limit, a raw `write` + `fdatasync` of the same size on the same disk.

use catalog_core::{Catalog, EntrySpec, Options};
use criterion::{Criterion, criterion_group, criterion_main};
use std::io::Write;

fn spec(i: u64) -> EntrySpec {
    EntrySpec::new(
        format!("model-{i:08}"),
        "hf:org/repo/model-q4.gguf",
        "blobs/sha256/x",
    )
    .size_bytes(i)
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable_append");
    group.sample_size(200);

    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    let mut i = 0;
    group.bench_function("catalog_put", |b| {
        b.iter(|| {
            i += 1;
            catalog.put(spec(i)).unwrap()
        })
    });

    // The baseline: the same number of bytes per record, written and
    // fdatasynced, with nothing else.
    let record_len = 64 + 60;
    let raw_dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(raw_dir.path().join("raw")).unwrap();
    let buf = vec![0x5au8; record_len];
    group.bench_function("raw_write_fdatasync", |b| {
        b.iter(|| {
            file.write_all(&buf).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
