//! Hashing a 64 MiB file: `hash_file` next to its plain baselines —
//! `Sha256::digest` of the same bytes already in memory (the hash alone) and
//! `std::fs::read` + digest (read everything, then hash) — so the cost of
//! the read loop is visible. The file is read once first, so the page cache
//! is warm.

use catalog_core::hash_file;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest as _;
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

const FILE_SIZE: usize = 64 * 1024 * 1024;

/// Random-looking bytes, fast to make (xorshift64).
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn hashing(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model-64MiB.bin");
    let bytes = pseudo_random(FILE_SIZE);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&bytes))
        .unwrap();
    // Warm the page cache and check that all three agree.
    let expected = catalog_core::Digest::of_bytes(&bytes);
    assert_eq!(hash_file(&path, &mut |_| {}).unwrap().digest, expected);

    let mut group = c.benchmark_group("hashing");
    group.throughput(Throughput::Bytes(FILE_SIZE as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("hash_file_64MiB", |b| {
        b.iter(|| hash_file(black_box(&path), &mut |_| {}).unwrap())
    });
    group.bench_function("baseline_sha256_in_memory_64MiB", |b| {
        b.iter(|| sha2::Sha256::digest(black_box(&bytes[..])))
    });
    group.bench_function("baseline_fs_read_then_sha256_64MiB", |b| {
        b.iter(|| sha2::Sha256::digest(std::fs::read(black_box(&path)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
