//! Opening a catalog: identity, choice of snapshot, replay of the journal
//! after it, and the torn-tail cut. The rules are in `docs/FORMAT.md`
//! ("Recovery").

use super::create;
use super::identity::Identity;
use super::options::{Options, RecoveryMode};
pub(crate) use super::recovered::{Recovered, RecoveryReport};
use super::replay;
use crate::error::{CorruptKind, Error, Result};
use crate::fs::Fs;
use crate::journal::listing::{list_numbered, listing, read_headers};
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use std::io;
use std::path::PathBuf;

/// Removes temp files left by interrupted writes in the catalog's
/// directories (only a writer does this).
fn remove_temp_files(fs: &dyn Fs, layout: &Layout, removed: &mut Vec<PathBuf>) -> Result<()> {
    for dir in [
        layout.meta_dir().to_path_buf(),
        layout.journal_dir(),
        layout.snapshot_dir(),
        layout.recovered_dir(),
    ] {
        let (_, temps) = list_numbered(fs, &dir, SEGMENT_SUFFIX)?;
        for path in temps {
            tracing::info!(file = %path.display(), "removing temp file left by an interrupted write");
            fs.remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed.push(path);
        }
    }
    Ok(())
}

/// Recovery for a read-only handle, which runs beside a writer: if it fails
/// because a concurrent compaction or retention removed or added files
/// while it read them (a missing file, or a snapshot and journal that do not
/// agree), and the directory listings did change, it starts again (a few
/// times). A failure on an unchanging catalog is reported as it is.
pub(crate) fn recover_read_only(layout: &Layout, opts: &Options) -> Result<Recovered> {
    const ATTEMPTS: usize = 10;
    let mut attempt = 0;
    loop {
        let before = listing(&*opts.fs, layout)?;
        match recover(layout, opts, false) {
            Err(e @ (Error::Corrupt { .. } | Error::Io { .. })) if attempt + 1 < ATTEMPTS => {
                if listing(&*opts.fs, layout)? == before {
                    return Err(e);
                }
                tracing::debug!(error = %e, "the catalog changed while it was read; reading again");
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(attempt as u64));
            }
            other => return other,
        }
    }
}

/// A read-only handle's start *before* the journal's first record, found
/// without replaying anything: the empty state at sequence 0, positioned
/// at the first record of the first segment (so `refresh` applies every
/// record from there). `None` when that is not the catalog's past: the
/// history before the first retained segment was pruned, or the catalog
/// is not plainly there (no identity, no segment, a repair pending); the
/// caller then opens as usual, which reports why.
pub(crate) fn recover_at_start(layout: &Layout, opts: &Options) -> Result<Option<Recovered>> {
    let fs = &*opts.fs;
    if super::repair::swap::is_pending(fs, layout)? {
        return Ok(None);
    }
    let id_path = layout.identity_file();
    let Ok(bytes) = fs.read(&id_path) else {
        return Ok(None);
    };
    let identity = Identity::decode(&bytes, &id_path)?;
    let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
    let Some(&first) = segments.first() else {
        return Ok(None);
    };
    let headers = read_headers(fs, layout, &[first], &identity.catalog_id)?;
    let Some(h) = headers.first().filter(|h| h.first_seq == 1) else {
        return Ok(None);
    };
    let cursor = crate::journal::reader::Cursor {
        offset: crate::journal::segment::HEADER_LEN as u64,
        next_seq: 1,
        chain: h.prev_chain,
    };
    let view = super::view::View {
        state: crate::state::State::default(),
        state_seq: 0,
        seq: 0,
        chain: h.prev_chain,
        time_ms: identity.created_ms,
        segment_no: h.segment_no,
        cursor,
        tail: None,
    };
    Ok(Some(Recovered {
        identity,
        view,
        bytes_since_snapshot: 0,
        snapshot_bytes: 0,
        report: RecoveryReport::default(),
    }))
}

/// Opens the catalog under `layout`, creating it if `writable` and absent.
/// A writer cuts a torn tail (default mode); a reader changes nothing.
pub(crate) fn recover(layout: &Layout, opts: &Options, writable: bool) -> Result<Recovered> {
    let fs = &*opts.fs;
    let journal_dir = layout.journal_dir();
    let mut report = RecoveryReport::default();
    prepare(fs, layout, writable, &mut report)?;
    let (mut segments, _) = list_numbered(fs, &journal_dir, SEGMENT_SUFFIX)?;
    let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
    let identity = identity(
        layout,
        opts,
        writable,
        (&mut segments, &snapshots),
        &mut report,
    )?;
    if segments.is_empty() {
        return Err(Error::corrupt(
            &journal_dir,
            0,
            None,
            CorruptKind::Missing,
            "the catalog has an identity but no journal segment (were files deleted?)",
        ));
    }
    let headers = read_headers(fs, layout, &segments, &identity.catalog_id)?;
    if let Some(newest) = headers.last() {
        // Read the newest segment's unproven tail from the disk, not from a
        // page cache a failed fdatasync may have left lying (docs/FORMAT.md §6.8).
        let path = layout.segment_file(newest.segment_no);
        report.write_error_at_open =
            crate::journal::settle::settle(fs, &path, writable)?.sync_failed;
    }
    // Newest snapshot first; one whose contents differ from the checkpoint
    // record that bound it is passed over like a damaged one.
    let mut candidates: &[u64] = &snapshots;
    loop {
        let base = replay::choose_snapshot(fs, layout, opts, &identity, candidates, &mut report)?;
        if let Some(b) = &base {
            candidates = &snapshots[..snapshots.partition_point(|&s| s < b.meta.seq)];
        }
        report.records_replayed = 0;
        let journal = replay::Journal {
            fs,
            layout,
            opts,
            writable,
            headers: &headers,
        };
        match replay::replay(&journal, identity, base, &mut report)? {
            replay::Replayed::Done(rec) => return Ok(*rec),
            replay::Replayed::SnapshotRejected { path, seq, reason } => {
                if opts.recovery == RecoveryMode::Strict {
                    return Err(Error::corrupt(
                        &path,
                        0,
                        Some(seq),
                        CorruptKind::Snapshot,
                        reason,
                    ));
                }
                tracing::warn!(file = %path.display(), reason, "snapshot does not match the journal; falling back to an older one");
                report.skipped_snapshots.push(path);
            }
        }
    }
}

/// What comes before reading: a writer finishes a repair a crash
/// interrupted (a reader refuses to open beside one), creates the
/// directories and removes temp files of interrupted writes.
fn prepare(
    fs: &dyn Fs,
    layout: &Layout,
    writable: bool,
    report: &mut RecoveryReport,
) -> Result<()> {
    if !writable {
        if super::repair::swap::is_pending(fs, layout)? {
            return Err(Error::RepairPending {
                root: layout.root().to_path_buf(),
            });
        }
        return Ok(());
    }
    super::repair::swap::finish_pending(fs, layout)?;
    for dir in [
        layout.meta_dir().to_path_buf(),
        layout.journal_dir(),
        layout.snapshot_dir(),
    ] {
        fs.create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    remove_temp_files(fs, layout, &mut report.removed_temp_files)
}

/// The catalog's identity; without one, a writer allowed to creates the
/// catalog (then the journal is segment 1), unless records or snapshots
/// exist (damage, not absence).
fn identity(
    layout: &Layout,
    opts: &Options,
    writable: bool,
    (segments, snapshots): (&mut Vec<u64>, &[u64]),
    report: &mut RecoveryReport,
) -> Result<Identity> {
    let fs = &*opts.fs;
    let id_path = layout.identity_file();
    Ok(match fs.read(&id_path) {
        Ok(bytes) => Identity::decode(&bytes, &id_path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !create::is_interrupted_creation(fs, layout, segments, snapshots)? {
                return Err(Error::corrupt(
                    &id_path,
                    0,
                    None,
                    CorruptKind::Missing,
                    "identity file missing, but journal records or snapshots exist",
                ));
            }
            if !writable || !opts.create_if_missing {
                return Err(Error::NoCatalog {
                    root: layout.root().to_path_buf(),
                });
            }
            report.created = true;
            *segments = vec![1];
            create::create(fs, layout, crate::clock::now_ms())?
        }
        Err(e) => return Err(Error::io(&id_path, e)),
    })
}
