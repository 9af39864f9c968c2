//! How a catalog is opened.

use crate::fs::{Fs, StdFs};
use crate::metrics::{MetricsSink, NoMetrics};
use std::sync::Arc;
use std::time::Duration;

/// What recovery may do with a damaged journal or snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryMode {
    /// Cut a provably torn tail of the newest segment (keeping the cut bytes
    /// under `catalog/recovered/`), and fall back to the previous snapshot if
    /// the newest one is damaged. Refuse every other damage.
    #[default]
    TruncateTornTail,
    /// Change nothing: any torn tail or damaged snapshot fails the open.
    Strict,
}

/// When the catalog compacts by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoCompact {
    /// Compact once at least this many journal bytes were written since the
    /// newest snapshot …
    pub min_journal_bytes: u64,
    /// … and they are at least this many times the size of the live state's
    /// snapshot.
    pub ratio: u64,
}

impl Default for AutoCompact {
    fn default() -> Self {
        AutoCompact {
            min_journal_bytes: 64 << 20,
            ratio: 4,
        }
    }
}

/// Options for [`crate::Catalog::open_with`].
///
/// ```
/// use catalog_core::{Options, RecoveryMode};
/// let opts = Options::default().recovery(RecoveryMode::Strict).auto_compact(None);
/// assert_eq!(opts.recovery, RecoveryMode::Strict);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// What recovery may repair on its own.
    pub recovery: RecoveryMode,
    /// Wait this long for the writer lock instead of failing at once with `Busy`.
    pub lock_wait: Option<Duration>,
    /// A segment is sealed and a new one started once it reaches this size.
    pub max_segment_bytes: u64,
    /// Automatic compaction policy; `None` compacts only on request.
    pub auto_compact: Option<AutoCompact>,
    /// Snapshots kept (at least 1); older ones are deleted after a compaction.
    pub keep_snapshots: usize,
    /// Keep sealed segments that every kept snapshot covers, so the full
    /// history of every model stays readable (default). `false` deletes them
    /// after a compaction.
    pub retain_history: bool,
    /// The file system (tests substitute a fault-injecting one).
    pub fs: Arc<dyn Fs>,
    /// Where metric events go (default: nowhere).
    pub metrics: Arc<dyn MetricsSink>,
    /// Whether a writer open creates the catalog if there is none (default
    /// `true`); `false` makes it fail with `Error::NoCatalog` instead.
    pub create_if_missing: bool,
    /// How far ahead of its records the newest segment is filled with zeros
    /// (default 1 MiB; 0 turns preallocation off). Appends then overwrite
    /// allocated blocks, so each `fdatasync` has no metadata to write.
    pub preallocate_bytes: u64,
    /// How long a writer about to flush fewer records than writers were
    /// putting around the last flush waits for theirs, to share the
    /// `fdatasync` (default 50 µs; `Duration::ZERO` never waits). The
    /// writers just answered are probably preparing their next record; a
    /// lone writer never waits. Never longer than half the recent write and
    /// sync time, so a fast disk waits less. (PostgreSQL's `commit_delay`
    /// with `commit_siblings`, in one rule.)
    pub commit_linger: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            recovery: RecoveryMode::default(),
            lock_wait: None,
            max_segment_bytes: 16 << 20,
            auto_compact: Some(AutoCompact::default()),
            keep_snapshots: 2,
            retain_history: true,
            fs: Arc::new(StdFs),
            metrics: Arc::new(NoMetrics),
            create_if_missing: true,
            preallocate_bytes: 1 << 20,
            commit_linger: Duration::from_micros(50),
        }
    }
}

impl Options {
    /// Sets the recovery mode.
    pub fn recovery(mut self, mode: RecoveryMode) -> Self {
        self.recovery = mode;
        self
    }
    /// Waits up to `wait` for the writer lock.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = Some(wait);
        self
    }
    /// Sets the segment size at which a new segment starts.
    pub fn max_segment_bytes(mut self, bytes: u64) -> Self {
        self.max_segment_bytes = bytes;
        self
    }
    /// Sets (or with `None` disables) automatic compaction.
    pub fn auto_compact(mut self, policy: Option<AutoCompact>) -> Self {
        self.auto_compact = policy;
        self
    }
    /// Sets how many snapshots are kept.
    pub fn keep_snapshots(mut self, n: usize) -> Self {
        self.keep_snapshots = n.max(1);
        self
    }
    /// Whether sealed segments covered by every kept snapshot are kept.
    pub fn retain_history(mut self, retain: bool) -> Self {
        self.retain_history = retain;
        self
    }
    /// Sends metric events to `sink` (for example [`crate::Counters`]).
    pub fn metrics(mut self, sink: Arc<dyn MetricsSink>) -> Self {
        self.metrics = sink;
        self
    }
    /// Whether a writer open may create a new catalog.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
    /// Sets how far ahead the newest segment is preallocated (0: off).
    pub fn preallocate(mut self, bytes: u64) -> Self {
        self.preallocate_bytes = bytes;
        self
    }
    /// Sets how long a lone record waits for company before its flush
    /// (see [`Options::commit_linger`]; `Duration::ZERO`: never).
    pub fn commit_linger(mut self, linger: Duration) -> Self {
        self.commit_linger = linger;
        self
    }
    /// Uses another file system implementation.
    pub fn fs(mut self, fs: Arc<dyn Fs>) -> Self {
        self.fs = fs;
        self
    }
}
