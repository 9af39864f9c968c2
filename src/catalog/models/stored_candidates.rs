//! Which stored blobs an import's files may already be: the digests of
//! the files of the catalog's entries (every entry the store holds bytes
//! for, retired ones included), by size. An import hashes a file of such a
//! size where it lies before copying it (`store::ingest`), so bytes the
//! store holds are read, never written again. A blob no entry names (left
//! for gc) is not looked for: such a file is copied as before.

use crate::catalog::Catalog;
use crate::digest::Digest;
use crate::fetch::FetchedModel;
use crate::store::BLOBS_DIR;
use std::collections::{HashMap, HashSet};

impl Catalog {
    /// For each size among `fetched`'s files, the digests of the stored
    /// files of that size (each once); sizes no entry has are absent.
    pub(super) fn stored_candidates(&self, fetched: &FetchedModel) -> HashMap<u64, Vec<Digest>> {
        let wanted: HashSet<u64> = fetched.files.iter().map(|f| f.size).collect();
        let mut found: HashMap<u64, Vec<Digest>> = HashMap::new();
        let mut add = |size: u64, digest: Digest| {
            if wanted.contains(&size) {
                let list = found.entry(size).or_default();
                if !list.contains(&digest) {
                    list.push(digest);
                }
            }
        };
        let view = self.view();
        for entry in view.state.values().filter(|e| !e.external) {
            if entry.files.is_empty() {
                if let Some(d) = entry.digest
                    && entry.local_path.starts_with(BLOBS_DIR)
                    && d.is_sha256()
                {
                    add(entry.size_bytes, d);
                }
                continue;
            }
            for f in &entry.files {
                add(f.size_bytes, f.digest);
            }
        }
        found
    }
}
