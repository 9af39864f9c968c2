//! Arbitrary bytes as the body of the newest journal segment: opening
//! (read-only and writable) must never panic and never allocate beyond its
//! bounds; it either opens or returns a typed error.
#![no_main]

#[path = "../../tests/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use catalog_core::{Catalog, Options};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;
use support::mem_fs::MemFs;

const ROOT: &str = "/fuzz/catalog";
const SEGMENT_HEADER_LEN: usize = 84;

fuzz_target!(|data: &[u8]| {
    let fs = MemFs::new();
    let opts = || Options::default().auto_compact(None).fs(Arc::new(fs.clone()));
    // A real catalog with one record, then its segment body replaced.
    let catalog = Catalog::open_with(ROOT, opts()).unwrap();
    catalog
        .put(catalog_core::EntrySpec::new("m", "hf:o/r", "blobs/x"))
        .unwrap();
    drop(catalog);
    let seg = Path::new(ROOT).join("catalog/journal/00000000000000000001.seg");
    let mut bytes = fs.bytes(&seg).unwrap();
    bytes.truncate(SEGMENT_HEADER_LEN);
    bytes.extend_from_slice(data);
    fs.set_bytes(&seg, &bytes);
    let _ = Catalog::open_read_only_with(ROOT, opts()).map(|c| c.list());
    if let Ok(c) = Catalog::open_with(ROOT, opts()) {
        // Whatever opened takes a new record and keeps it.
        let _ = c.put(catalog_core::EntrySpec::new("after", "hf:o/r", "blobs/x"));
    }
});
