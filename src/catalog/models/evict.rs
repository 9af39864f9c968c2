//! `evict` and the file side of `delete`: remove an entry and every store
//! object no other entry uses, measuring the bytes actually reclaimed.
//!
//! Order: the journal record first (durable), then the files. A crash or an
//! error in between leaves unreferenced files, which gc removes later; it
//! can never leave an entry whose files are gone.

use crate::catalog::Catalog;
use crate::catalog::engine::commit::{Outcome, Plan};
use crate::context::OpContext;
use crate::entry::{ModelEntry, check_id};
use crate::error::{Error, Result};
use crate::fs::FileKind;
use crate::journal::op::Op;
use crate::store::confine::{confined, remove_tree};
use crate::store::usage::{objects_of, users};
use crate::store::{BLOBS_DIR, Object, Store, VIEWS_DIR};
use std::path::PathBuf;

/// What an eviction did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EvictReport {
    /// The model.
    pub id: String,
    /// Nothing was removed or written.
    pub dry_run: bool,
    /// Bytes freed on disk: sizes of the blobs whose last link was removed
    /// (a blob still linked elsewhere, e.g. hard-linked from its source,
    /// frees nothing and is not counted). Shared blobs count once, and only
    /// if no other entry uses them.
    pub bytes_reclaimed: u64,
    /// Files removed (blobs and view links).
    pub files_removed: u64,
    /// Store objects kept because another entry uses them.
    pub shared_kept: u64,
    /// Files that could not be removed (left for gc), with the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Files of a model registered in place, left where they are: they
    /// are not the catalog's, and it never removes or moves them.
    pub left_in_place: u64,
}

/// The objects only `entry` uses, each with the bytes removing it frees.
pub(crate) struct RemovalPlan {
    pub remove: Vec<(Object, u64)>,
    pub shared: u64,
}

impl RemovalPlan {
    /// Bytes the whole plan frees.
    pub(crate) fn bytes(&self) -> u64 {
        self.remove.iter().map(|(_, b)| b).sum()
    }
}

pub(crate) fn plan(store: &Store, entry: &ModelEntry, all: &[ModelEntry]) -> Result<RemovalPlan> {
    // Refuse before anything is written if a store directory is a symlink.
    store.check_layout()?;
    let used = users(all.iter());
    let mut objects = Vec::new();
    let mut shared = 0;
    for o in objects_of(entry) {
        if used.get(&o).copied().unwrap_or(0) > 1 {
            shared += 1;
        } else {
            // Refuse before anything is written if a path is unsafe.
            confined(store, &o.rel())?;
            objects.push(o);
        }
    }
    let removes_view = objects.iter().any(|o| matches!(o, Object::View(_)));
    let mut remove = Vec::with_capacity(objects.len());
    for o in objects {
        remove.push((o, freed_bytes(store, o, entry, removes_view)?));
    }
    Ok(RemovalPlan { remove, shared })
}

/// A blob is freed if every link to it goes: itself, plus its links in the
/// entry's view when that is removed too. A blob hard-linked from elsewhere
/// (its source) frees nothing.
fn freed_bytes(store: &Store, o: Object, entry: &ModelEntry, removes_view: bool) -> Result<u64> {
    let Object::Blob(d) = o else { return Ok(0) };
    let path = store.path(o);
    let Some(meta) = store
        .fs
        .metadata(&path, false)
        .map_err(|e| Error::io(&path, e))?
    else {
        return Ok(0);
    };
    let view_links = if removes_view {
        entry.files.iter().filter(|f| f.digest == d).count() as u64
    } else {
        0
    };
    Ok(
        if meta.kind == FileKind::File && meta.nlink <= 1 + view_links {
            meta.len
        } else {
            0
        },
    )
}

/// How many files of `entry` are left where they are because it was
/// registered in place (0 for a model in the store).
fn in_place_files(entry: &ModelEntry) -> u64 {
    if entry.external {
        entry.files.len().max(1) as u64
    } else {
        0
    }
}

/// Removes the planned objects (views first: they link the blobs); adds
/// what was freed to the report, and what failed to its errors.
pub(crate) fn remove(store: &Store, plan: &RemovalPlan, report: &mut EvictReport) {
    let mut ordered: Vec<&(Object, u64)> = plan.remove.iter().collect();
    ordered.sort_by_key(|(o, _)| matches!(o, Object::Blob(_)));
    for (o, bytes) in ordered {
        match remove_tree(store, &o.rel()) {
            Ok(n) => {
                report.files_removed += n;
                report.bytes_reclaimed += bytes;
            }
            Err(e) => report.errors.push((store.path(*o), e.to_string())),
        }
    }
    for dir in [VIEWS_DIR, BLOBS_DIR] {
        if let Err(e) = store.sync_dir(dir) {
            report.errors.push((store.root().join(dir), e.to_string()));
        }
    }
}

impl Catalog {
    /// Removes the model `id` and every stored file no other model uses;
    /// returns the bytes actually reclaimed. With `dry_run`, reports without
    /// writing or deleting anything.
    pub fn evict(&self, id: &str, dry_run: bool) -> Result<EvictReport> {
        self.evict_ctx(id, dry_run, &OpContext::default())
    }

    pub(crate) fn evict_ctx(
        &self,
        id: &str,
        dry_run: bool,
        ctx: &OpContext,
    ) -> Result<EvictReport> {
        check_id(id)?;
        ctx.validate()?;
        let w = self.writer()?;
        let _store = w.store_exclusive();
        self.evict_locked(id, dry_run, ctx)
    }

    /// Removes the entry, then (best effort) the stored files no other
    /// entry uses: a failure to remove a file is logged and leaves it for
    /// gc; the entry is gone whatever happens to the files.
    pub(crate) fn delete_ctx(&self, id: &str, ctx: &OpContext) -> Result<bool> {
        Ok(self.delete_report_ctx(id, ctx)?.is_some())
    }

    /// `delete_ctx`, returning what happened to the files (`None`: there
    /// was no entry, nothing was written).
    pub(crate) fn delete_report_ctx(
        &self,
        id: &str,
        ctx: &OpContext,
    ) -> Result<Option<EvictReport>> {
        check_id(id)?;
        ctx.validate()?;
        let w = self.writer()?;
        let _store = w.store_exclusive();
        let files = self.get(id).ok().map(|entry| {
            let planned = plan(&self.inner.store, &entry, &self.list());
            (entry, planned)
        });
        let outcome = self.commit(id, ctx, |current| {
            Ok(match current {
                Some(_) => Plan::Write(Op::Delete { id: id.to_string() }),
                None => Plan::Absent,
            })
        })?;
        let removed = matches!(outcome, Outcome::Removed(true));
        if let (true, Some((entry, _))) = (removed, &files) {
            tracing::info!(
                model_id = id,
                model_ref = %crate::model_ref::ModelRef::redact_stored(&entry.model_ref),
                correlation_id = ctx.correlation_id.as_deref(),
                actor = ctx.actor.as_deref(),
                "model deleted"
            );
        }
        if let (true, Some((entry, planned))) = (removed, files) {
            let mut report = EvictReport {
                id: id.to_string(),
                left_in_place: in_place_files(&entry),
                ..EvictReport::default()
            };
            match planned {
                Ok(plan) => remove(&self.inner.store, &plan, &mut report),
                Err(e) => report
                    .errors
                    .push((self.root().join(&entry.local_path), e.to_string())),
            }
            for (path, error) in &report.errors {
                tracing::warn!(model_id = id, path = %path.display(), error = %error, "delete: a file was left for gc");
            }
            return Ok(Some(report));
        }
        Ok(None)
    }

    /// `evict` with the store lock already held.
    pub(crate) fn evict_locked(
        &self,
        id: &str,
        dry_run: bool,
        ctx: &OpContext,
    ) -> Result<EvictReport> {
        let entry = self.get(id)?;
        let store = &self.inner.store;
        let plan = plan(store, &entry, &self.list())?;
        let mut report = EvictReport {
            id: id.to_string(),
            dry_run,
            shared_kept: plan.shared,
            left_in_place: in_place_files(&entry),
            ..EvictReport::default()
        };
        if dry_run {
            report.bytes_reclaimed = plan.bytes();
            return Ok(report);
        }
        let bytes = plan.bytes();
        let outcome = self.commit(id, ctx, |current| match current {
            Some(_) => Ok(Plan::Write(Op::Evict {
                id: id.to_string(),
                bytes_reclaimed: bytes,
            })),
            None => Err(Error::NotFound { id: id.to_string() }),
        })?;
        debug_assert!(matches!(outcome, Outcome::Removed(true)));
        remove(store, &plan, &mut report);
        self.inner.opts.metrics.eviction(report.bytes_reclaimed);
        tracing::info!(
            model_id = id,
            model_ref = %crate::model_ref::ModelRef::redact_stored(&entry.model_ref),
            bytes = report.bytes_reclaimed,
            files = report.files_removed,
            correlation_id = ctx.correlation_id.as_deref(),
            "model evicted"
        );
        Ok(report)
    }
}
