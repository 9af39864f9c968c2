//! When each model was last used, coarsely: `model_path` (what an engine
//! is handed) marks the model accessed, at most once an hour, by setting
//! the modification time of an empty file `catalog/accessed/<16 hex>` (the
//! first 16 hex digits of the SHA-256 of its id) — no journal record, no
//! fsync, one `stat` per call (docs/FORMAT.md §2). Best effort: a handle
//! that cannot write there (read-only, another user's root) records
//! nothing, and a crash may lose the last hour's marks. `catalog list
//! --sort accessed` and gc's size budget (retired models least recently
//! used first) read them.

use crate::catalog::Catalog;
use crate::digest::Digest;
use std::path::PathBuf;

/// How coarse the record is: a model is marked at most once per this many
/// milliseconds.
pub const ACCESS_GRANULARITY_MS: u64 = 3_600_000;

impl Catalog {
    fn accessed_file(&self, id: &str) -> PathBuf {
        let hex = Digest::of_bytes(id.as_bytes()).hex();
        self.inner
            .layout
            .meta_dir()
            .join("accessed")
            .join(&hex[..16])
    }

    /// When `id` was last handed out by [`Catalog::model_path`] (Unix
    /// milliseconds, to within [`ACCESS_GRANULARITY_MS`]), if ever since
    /// access was recorded.
    pub fn last_accessed(&self, id: &str) -> Option<u64> {
        let meta = self
            .inner
            .opts
            .fs
            .metadata(&self.accessed_file(id), false)
            .ok()??;
        Some(meta.modified_ns / 1_000_000)
    }

    /// Marks `id` accessed now, unless it was within the last hour.
    pub(crate) fn mark_accessed(&self, id: &str) {
        let now = crate::clock::now_ms();
        if self
            .last_accessed(id)
            .is_some_and(|t| now.saturating_sub(t) < ACCESS_GRANULARITY_MS)
        {
            return;
        }
        let fs = &*self.inner.opts.fs;
        let path = self.accessed_file(id);
        let marked = fs.touch(&path).or_else(|_| {
            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
            fs.create_dir_all(&dir)?;
            fs.create(&path).map(drop)
        });
        if let Err(e) = marked {
            tracing::debug!(model_id = %id, error = %e, "access not recorded");
        }
    }
}
