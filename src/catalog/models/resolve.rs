//! Answering "is it here, and where?" without writing anything.

use crate::catalog::Catalog;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use crate::store::confine::confined;
use crate::store::view;
use std::path::PathBuf;

impl Catalog {
    /// The entries registered from `source` (by its canonical form), oldest
    /// registration first. Writes nothing. An entry stored by an older
    /// version, whose redaction hid less, matches by its canonical form of
    /// today ([`ModelRef::redact_stored`]).
    pub fn locate(&self, source: &ModelRef) -> Vec<ModelEntry> {
        let canonical = source.canonical();
        let mut found: Vec<ModelEntry> = self
            .view()
            .state
            .values()
            .filter(|e| ModelRef::stored_matches(&e.model_ref, &canonical))
            .cloned()
            .collect();
        found.sort_by_key(|e| (e.registered_at_ms, e.updated_seq));
        found
    }

    /// Whether some entry was registered from `source`.
    pub fn exists_ref(&self, source: &ModelRef) -> bool {
        let canonical = source.canonical();
        self.view()
            .state
            .values()
            .any(|e| ModelRef::stored_matches(&e.model_ref, &canonical))
    }

    /// The path an engine loads for `id`: the blob of a single-file model,
    /// or the directory view of a multi-file one; for a model registered in
    /// place, where it is (a Hugging Face snapshot directory, a GGUF file). A writer rebuilds a view
    /// that a crash left incomplete; a reader reports it.
    pub fn model_path(&self, id: &str) -> Result<PathBuf> {
        let entry = self.get(id)?;
        if entry.external {
            // Registered in place: where its files are (the catalog never
            // builds anything for it).
            return Ok(PathBuf::from(entry.local_path));
        }
        let store = &self.inner.store;
        let path = confined(store, &entry.local_path)?;
        if entry.files.is_empty() {
            return Ok(path);
        }
        if view::is_complete(store, &entry.local_path, &entry.files)? {
            return Ok(path);
        }
        let w = self.writer().map_err(|_| Error::Corrupt {
            file: path.clone(),
            offset: 0,
            seq: Some(entry.updated_seq),
            reason: "the model's directory view is incomplete; open the catalog for writing to rebuild it".into(),
        })?;
        let _store = w.store_shared();
        let rel = view::ensure(store, &entry.files)?;
        confined(store, &rel)
    }
}
