//! Compaction: a snapshot of the state at sequence S, so that opening
//! replays only the journal after S; then retention of old snapshots and,
//! if asked, of sealed segments.
//!
//! Steps and what a crash after each leaves (see `docs/FORMAT.md`):
//! 1. seal the current segment and start a new one (a crash leaves an
//!    empty newest segment: valid);
//! 2. encode the state at S under the view's read lock;
//! 3. append a `Checkpoint` record binding the snapshot's content digest to
//!    the chain (a crash after it leaves a checkpoint of no snapshot:
//!    harmless);
//! 4. publish `snapshots/<S>.snap` (temp, fsync, rename, fsync dir; a crash
//!    leaves a temp file that the next open removes, or the snapshot);
//! 5. delete snapshots beyond `keep_snapshots`, oldest first, then — only
//!    if `retain_history` is off — append a `Pruned` record naming the first
//!    sequence kept and delete the sealed segments that every kept snapshot
//!    covers, oldest first (a crash leaves extra files, never a gap).

use super::options::Options;
use super::view::{self, View};
use crate::catalog::Writer;
use crate::error::{Error, Result};
use crate::fs::publish_file;
use crate::journal::listing::{list_numbered, read_headers};
use crate::journal::op::Op;
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX, snapshot_name};
use crate::snapshot::{self, SnapshotMeta};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{MutexGuard, RwLock};

/// What a compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionReport {
    /// Sequence number the snapshot covers.
    pub seq: u64,
    /// Entries in the snapshot.
    pub entries: u64,
    /// The snapshot file (`None` if the newest snapshot already covered
    /// everything and nothing was written).
    pub snapshot: Option<PathBuf>,
    /// Its size in bytes.
    pub snapshot_bytes: u64,
    /// Older snapshots deleted.
    pub removed_snapshots: Vec<PathBuf>,
    /// Sealed segments deleted (only with `retain_history` off).
    pub removed_segments: Vec<PathBuf>,
}

/// Runs one compaction; the caller holds the compaction lock.
pub(crate) fn run(
    layout: &Layout,
    opts: &Options,
    catalog_id: [u8; 16],
    view: &RwLock<View>,
    writer: &Writer,
    _serialised: MutexGuard<'_, ()>,
) -> Result<CompactionReport> {
    let fs = &*opts.fs;
    let started = std::time::Instant::now();
    let snapshot_dir = layout.snapshot_dir();
    let (existing, _) = list_numbered(fs, &snapshot_dir, SNAPSHOT_SUFFIX)?;
    let newest_existing = existing.last().copied().unwrap_or(0);
    // Nothing changed the entries since the newest snapshot (at most its own
    // checkpoint or a pruning mark follow it), and that snapshot is good
    // (recovery used it, or this handle wrote it; one that recovery passed
    // over is replaced): nothing to do.
    if view::read(view).state_seq <= newest_existing
        && writer.good_snapshot.load(Ordering::Relaxed) == newest_existing
    {
        return Ok(CompactionReport {
            seq: newest_existing,
            ..CompactionReport::default()
        });
    }
    writer.committer.rotate()?;
    let (meta, entries, bytes) = {
        let v = view::read(view);
        let meta = SnapshotMeta {
            catalog_id,
            seq: v.seq,
            time_ms: v.time_ms,
            chain: v.chain,
        };
        let entries = v.state.len();
        let bytes = snapshot::encode(&meta, entries, v.state.values())?;
        (meta, entries, bytes)
    };
    writer.committer.commit_catalog_op(
        view,
        Op::Checkpoint {
            seq: meta.seq,
            entries: entries as u64,
            content: snapshot::content_digest(&bytes),
        },
    )?;
    publish_file(fs, &snapshot_dir, &snapshot_name(meta.seq), &bytes)?;
    writer.committer.snapshot_taken();
    writer.compact_after.store(0, Ordering::Relaxed);
    writer.good_snapshot.store(meta.seq, Ordering::Relaxed);
    writer
        .snapshot_bytes
        .store(bytes.len() as u64, Ordering::Relaxed);
    let mut report = CompactionReport {
        seq: meta.seq,
        entries: entries as u64,
        snapshot: Some(layout.snapshot_file(meta.seq)),
        snapshot_bytes: bytes.len() as u64,
        ..CompactionReport::default()
    };
    apply_retention(layout, opts, catalog_id, view, writer, &mut report)?;
    tracing::info!(
        seq = meta.seq,
        entries,
        snapshot_bytes = bytes.len(),
        removed_snapshots = report.removed_snapshots.len(),
        removed_segments = report.removed_segments.len(),
        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "catalog compacted"
    );
    Ok(report)
}

/// Deletes snapshots beyond `keep_snapshots` and, without `retain_history`,
/// the sealed segments every kept snapshot covers. Oldest first, so a crash
/// part-way never leaves a gap.
fn apply_retention(
    layout: &Layout,
    opts: &Options,
    catalog_id: [u8; 16],
    view: &RwLock<View>,
    writer: &Writer,
    report: &mut CompactionReport,
) -> Result<()> {
    let fs = &*opts.fs;
    let snapshot_dir = layout.snapshot_dir();
    let (snapshots, _) = list_numbered(fs, &snapshot_dir, SNAPSHOT_SUFFIX)?;
    let keep = opts.keep_snapshots.max(1);
    let cut = snapshots.len().saturating_sub(keep);
    for &seq in &snapshots[..cut] {
        let path = layout.snapshot_file(seq);
        fs.remove_file(&path).map_err(|e| Error::io(&path, e))?;
        report.removed_snapshots.push(path);
    }
    if !report.removed_snapshots.is_empty() {
        // Durable before any segment goes: a snapshot whose deletion a crash
        // undid must still find its checkpoint record in the journal.
        fs.sync_dir(&snapshot_dir)
            .map_err(|e| Error::io(&snapshot_dir, e))?;
    }
    let Some(&oldest_kept) = snapshots.get(cut) else {
        return Ok(());
    };
    if !opts.retain_history {
        let journal_dir = layout.journal_dir();
        let (segments, _) = list_numbered(fs, &journal_dir, SEGMENT_SUFFIX)?;
        let headers = read_headers(fs, layout, &segments, &catalog_id)?;
        // Segment i is covered if the next one starts at or before oldest_kept + 1.
        let covered = headers
            .windows(2)
            .take_while(|pair| pair[1].first_seq <= oldest_kept + 1)
            .count();
        if covered > 0 {
            // Say so in the journal first: a journal that does not start at
            // sequence 1 is missing segments unless such a record explains it.
            writer.committer.commit_catalog_op(
                view,
                Op::Pruned {
                    first_kept: headers[covered].first_seq,
                },
            )?;
        }
        for pair in headers.windows(2).take(covered) {
            let path = layout.segment_file(pair[0].segment_no);
            fs.remove_file(&path).map_err(|e| Error::io(&path, e))?;
            // One removal per directory sync: removals may reach the disk
            // out of order, and a hole in the segment numbers is corruption.
            fs.sync_dir(&journal_dir)
                .map_err(|e| Error::io(&journal_dir, e))?;
            report.removed_segments.push(path);
        }
    }
    Ok(())
}
