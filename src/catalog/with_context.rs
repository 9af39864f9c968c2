//! A catalog handle whose mutations carry an [`OpContext`], and the
//! [`CatalogStore`] trait on both handles.

use super::Catalog;
use super::models::EvictReport;
use crate::context::OpContext;
use crate::entry::{EntrySpec, Lifecycle, ModelEntry, Verification};
use crate::error::Result;
use crate::store_trait::CatalogStore;

/// A catalog handle whose mutations carry an [`OpContext`]; see
/// [`Catalog::with_context`].
#[derive(Debug)]
pub struct WithContext<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) ctx: OpContext,
}

impl WithContext<'_> {
    /// [`Catalog::put`] with this context.
    pub fn put(&self, spec: EntrySpec) -> Result<ModelEntry> {
        self.catalog.put_ctx(spec, &self.ctx)
    }
    /// [`Catalog::set_state`] with this context.
    pub fn set_state(&self, id: &str, lifecycle: Lifecycle) -> Result<ModelEntry> {
        self.catalog.set_state_ctx(id, lifecycle, &self.ctx)
    }
    /// [`Catalog::delete`] with this context.
    pub fn delete(&self, id: &str) -> Result<bool> {
        self.catalog.delete_ctx(id, &self.ctx)
    }
    /// [`Catalog::delete_with_report`] with this context.
    pub fn delete_with_report(&self, id: &str) -> Result<Option<EvictReport>> {
        self.catalog.delete_report_ctx(id, &self.ctx)
    }
    /// [`Catalog::record_verification`] with this context.
    pub fn record_verification(&self, id: &str, outcome: Verification) -> Result<ModelEntry> {
        self.catalog.record_verification_ctx(id, outcome, &self.ctx)
    }
    /// [`Catalog::evict`] with this context.
    pub fn evict(&self, id: &str, dry_run: bool) -> Result<EvictReport> {
        self.catalog.evict_ctx(id, dry_run, &self.ctx)
    }
}

impl CatalogStore for WithContext<'_> {
    fn get(&self, id: &str) -> Result<ModelEntry> {
        self.catalog.get(id)
    }
    fn exists(&self, id: &str) -> Result<bool> {
        Ok(self.catalog.exists(id))
    }
    fn put(&self, spec: EntrySpec) -> Result<ModelEntry> {
        WithContext::put(self, spec)
    }
    fn set_state(&self, id: &str, lifecycle: Lifecycle) -> Result<ModelEntry> {
        WithContext::set_state(self, id, lifecycle)
    }
    fn list(&self) -> Result<Vec<ModelEntry>> {
        Ok(self.catalog.list())
    }
    fn delete(&self, id: &str) -> Result<bool> {
        WithContext::delete(self, id)
    }
}

impl CatalogStore for Catalog {
    fn get(&self, id: &str) -> Result<ModelEntry> {
        Catalog::get(self, id)
    }
    fn exists(&self, id: &str) -> Result<bool> {
        Ok(Catalog::exists(self, id))
    }
    fn put(&self, spec: EntrySpec) -> Result<ModelEntry> {
        Catalog::put(self, spec)
    }
    fn set_state(&self, id: &str, lifecycle: Lifecycle) -> Result<ModelEntry> {
        Catalog::set_state(self, id, lifecycle)
    }
    fn list(&self) -> Result<Vec<ModelEntry>> {
        Ok(Catalog::list(self))
    }
    fn delete(&self, id: &str) -> Result<bool> {
        Catalog::delete(self, id)
    }
}
