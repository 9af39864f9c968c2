//! The storage-agnostic catalog interface.

use crate::entry::{EntrySpec, Lifecycle, ModelEntry};
use crate::error::Result;

/// What every catalog store offers: the CRUD surface callers program
/// against. [`crate::Catalog`] implements it on disk; tests and embedders
/// can substitute their own.
///
/// Mutations return only once durable. Errors are typed:
/// [`crate::Error::NotFound`] for a missing id, [`crate::Error::Busy`] when
/// another process writes, [`crate::Error::InvalidInput`] for a bad
/// argument (nothing written).
///
/// ```
/// # fn main() -> catalog_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// use catalog_core::{Catalog, CatalogStore, EntrySpec, Error};
///
/// fn register(store: &dyn CatalogStore) -> catalog_core::Result<()> {
///     store.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
///     Ok(())
/// }
/// let catalog = Catalog::open(dir.path())?;
/// register(&catalog)?;
/// assert!(matches!(catalog.get("other"), Err(Error::NotFound { .. })));
/// # Ok(()) }
/// ```
pub trait CatalogStore {
    /// The entry `id`, or [`crate::Error::NotFound`].
    fn get(&self, id: &str) -> Result<ModelEntry>;
    /// Whether `id` exists.
    fn exists(&self, id: &str) -> Result<bool>;
    /// Registers or replaces an entry.
    fn put(&self, spec: EntrySpec) -> Result<ModelEntry>;
    /// Changes an entry's lifecycle; [`crate::Error::NotFound`] if absent.
    fn set_state(&self, id: &str, lifecycle: Lifecycle) -> Result<ModelEntry>;
    /// Every entry, ordered by id.
    fn list(&self) -> Result<Vec<ModelEntry>>;
    /// Removes an entry; `Ok(false)` if it did not exist.
    fn delete(&self, id: &str) -> Result<bool>;
}
