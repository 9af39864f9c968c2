//! Durable append: one `put` (record + fdatasync) next to its physical
//! limits on the same disk, each writing exactly the catalog's record size:
//! a raw `write` + `fdatasync` appended to a growing file, and the same
//! written in place into a preallocated file (what the catalog's
//! preallocated segments make possible).

use catalog_core::journal::record::{self, Parsed};
use catalog_core::journal::segment::HEADER_LEN as SEGMENT_HEADER_LEN;
use catalog_core::{Catalog, EntrySpec, Options};
use criterion::{Criterion, criterion_group, criterion_main};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

fn spec(i: u64) -> EntrySpec {
    EntrySpec::new(
        format!("model-{i:08}"),
        "hf:org/repo/model-q4.gguf",
        "blobs/sha256/x",
    )
    .size_bytes(i)
}

/// The catalog's mean framed record length for `spec`, measured by putting
/// 100 of them into a scratch catalog and walking its journal.
fn record_len() -> usize {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(dir.path(), Options::default().auto_compact(None)).unwrap();
    for i in 0..100 {
        catalog.put(spec(i)).unwrap();
    }
    drop(catalog);
    let (records, bytes) = walk(&dir.path().join("catalog/journal"));
    assert_eq!(records, 100, "every put is one record");
    bytes / records
}

fn walk(journal: &Path) -> (usize, usize) {
    let (mut records, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(journal).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "seg") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let mut pos = SEGMENT_HEADER_LEN;
        while let Some(Parsed::Record(rec)) = data.get(pos..).map(record::parse) {
            pos += rec.frame_len();
            records += 1;
        }
        bytes += pos - SEGMENT_HEADER_LEN;
    }
    (records, bytes)
}

fn append(c: &mut Criterion) {
    let record_len = record_len();
    let mut group = c.benchmark_group(format!("durable_append_{record_len}_bytes"));
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

    let raw_dir = tempfile::tempdir().unwrap();
    let mut buf = vec![0x5au8; record_len];
    let mut file = std::fs::File::create(raw_dir.path().join("append")).unwrap();
    let mut n = 0u64;
    group.bench_function("raw_append_write_fdatasync", |b| {
        b.iter(|| {
            n += 1;
            buf[..8].copy_from_slice(&n.to_le_bytes());
            file.write_all(&buf).unwrap();
            file.sync_data().unwrap();
        })
    });

    // Preallocated and synced once, then overwritten in place, wrapping at
    // the end: fdatasync has no size or block-map change to commit.
    const PREALLOCATED: u64 = 64 << 20;
    let mut file = std::fs::File::create(raw_dir.path().join("overwrite")).unwrap();
    file.write_all(&vec![0u8; PREALLOCATED as usize]).unwrap();
    file.sync_all().unwrap();
    let mut pos = 0u64;
    group.bench_function("raw_overwrite_write_fdatasync", |b| {
        b.iter(|| {
            if pos + record_len as u64 > PREALLOCATED {
                pos = 0;
            }
            n += 1;
            buf[..8].copy_from_slice(&n.to_le_bytes());
            file.write_all_at(&buf, pos).unwrap();
            file.sync_data().unwrap();
            pos += record_len as u64;
        })
    });
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
