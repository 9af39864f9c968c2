//! The catalog handle: opening, reading, and the durable mutations.
//!
//! A [`Catalog`] is a cheap, cloneable handle (`Send + Sync`) to one catalog
//! root. A writer handle holds the root's writer lock for as long as any
//! clone of it lives; a read-only handle takes no lock and never blocks the
//! writer.

mod check;
mod commit;
mod compact;
mod create;
mod evict;
mod gc;
mod history;
mod identity;
mod import;
mod import_bounds;
mod moves;
mod options;
mod recovery;
mod refresh;
mod repair;
mod resolve;
mod torn_cut;
mod verify;
mod view;

pub use check::{CheckOptions, CheckReport, Problem, ProblemKind};
pub use commit::CommitStats;
pub use compact::CompactionReport;
pub use evict::EvictReport;
pub use history::{Event, Events};
pub use import::{ImportOptions, ImportReport};
pub use options::{AutoCompact, Options, RecoveryMode};
pub use recovery::RecoveryReport;
pub use repair::{RepairReport, SalvageGap};
pub use torn_cut::TornTail;
pub use verify::{VerifyOptions, VerifyReport};

pub(crate) use recovery::now_ms;

use crate::context::OpContext;
use crate::entry::{EntrySpec, Lifecycle, ModelEntry, Verification, check_id};
use crate::error::{Error, Result};
use crate::journal::op::Op;
use crate::layout::Layout;
use crate::lock::{self, WriterLock};
use crate::metrics::VerifyReason;
use crate::store::Store;
use crate::store_trait::CatalogStore;
use commit::{Committer, Outcome, Plan};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;
use view::View;

/// A handle to the catalog under one root.
///
/// ```
/// # fn main() -> catalog_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let root = dir.path();
/// use catalog_core::{Catalog, EntrySpec, Lifecycle};
///
/// let catalog = Catalog::open(root)?;
/// catalog.put(EntrySpec::new("llama-3-8b", "hf:meta-llama/Meta-Llama-3-8B", "blobs/x"))?;
/// catalog.set_state("llama-3-8b", Lifecycle::Retired)?;
/// assert_eq!(catalog.get("llama-3-8b")?.lifecycle, Lifecycle::Retired);
/// drop(catalog);
///
/// // Everything acknowledged is there after a reopen.
/// let catalog = Catalog::open(root)?;
/// assert!(catalog.exists("llama-3-8b"));
/// assert!(catalog.delete("llama-3-8b")?);
/// assert!(!catalog.delete("llama-3-8b")?, "a second delete finds nothing");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    layout: Layout,
    opts: Options,
    identity: identity::Identity,
    view: RwLock<View>,
    writer: Option<Writer>,
    report: RecoveryReport,
    store: Store,
    flights: import::Flights,
}

#[derive(Debug)]
struct Writer {
    committer: Committer,
    /// Imports hold it shared; gc and evictions exclusively, so a blob is
    /// never deleted between an import's publishing and registering it.
    store_lock: RwLock<()>,
    /// Serialises compactions.
    compaction: Mutex<()>,
    /// Size of the newest snapshot, for the automatic policy.
    snapshot_bytes: AtomicU64,
    /// After a failed automatic compaction: do not try again before the
    /// journal since the snapshot reaches this many bytes.
    compact_after: AtomicU64,
    _lock: WriterLock,
}

impl Writer {
    /// The store lock, shared (puts and imports). A panic in another holder
    /// leaves nothing half-done that the lock protects, so poisoning is
    /// ignored.
    fn store_shared(&self) -> RwLockReadGuard<'_, ()> {
        self.store_lock
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The store lock, exclusive (gc, evictions, deletions).
    fn store_exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.store_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Catalog {
    /// Opens (or creates) the catalog under `root` for writing, with default
    /// options. Fails at once with [`Error::Busy`] if another process holds
    /// the writer lock.
    pub fn open(root: impl AsRef<Path>) -> Result<Catalog> {
        Catalog::open_with(root, Options::default())
    }

    /// Opens (or creates) the catalog under `root` for writing.
    pub fn open_with(root: impl AsRef<Path>, opts: Options) -> Result<Catalog> {
        let root = root.as_ref();
        let layout = Layout::new(absolute(root)?);
        if !opts.create_if_missing {
            // Create nothing (not even the lock file) for a missing catalog.
            let id = layout.identity_file();
            if opts
                .fs
                .metadata(&id, true)
                .map_err(|e| Error::io(&id, e))?
                .is_none()
            {
                return Err(Error::NoCatalog {
                    root: layout.root().to_path_buf(),
                });
            }
        }
        opts.fs
            .create_dir_all(root)
            .map_err(|e| Error::io(root, e))?;
        let meta = layout.meta_dir();
        opts.fs
            .create_dir_all(meta)
            .map_err(|e| Error::io(meta, e))?;
        let lock = lock::acquire(&*opts.fs, &layout, opts.lock_wait)?;
        let mut rec = recovery::recover(&layout, &opts, true)?;
        // Files an interrupted move import took from their sources go back
        // (or are kept and reported) before anything else can run.
        let store = Store::new(opts.fs.clone(), layout.root());
        match moves::recover(&store, &rec.view.state) {
            Ok(moved) => {
                rec.report.restored_moved = moved.restored;
                rec.report.kept_moved = moved.kept;
            }
            Err(e) => {
                tracing::warn!(error = %e, "interrupted move imports were not resolved; the next writer open or gc tries again");
            }
        }
        if let Some(torn) = rec
            .report
            .torn_tail
            .as_ref()
            .filter(|t| t.saved_to.is_some())
        {
            opts.metrics.recovery_truncation(torn.dropped_bytes);
        }
        let journal = crate::journal::writer::SegmentWriter::resume(
            opts.fs.clone(),
            layout.clone(),
            rec.identity.catalog_id,
            rec.view.segment_no,
            rec.view.cursor,
            crate::journal::writer::Sizing {
                max_segment_bytes: opts.max_segment_bytes,
                preallocate: opts.preallocate_bytes,
            },
            rec.bytes_since_snapshot,
        )?;
        let writer = Writer {
            committer: Committer::new(journal, rec.view.time_ms),
            store_lock: RwLock::new(()),
            compaction: Mutex::new(()),
            snapshot_bytes: AtomicU64::new(rec.snapshot_bytes),
            compact_after: AtomicU64::new(0),
            _lock: lock,
        };
        Ok(Catalog::assemble(layout, opts, rec, Some(writer)))
    }

    /// The handle around what recovery found.
    fn assemble(
        layout: Layout,
        opts: Options,
        rec: recovery::Recovered,
        writer: Option<Writer>,
    ) -> Catalog {
        log_open(&layout, &rec.report, writer.is_none());
        let store = Store::new(opts.fs.clone(), layout.root());
        Catalog {
            inner: Arc::new(Inner {
                layout,
                opts,
                identity: rec.identity,
                view: RwLock::new(rec.view),
                writer,
                report: rec.report,
                store,
                flights: import::Flights::default(),
            }),
        }
    }

    /// Opens an existing catalog read-only, with default options. Takes no
    /// lock: the writer is never blocked, and this handle sees the journal
    /// as of the open (a torn tail is reported, not cut); call
    /// [`Catalog::refresh`] to pick up newer records.
    pub fn open_read_only(root: impl AsRef<Path>) -> Result<Catalog> {
        Catalog::open_read_only_with(root, Options::default())
    }

    /// Opens an existing catalog read-only.
    pub fn open_read_only_with(root: impl AsRef<Path>, opts: Options) -> Result<Catalog> {
        let root = root.as_ref();
        let layout = Layout::new(absolute(root)?);
        let rec = recovery::recover_read_only(&layout, &opts)?;
        Ok(Catalog::assemble(layout, opts, rec, None))
    }

    /// The catalog root.
    pub fn root(&self) -> &Path {
        self.inner.layout.root()
    }

    /// Whether this handle was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.writer.is_none()
    }

    /// What opening found and did (torn tail, snapshot used, records replayed).
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.inner.report
    }

    /// The catalog's random id, fixed at creation, as 32 hex digits.
    pub fn catalog_id(&self) -> String {
        crate::digest::hex(&self.inner.identity.catalog_id)
    }

    /// The entry `id`, or [`Error::NotFound`].
    pub fn get(&self, id: &str) -> Result<ModelEntry> {
        check_id(id)?;
        self.view()
            .state
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound { id: id.to_string() })
    }

    /// The entry `id`, shared instead of copied: a hash probe and a
    /// reference-count increment, for hot paths (routing a request to a
    /// model). `None` if there is no such entry.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
    /// let entry = catalog.lookup("m").expect("registered");
    /// assert_eq!(entry.model_ref, "hf:org/repo");
    /// assert!(catalog.lookup("other").is_none());
    /// # Ok(()) }
    /// ```
    pub fn lookup(&self, id: &str) -> Option<Arc<ModelEntry>> {
        self.view().state.get_shared(id)
    }

    /// Whether an entry `id` exists.
    pub fn exists(&self, id: &str) -> bool {
        self.view().state.contains(id)
    }

    /// Every entry, ordered by id.
    pub fn list(&self) -> Vec<ModelEntry> {
        self.view().state.values().cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.view().state.len()
    }

    /// Whether the catalog has no entries.
    pub fn is_empty(&self) -> bool {
        self.view().state.is_empty()
    }

    /// The journal position this handle's state reflects: the last applied
    /// sequence number and the chain value after it.
    pub fn head(&self) -> JournalHead {
        let v = self.view();
        JournalHead {
            seq: v.seq,
            chain: crate::digest::hex(&v.chain),
            time_ms: v.time_ms,
        }
    }

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

    /// Counters of the commit path (records, batches, fsyncs) since open.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner
            .writer
            .as_ref()
            .map(|w| w.committer.stats())
            .unwrap_or_default()
    }

    /// Writes a snapshot of the current state (temp, fsync, rename, fsync
    /// dir) so that the next open replays only what follows it, then applies
    /// the retention options. Safe to call while other threads write.
    pub fn compact(&self) -> Result<CompactionReport> {
        let w = self.writer()?;
        let guard = w
            .compaction
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = &self.inner;
        compact::run(
            &inner.layout,
            &inner.opts,
            inner.identity.catalog_id,
            &inner.view,
            w,
            guard,
        )
    }

    /// Picks up records the writer appended since this read-only handle was
    /// opened or last refreshed; returns how many were applied. A writer
    /// handle is always current and returns 0.
    pub fn refresh(&self) -> Result<u64> {
        if self.inner.writer.is_some() {
            return Ok(0);
        }
        refresh::refresh(
            &self.inner.layout,
            &self.inner.opts,
            &self.inner.identity,
            &self.inner.view,
        )
    }

    /// Salvages a damaged catalog: keeps every record that passes its
    /// checks, writes a gap record where records were lost, and moves the
    /// original files to `catalog/quarantine/`. Takes the writer lock.
    pub fn repair(root: impl AsRef<Path>, opts: Options) -> Result<RepairReport> {
        let root = root.as_ref();
        let layout = Layout::new(absolute(root)?);
        let _lock = lock::acquire(&*opts.fs, &layout, opts.lock_wait)?;
        repair::repair(&layout, &opts)
    }

    /// Checks the catalog under `root` without changing anything: every
    /// retained journal record's CRC and chain value, segment continuity,
    /// every snapshot against the journal, and that every stored file an
    /// entry uses exists. With `deep`, also replays the whole journal
    /// against each snapshot's entries and hashes every blob. Runs beside a
    /// writer, and on a catalog that refuses to open.
    pub fn check(root: impl AsRef<Path>, opts: Options, deep: bool) -> Result<CheckReport> {
        Catalog::check_with(root, opts, CheckOptions::default().deep(deep))
    }

    /// [`Catalog::check`] with every option: also compares the journal with
    /// a head pinned elsewhere ([`CheckOptions::expect_head`]), which turns
    /// the loss of the newest acknowledged records — invisible to any log on
    /// its own — into a problem.
    pub fn check_with(
        root: impl AsRef<Path>,
        opts: Options,
        check_opts: CheckOptions,
    ) -> Result<CheckReport> {
        let root = root.as_ref();
        let layout = Layout::new(absolute(root)?);
        // A writer compacting meanwhile can remove a file the check is about
        // to read: if the files changed under a failing check, check again.
        let mut attempts = 0;
        loop {
            let before = recovery::listing(&layout, &opts)?;
            let result = check::check(root, &opts, &check_opts);
            let failed = match &result {
                Ok(report) => !report.is_ok(),
                Err(_) => true,
            };
            attempts += 1;
            if !failed || attempts == 10 || recovery::listing(&layout, &opts)? == before {
                return result;
            }
            std::thread::sleep(std::time::Duration::from_millis(attempts));
        }
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
        spec.model_ref = crate::model_ref::ModelRef::parse(&spec.model_ref)?.canonical();
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

    fn commit(
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

    fn writer(&self) -> Result<&Writer> {
        self.inner.writer.as_ref().ok_or(Error::ReadOnly)
    }

    fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        view::read(&self.inner.view)
    }
}

/// The position of a handle in the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalHead {
    /// Last applied sequence number (0 for an empty journal).
    pub seq: u64,
    /// Chain value after it, 64 hex digits: pin it elsewhere to detect any
    /// later rewrite of the history up to `seq`.
    pub chain: String,
    /// Time of that record (Unix milliseconds).
    pub time_ms: u64,
}

/// A catalog handle whose mutations carry an [`OpContext`]; see
/// [`Catalog::with_context`].
#[derive(Debug)]
pub struct WithContext<'a> {
    catalog: &'a Catalog,
    ctx: OpContext,
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
        Outcome::Entry(entry) => Ok(*entry),
        Outcome::Removed(_) => Err(Error::NotFound { id: id.to_string() }),
    }
}

fn absolute(root: &Path) -> Result<std::path::PathBuf> {
    std::path::absolute(root).map_err(|e| Error::io(root, e))
}

fn log_open(layout: &Layout, report: &RecoveryReport, read_only: bool) {
    tracing::info!(
        root = %layout.root().display(),
        read_only,
        created = report.created,
        snapshot_seq = report.snapshot_seq,
        records_replayed = report.records_replayed,
        torn_tail = report.torn_tail.is_some(),
        "catalog opened"
    );
}
