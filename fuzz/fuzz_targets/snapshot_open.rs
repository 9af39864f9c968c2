//! Arbitrary bytes as the newest snapshot: opening (read-only and
//! writable, default and strict) never panics and stays within its memory
//! bounds; a damaged snapshot falls back to the journal or is refused with
//! a typed error.
#![no_main]

#[path = "../../tests/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use catalog_core::{Catalog, EntrySpec, Options, RecoveryMode};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;
use support::mem_fs::MemFs;

const ROOT: &str = "/fuzz/catalog";

fuzz_target!(|data: &[u8]| {
    let fs = MemFs::new();
    let opts = || Options::default().auto_compact(None).fs(Arc::new(fs.clone()));
    let catalog = Catalog::open_with(ROOT, opts()).unwrap();
    catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/x")).unwrap();
    catalog.put(EntrySpec::new("n", "hf:org/repo", "blobs/y")).unwrap();
    let snap = catalog.compact().unwrap().snapshot.unwrap();
    drop(catalog);
    fs.set_bytes(Path::new(&snap), data);
    let _ = Catalog::open_read_only_with(ROOT, opts()).map(|c| c.list());
    let _ = Catalog::open_read_only_with(ROOT, opts().recovery(RecoveryMode::Strict)).map(|c| c.len());
    if let Ok(c) = Catalog::open_with(ROOT, opts()) {
        // Whatever opened holds both entries: the snapshot agreed with the
        // journal, or was passed over.
        assert!(c.exists("m") && c.exists("n"));
    }
});
