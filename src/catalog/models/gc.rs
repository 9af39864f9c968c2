//! `gc`: the size budget (evicting retired models) and the sweep of
//! unreferenced store files.

use crate::catalog::Catalog;
use crate::catalog::models::moves;
use crate::digest::Digest;
use crate::entry::Lifecycle;
use crate::error::{Error, Result};
use crate::store::gc::{GcOptions, GcReport, sweep};
use crate::store::manifest::manifest_digest;
use crate::store::put_back;
use crate::store::usage::users;
use crate::store::{Object, Store};
use std::collections::HashMap;
use std::time::Instant;

impl Catalog {
    /// Collects garbage in the store: orphaned blobs, stale staging files and
    /// views no entry uses, each only once older than `opts.grace`; stops at
    /// `opts.max_time` and reports what it did not reach. With
    /// `opts.max_bytes`, first evicts retired models, least recently
    /// used first (the later of its last access, recorded per hour by
    /// `model_path`, and its last change), until the store fits.
    /// `progress` is called once per store object examined.
    pub fn gc(&self, opts: GcOptions, progress: &(dyn Fn(u64) + Sync)) -> Result<GcReport> {
        let w = self.writer()?;
        let started = Instant::now();
        let deadline = opts.max_time.map(|t| started + t);
        let _store = w.store_exclusive();
        let mut report = GcReport {
            dry_run: opts.dry_run,
            ..GcReport::default()
        };
        let store = &self.inner.store;
        // A store directory that is a symlink is refused before anything
        // is evicted or removed.
        store.check_layout()?;
        // Files an interrupted or failed move import took from their
        // sources go back first (no import runs: the lock is exclusive).
        // A dry run changes nothing (the sweep still leaves them alone).
        if !opts.dry_run {
            let moved = moves::recover(store, &self.view().state)?;
            report.restored_moved = moved.restored;
            report.kept_moved = moved.kept;
            report.errors.extend(moved.errors);
        }
        if let Some(budget) = opts.max_bytes {
            self.fit_budget(store, budget, &opts, &mut report)?;
        }
        let used = users(self.list_shared().iter().map(|e| &**e));
        let protected = match put_back::protected(store) {
            Ok(p) => Some(p),
            Err(e) => {
                report.errors.push((
                    store.staging_dir(),
                    format!("no staged file removed: a move intent cannot be read ({e})"),
                ));
                None
            }
        };
        sweep(
            store,
            &used,
            protected.as_ref(),
            &opts,
            deadline,
            &mut report,
            progress,
        );
        if !opts.dry_run {
            self.inner.opts.metrics.gc_reclaimed(report.bytes_removed);
        }
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            files_removed = report.files_removed,
            bytes = report.bytes_removed,
            evicted = report.evicted.len(),
            not_reached = report.not_reached,
            errors = report.errors.len(),
            duration_ms = report.duration_ms,
            dry_run = report.dry_run,
            "gc finished"
        );
        Ok(report)
    }

    /// Evicts retired models, least recently used first (last access, else last change), while the blobs
    /// in use take more than `budget` bytes.
    fn fit_budget(
        &self,
        store: &Store,
        budget: u64,
        opts: &GcOptions,
        report: &mut GcReport,
    ) -> Result<()> {
        // The store's size, counted as eviction counts what it frees: a blob
        // also linked from outside the store (a hard-linked source) takes
        // no space of the store's own.
        let entries = self.list();
        let mut view_links: HashMap<Digest, u64> = HashMap::new();
        let mut views = std::collections::HashSet::new();
        for e in entries.iter().filter(|e| !e.files.is_empty()) {
            if views.insert(manifest_digest(&e.files)) {
                for f in &e.files {
                    *view_links.entry(f.digest).or_default() += 1;
                }
            }
        }
        let mut used_bytes = 0u64;
        for o in users(entries.iter()).keys() {
            if let Object::Blob(d) = o {
                let path = store.path(*o);
                if let Some(m) = store
                    .fs
                    .metadata(&path, false)
                    .map_err(|e| Error::io(&path, e))?
                    && m.nlink <= 1 + view_links.get(d).copied().unwrap_or(0)
                {
                    used_bytes += m.len;
                }
            }
        }
        let mut retired: Vec<_> = self
            .list()
            .into_iter()
            .filter(|e| e.lifecycle == Lifecycle::Retired)
            .collect();
        // Least recently used first: the later of its last change and its
        // last access (`model_path`, recorded per hour).
        retired.sort_by_key(|e| {
            let used = self.last_accessed(&e.id).unwrap_or(0);
            (e.updated_at_ms.max(used), e.updated_seq)
        });
        let mut ctx = opts.context.clone();
        if ctx.actor.is_none() {
            ctx.actor = Some("catalog gc (size budget)".into());
        }
        for e in retired {
            if used_bytes <= budget {
                break;
            }
            // A model whose eviction frees nothing (its files are shared or
            // linked from elsewhere) is kept: evicting it would not help.
            if self.evict_locked(&e.id, true, &ctx)?.bytes_reclaimed == 0 {
                continue;
            }
            let evicted = self.evict_locked(&e.id, opts.dry_run, &ctx)?;
            used_bytes = used_bytes.saturating_sub(evicted.bytes_reclaimed);
            report.evicted_bytes += evicted.bytes_reclaimed;
            report.evicted.push(e.id);
            // What the eviction could not remove is the gc's failure too.
            report.errors.extend(evicted.errors);
        }
        Ok(())
    }
}
