//! The catalog handle (`Catalog`): what it holds, and the reads.
//!
//! A [`Catalog`] is a cheap, cloneable handle (`Send + Sync`) to one catalog
//! root. A writer handle holds the root's writer lock for as long as any
//! clone of it lives; a read-only handle takes no lock and never blocks the
//! writer.
//!
//! Two rooms under it: `engine/` is the engine's lifecycle (opening and
//! recovery, the group commit, compaction, refresh, repair, the check,
//! history); `models/` is what is done to models (import, verification,
//! eviction, gc, resolution). The durable mutations are in `writes.rs`.

mod engine;
mod models;
mod with_context;
mod writes;

pub use engine::{
    AutoCompact, CheckOptions, CheckReport, CommitStats, CompactionReport, Event, Events,
    EventsPosition, Options, Problem, ProblemKind, RecoveryMode, RecoveryReport, RepairReport,
    SalvageGap, TornTail,
};
pub use models::ACCESS_GRANULARITY_MS;
#[cfg(feature = "signature")]
pub use models::SignatureReport;
pub use models::{
    EvictReport, ImportOptions, ImportReport, VerifyOptions, VerifyPlan, VerifyReport,
};
pub use with_context::WithContext;

use crate::entry::{ModelEntry, check_id};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::lock::WriterLock;
use crate::store::Store;
use engine::commit::Committer;
use engine::view::{self, View};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
    identity: engine::identity::Identity,
    view: RwLock<View>,
    writer: Option<Writer>,
    report: RecoveryReport,
    store: Store,
    flights: models::flights::Flights,
    /// Built by the first `history` call (see `engine/history_index.rs`).
    history_index: Mutex<Option<engine::history_index::HistoryIndex>>,
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
    /// Sequence number of the newest snapshot known good: the one recovery
    /// loaded, or this handle's last compaction (0: none).
    good_snapshot: AtomicU64,
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

    /// Every entry, ordered by id, shared instead of copied: one
    /// reference-count increment per entry (what [`Catalog::lookup`] is to
    /// [`Catalog::get`]). The entries are immutable snapshots: a later write
    /// replaces the catalog's entry, never the one handed out.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("b", "hf:org/b", "blobs/b"))?;
    /// catalog.put(EntrySpec::new("a", "hf:org/a", "blobs/a"))?;
    /// let all = catalog.list_shared();
    /// let ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    /// assert_eq!(ids, ["a", "b"]);
    /// # Ok(()) }
    /// ```
    pub fn list_shared(&self) -> Vec<Arc<ModelEntry>> {
        self.view().state.shared_values().cloned().collect()
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

    fn writer(&self) -> Result<&Writer> {
        self.inner.writer.as_ref().ok_or(Error::ReadOnly)
    }

    /// The store, for reading (any handle): what adoption compares with.
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The store held shared on a live writer handle, its directories made:
    /// what an adoption writes through (like an import: gc, evictions and
    /// deletions wait until it is dropped, so nothing it publishes goes
    /// before it is registered with `put_locked`).
    pub(crate) fn store_session(&self) -> Result<StoreSession<'_>> {
        let w = self.writer()?;
        let guard = w.store_shared();
        w.committer.check_alive()?;
        self.inner.store.create_dirs()?;
        Ok(StoreSession {
            _guard: guard,
            store: &self.inner.store,
        })
    }

    fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        view::read(&self.inner.view)
    }
}

/// The store, held shared for as long as this lives (see
/// [`Catalog::store_session`]).
pub(crate) struct StoreSession<'a> {
    _guard: RwLockReadGuard<'a, ()>,
    pub store: &'a Store,
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

fn absolute(root: &Path) -> Result<std::path::PathBuf> {
    std::path::absolute(root).map_err(|e| Error::io(root, e))
}
