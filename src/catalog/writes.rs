//! The durable mutations of a catalog handle: `put`, `set_state`,
//! `delete`, `record_verification` (and their forms with an
//! [`OpContext`]), each one record through the group commit, then the
//! automatic compaction policy.

use super::engine::commit::{Outcome, Plan};
use super::engine::compact;
use super::models::EvictReport;
use super::{Catalog, WithContext, Writer};
use crate::context::OpContext;
use crate::entry::{EntrySpec, Lifecycle, ModelEntry, Verification, check_id};
use crate::error::{Error, Result};
use crate::journal::op::Op;
use crate::metrics::VerifyReason;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Catalog {
    /// Registers `spec`, or replaces the entry with its id (keeping its
    /// registration time; trust goes back to unverified). Returns once the
    /// record is durable.
    pub fn put(&self, spec: EntrySpec) -> Result<ModelEntry> {
        self.put_ctx(spec, &OpContext::default())
    }

    /// Changes the lifecycle of `id`.
    pub fn set_state(&self, id: &str, lifecycle: Lifecycle) -> Result<ModelEntry> {
        self.set_state_ctx(id, lifecycle, &OpContext::default())
    }

    /// Removes the entry `id`; `Ok(false)` if there was none (nothing is
    /// written then).
    pub fn delete(&self, id: &str) -> Result<bool> {
        self.delete_ctx(id, &OpContext::default())
    }

    /// [`Catalog::delete`], saying what happened to the stored files no
    /// other model uses: `None` if there was no entry (nothing written);
    /// else the files removed and, in `errors`, those that could not be
    /// removed or synced (the entry is deleted all the same; gc retries).
    pub fn delete_with_report(&self, id: &str) -> Result<Option<EvictReport>> {
        self.delete_report_ctx(id, &OpContext::default())
    }

    /// Records the outcome of a verification of `id`'s bytes and updates its
    /// trust state. (Hashing is the caller's; this only records.)
    pub fn record_verification(&self, id: &str, outcome: Verification) -> Result<ModelEntry> {
        self.record_verification_ctx(id, outcome, &OpContext::default())
    }

    /// A view of this handle whose mutations store `ctx` (correlation id,
    /// actor) in their journal records.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, CatalogStore, EntrySpec, OpContext};
    /// let catalog = Catalog::open(dir.path())?;
    /// let ctx = OpContext::new().correlation_id("req-7").actor("provisioner");
    /// catalog.with_context(ctx).put(EntrySpec::new("m", "hf:o/r", "blobs/m"))?;
    /// # Ok(()) }
    /// ```
    pub fn with_context(&self, ctx: OpContext) -> WithContext<'_> {
        WithContext { catalog: self, ctx }
    }

    pub(crate) fn put_ctx(&self, spec: EntrySpec, ctx: &OpContext) -> Result<ModelEntry> {
        // gc, evict and delete must not remove a stored file while a put
        // that names it is being acknowledged.
        let w = self.writer()?;
        let _store = w.store_shared();
        self.put_locked(spec, ctx)
    }

    /// `put` with the store lock already held (by an import).
    pub(crate) fn put_locked(&self, mut spec: EntrySpec, ctx: &OpContext) -> Result<ModelEntry> {
        // Only the normalized, redacted form of a reference is ever stored:
        // no credential reaches the journal or a log line.
        spec.model_ref = crate::model_ref::parse_canonical(&spec.model_ref)?;
        spec.validate()?;
        ctx.validate()?;
        let started = Instant::now();
        let id = spec.id.clone();
        let outcome = self.commit(&id, ctx, |_| Ok(Plan::Write(Op::Put(spec))))?;
        let entry = expect_entry(outcome, &id)?;
        self.inner.opts.metrics.put();
        log_mutation("put", &entry, ctx, started);
        Ok(entry)
    }

    pub(crate) fn set_state_ctx(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        ctx: &OpContext,
    ) -> Result<ModelEntry> {
        check_id(id)?;
        ctx.validate()?;
        let started = Instant::now();
        let outcome = self.commit(id, ctx, |current| match current {
            Some(_) => Ok(Plan::Write(Op::SetLifecycle {
                id: id.to_string(),
                lifecycle,
            })),
            None => Err(Error::NotFound { id: id.to_string() }),
        })?;
        let entry = expect_entry(outcome, id)?;
        log_mutation("set_state", &entry, ctx, started);
        Ok(entry)
    }

    pub(crate) fn record_verification_ctx(
        &self,
        id: &str,
        outcome: Verification,
        ctx: &OpContext,
    ) -> Result<ModelEntry> {
        let reason = VerifyReason::from_result(outcome.result);
        self.record_verification_with(id, outcome, ctx, reason, None)
    }

    /// Records a verification, counting it under `reason`.
    pub(crate) fn record_verification_with(
        &self,
        id: &str,
        outcome: Verification,
        ctx: &OpContext,
        reason: VerifyReason,
        hashed: Option<&ModelEntry>,
    ) -> Result<ModelEntry> {
        check_id(id)?;
        ctx.validate()?;
        outcome.validate()?;
        let result = outcome.result;
        let done = self.commit(id, ctx, |current| match current {
            // The outcome is about the files that were hashed: if the entry
            // was replaced meanwhile, it says nothing about the new one.
            Some(now)
                if hashed.is_some_and(|h| {
                    h.digest != now.digest || h.local_path != now.local_path || h.files != now.files
                }) =>
            {
                Err(Error::Changed { id: id.to_string() })
            }
            Some(_) => Ok(Plan::Write(Op::Verify {
                id: id.to_string(),
                outcome,
            })),
            None => Err(Error::NotFound { id: id.to_string() }),
        })?;
        let entry = expect_entry(done, id)?;
        self.inner.opts.metrics.verification(result, reason);
        Ok(entry)
    }

    /// Records that the ref `name` of model `id`'s repository moved from
    /// `from` to `to` (adoption; `Op::RefMoved`). The entry must exist.
    pub(crate) fn record_ref_moved(
        &self,
        id: &str,
        name: &str,
        moved: (Option<&str>, Option<&str>),
        ctx: &OpContext,
    ) -> Result<()> {
        check_id(id)?;
        ctx.validate()?;
        self.commit(id, ctx, |current| match current {
            Some(_) => Ok(Plan::Write(Op::RefMoved {
                id: id.to_string(),
                name: name.to_string(),
                from: moved.0.map(str::to_owned),
                to: moved.1.map(str::to_owned),
            })),
            None => Err(Error::NotFound { id: id.to_string() }),
        })?;
        Ok(())
    }

    pub(super) fn commit(
        &self,
        id: &str,
        ctx: &OpContext,
        decide: impl FnOnce(Option<&ModelEntry>) -> Result<Plan>,
    ) -> Result<Outcome> {
        let w = self.writer()?;
        let outcome = w.committer.commit(&self.inner.view, id, ctx, decide)?;
        self.maybe_compact(w);
        Ok(outcome)
    }

    /// Runs the automatic compaction policy after an acknowledged write. A
    /// failure is logged, not returned: the caller's record is durable.
    fn maybe_compact(&self, w: &Writer) {
        let Some(policy) = self.inner.opts.auto_compact else {
            return;
        };
        let since = w.committer.bytes_since_snapshot();
        let snapshot = w.snapshot_bytes.load(Ordering::Relaxed);
        if since < policy.min_journal_bytes
            || since < snapshot.saturating_mul(policy.ratio)
            || since < w.compact_after.load(Ordering::Relaxed)
        {
            return;
        }
        let Ok(guard) = w.compaction.try_lock() else {
            return; // another thread is compacting
        };
        let inner = &self.inner;
        if let Err(err) = compact::run(
            &inner.layout,
            &inner.opts,
            inner.identity.catalog_id,
            &inner.view,
            w,
            guard,
        ) {
            // Back off: try again only after as much journal again.
            let retry_at = since.saturating_add(policy.min_journal_bytes);
            w.compact_after.store(retry_at, Ordering::Relaxed);
            tracing::warn!(error = %err, retry_at_journal_bytes = retry_at, "automatic compaction failed; the journal is intact");
        }
    }
}

/// The log line of a mutation: the fields every operation carries.
fn log_mutation(kind: &'static str, entry: &ModelEntry, ctx: &OpContext, started: Instant) {
    tracing::info!(
        op = kind,
        model_id = %entry.id,
        model_ref = %crate::model_ref::ModelRef::redact_stored(&entry.model_ref),
        digest = entry.digest.map(|d| d.to_string()).as_deref(),
        bytes = entry.size_bytes,
        seq = entry.updated_seq,
        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        correlation_id = ctx.correlation_id.as_deref(),
        actor = ctx.actor.as_deref(),
        "catalog {kind}"
    );
}

fn expect_entry(outcome: Outcome, id: &str) -> Result<ModelEntry> {
    match outcome {
        Outcome::Entry(entry) => Ok(std::sync::Arc::unwrap_or_clone(entry)),
        Outcome::Removed(_) => Err(Error::NotFound { id: id.to_string() }),
    }
}
