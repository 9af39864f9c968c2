//! What the open, snapshot and lookup benches share: a realistic entry (a
//! quantised GGUF from the Hugging Face hub, stored content-addressed) and a
//! fill from many threads, so group commit keeps building the fixture fast.

use catalog_core::{Catalog, Digest, EntrySpec};
use std::sync::atomic::{AtomicU64, Ordering};

/// The id of model `n`.
pub fn id(n: u64) -> String {
    format!("org{:03}--repo-{n:06}--q4_k_m", n % 500)
}

/// The `i`-th put of a fixture with `ids` distinct models: model `i % ids`,
/// with a digest and size unique to `i`.
pub fn spec(i: u64, ids: u64) -> EntrySpec {
    let n = i % ids;
    let digest = Digest::of_bytes(&i.to_le_bytes());
    EntrySpec::new(
        id(n),
        format!("hf:org{:03}/repo-{n:06}/model-q4_k_m.gguf", n % 500),
        format!("blobs/sha256/{}", digest.hex()),
    )
    .digest(digest)
    .size_bytes(4_368_439_584 + i)
}

/// `records` puts of `spec(i, ids)` for `i` in `0..records`, shared out
/// among `threads` threads.
pub fn fill(catalog: &Catalog, records: u64, ids: u64, threads: usize) {
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= records {
                        break;
                    }
                    catalog.put(spec(i, ids)).unwrap();
                }
            });
        }
    });
}
