//! The engine's lifecycle on a catalog handle: opening (writer and
//! read-only), compaction, refresh, repair and the check.

use super::check::{self, CheckOptions, CheckReport};
use super::commit::{CommitStats, Committer};
use super::compact::{self, CompactionReport};
use super::options::Options;
use super::recovery::{self, RecoveryReport};
use super::refresh;
use super::repair::{self, RepairReport};
use crate::catalog::{Catalog, Inner, Writer, absolute};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::lock;
use crate::store::Store;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

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
        match crate::catalog::models::moves::recover(&store, &rec.view.state) {
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
            committer: Committer::new(journal, rec.view.time_ms, opts.commit_linger),
            store_lock: RwLock::new(()),
            compaction: Mutex::new(()),
            snapshot_bytes: AtomicU64::new(rec.snapshot_bytes),
            good_snapshot: AtomicU64::new(rec.report.snapshot_seq.unwrap_or(0)),
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
                flights: crate::catalog::models::flights::Flights::default(),
                history_index: std::sync::Mutex::default(),
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

    /// A read-only handle as of *before* the journal's first record, opened
    /// without replaying the journal (when the history was pruned, an
    /// ordinary read-only handle): for a reader that goes through every
    /// event itself and keeps its own state, so that the journal is read
    /// once (the fleet exporter). [`Catalog::refresh`] brings it up to date.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn open_read_only_at_start(root: impl AsRef<Path>) -> Result<Catalog> {
        let root = root.as_ref();
        let layout = Layout::new(absolute(root)?);
        let opts = Options::default();
        match recovery::recover_at_start(&layout, &opts)? {
            Some(rec) => Ok(Catalog::assemble(layout, opts, rec, None)),
            None => Catalog::open_read_only_with(root, opts),
        }
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
            let before = crate::journal::listing::listing(&*opts.fs, &layout)?;
            let result = check::check(root, &opts, &check_opts);
            let failed = match &result {
                Ok(report) => !report.is_ok(),
                Err(_) => true,
            };
            attempts += 1;
            if !failed
                || attempts == 10
                || crate::journal::listing::listing(&*opts.fs, &layout)? == before
            {
                return result;
            }
            std::thread::sleep(std::time::Duration::from_millis(attempts));
        }
    }
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
