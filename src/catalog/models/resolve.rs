//! Answering "is it here, and where?" without writing anything.

use crate::catalog::Catalog;
use crate::entry::ModelEntry;
use crate::error::{CorruptKind, Error, Result};
use crate::model_ref::ModelRef;
use crate::store::confine::confined;
use crate::store::view;
use std::path::PathBuf;

impl Catalog {
    /// The entries registered from `source` (by its canonical form), oldest
    /// registration first. Writes nothing. An entry stored by an older
    /// version, whose redaction hid less, matches by its canonical form of
    /// today ([`ModelRef::redact_stored`]).
    ///
    /// A map lookup: the first call on a handle indexes the entries by
    /// reference (one pass over them), and the index is kept current as
    /// records are applied.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec, ModelRef};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
    /// let source = ModelRef::parse("hf:org/repo")?;
    /// assert_eq!(catalog.locate(&source)[0].id, "m");
    /// catalog.delete("m")?;
    /// assert!(catalog.locate(&source).is_empty());
    /// # Ok(()) }
    /// ```
    pub fn locate(&self, source: &ModelRef) -> Vec<ModelEntry> {
        let canonical = source.canonical();
        let mut found: Vec<ModelEntry> = self
            .view()
            .state
            .by_ref(&canonical)
            .into_iter()
            .cloned()
            .collect();
        found.sort_by_key(|e| (e.registered_at_ms, e.updated_seq));
        found
    }

    /// What [`Catalog::locate`] answers, found by comparing every entry's
    /// reference (no index): what the index is tested and measured against.
    #[doc(hidden)]
    pub fn locate_scan(&self, source: &ModelRef) -> Vec<ModelEntry> {
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
        !self.view().state.by_ref(&source.canonical()).is_empty()
    }

    /// The path an engine loads for `id`: the blob of a single-file model,
    /// or the directory view of a multi-file one; for a model registered in
    /// place, where it is (a Hugging Face snapshot directory, a GGUF file). A writer rebuilds a view
    /// that a crash left incomplete; a reader reports it.
    pub fn model_path(&self, id: &str) -> Result<PathBuf> {
        let entry = self.get(id)?;
        // Coarsely, at most once an hour, without a record or an fsync.
        self.mark_accessed(id);
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
            kind: CorruptKind::Missing,
            reason: "the model's directory view is incomplete; open the catalog for writing to rebuild it".into(),
        })?;
        let _store = w.store_shared();
        let rel = view::ensure(store, &entry.files)?;
        confined(store, &rel)
    }
}
