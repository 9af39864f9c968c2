//! Which store objects the catalog's entries use.

use super::Object;
use super::manifest::manifest_digest;
use crate::entry::ModelEntry;
use std::collections::{BTreeMap, BTreeSet};

/// The objects one entry uses: its blob or view, the blobs of its files,
/// and the bundle of its signature.
/// An entry registered in place (external) uses none: its files are not
/// the store's, so nothing that removes store objects (evict, delete, gc)
/// ever reaches them, and it keeps no store object alive either.
pub(crate) fn objects_of(entry: &ModelEntry) -> BTreeSet<Object> {
    let mut out = BTreeSet::new();
    // The bundle of its last signature verification is the store's, even
    // for a model registered in place: kept so it can be verified again.
    if let Some(s) = &entry.signature {
        out.insert(Object::Blob(s.bundle));
    }
    if entry.external {
        return out;
    }
    if let Some(o) = Object::from_rel(&entry.local_path) {
        out.insert(o);
    }
    if !entry.files.is_empty() {
        out.insert(Object::View(manifest_digest(&entry.files)));
    }
    for f in &entry.files {
        out.insert(Object::Blob(f.digest));
    }
    out
}

/// How many entries use each object.
pub(crate) fn users<'a>(entries: impl Iterator<Item = &'a ModelEntry>) -> BTreeMap<Object, usize> {
    let mut out = BTreeMap::new();
    for e in entries {
        for o in objects_of(e) {
            *out.entry(o).or_insert(0) += 1;
        }
    }
    out
}
