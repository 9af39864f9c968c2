//! Opening a catalog: identity, choice of snapshot, replay of the journal
//! after it, and the torn-tail cut. The rules are in `docs/FORMAT.md`
//! ("Recovery").

use super::create;
use super::identity::Identity;
use super::options::{Options, RecoveryMode};
use super::replay;
use super::torn_cut::TornTail;
use super::view::View;
use crate::error::{Error, Result};
use crate::fs::{Fs, TEMP_SUFFIX};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX, parse_numbered};
use std::io;
use std::path::{Path, PathBuf};

/// What opening found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The catalog did not exist and was created.
    pub created: bool,
    /// Sequence number of the snapshot the state was loaded from.
    pub snapshot_seq: Option<u64>,
    /// Damaged snapshots passed over in favour of an older one.
    pub skipped_snapshots: Vec<PathBuf>,
    /// Journal records replayed after the snapshot.
    pub records_replayed: u64,
    /// The torn tail, if there was one.
    pub torn_tail: Option<TornTail>,
    /// Temp files of interrupted writes that were removed.
    pub removed_temp_files: Vec<PathBuf>,
    /// The disk reported a write error for the newest segment's unsynced
    /// tail when this writer synced it: that tail was read back from the
    /// disk, and whatever had not reached it is gone (it was never
    /// acknowledged). A sign of a failing disk.
    pub write_error_at_open: bool,
    /// Source paths whose files an interrupted `--link move` import had
    /// moved into the store, and that were put back.
    pub restored_moved: Vec<PathBuf>,
    /// Files an interrupted `--link move` import had moved into the store
    /// that could not be put back (the path is taken or gone): kept in the
    /// store, never deleted; `check` reports them.
    pub kept_moved: Vec<crate::KeptFile>,
}

/// Everything an open handle starts from.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub identity: Identity,
    pub view: View,
    /// Journal bytes after the snapshot the state was loaded from.
    pub bytes_since_snapshot: u64,
    /// Size of that snapshot file (0 without one).
    pub snapshot_bytes: u64,
    pub report: RecoveryReport,
}

/// Numbers of the files `<20 digits><suffix>` in `dir`, ascending, and the
/// paths of temp files (`*.tmp`) left there by interrupted writes.
pub(crate) fn list_numbered(
    fs: &dyn Fs,
    dir: &Path,
    suffix: &str,
) -> Result<(Vec<u64>, Vec<PathBuf>)> {
    let names = match fs.list(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut numbers = Vec::new();
    let mut temps = Vec::new();
    for name in names {
        if let Some(n) = parse_numbered(&name, suffix) {
            numbers.push(n);
        } else if name.ends_with(TEMP_SUFFIX) {
            temps.push(dir.join(&name));
        }
    }
    numbers.sort_unstable();
    Ok((numbers, temps))
}

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
        let before = listing(layout, opts)?;
        match recover(layout, opts, false) {
            Err(e @ (Error::Corrupt { .. } | Error::Io { .. })) if attempt + 1 < ATTEMPTS => {
                if listing(layout, opts)? == before {
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
    if super::repair::is_pending(fs, layout)? {
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
        offset: segment::HEADER_LEN as u64,
        next_seq: 1,
        chain: h.prev_chain,
    };
    let view = View {
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

/// The segment and snapshot numbers present now (to tell whether a writer
/// changed the files while they were read).
pub(crate) fn listing(layout: &Layout, opts: &Options) -> Result<(Vec<u64>, Vec<u64>)> {
    let fs = &*opts.fs;
    Ok((
        list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?.0,
        list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?.0,
    ))
}

/// Opens the catalog under `layout`, creating it if `writable` and absent.
/// A writer cuts a torn tail (default mode); a reader changes nothing.
pub(crate) fn recover(layout: &Layout, opts: &Options, writable: bool) -> Result<Recovered> {
    let fs = &*opts.fs;
    let journal_dir = layout.journal_dir();
    let snapshot_dir = layout.snapshot_dir();
    let mut report = RecoveryReport::default();
    if writable {
        super::repair::finish_pending(fs, layout)?;
    } else if super::repair::is_pending(fs, layout)? {
        return Err(Error::RepairPending {
            root: layout.root().to_path_buf(),
        });
    }
    if writable {
        for dir in [
            layout.meta_dir().to_path_buf(),
            journal_dir.clone(),
            snapshot_dir.clone(),
        ] {
            fs.create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
    }
    if writable {
        remove_temp_files(fs, layout, &mut report.removed_temp_files)?;
    }
    let (mut segments, _) = list_numbered(fs, &journal_dir, SEGMENT_SUFFIX)?;
    let (snapshots, _) = list_numbered(fs, &snapshot_dir, SNAPSHOT_SUFFIX)?;

    let id_path = layout.identity_file();
    let identity = match fs.read(&id_path) {
        Ok(bytes) => Identity::decode(&bytes, &id_path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !create::is_interrupted_creation(fs, layout, &segments, &snapshots)? {
                return Err(Error::corrupt(
                    &id_path,
                    0,
                    None,
                    "identity file missing, but journal records or snapshots exist",
                ));
            }
            if !writable || !opts.create_if_missing {
                return Err(Error::NoCatalog {
                    root: layout.root().to_path_buf(),
                });
            }
            report.created = true;
            segments = vec![1];
            create::create(fs, layout, crate::clock::now_ms())?
        }
        Err(e) => return Err(Error::io(&id_path, e)),
    };
    if segments.is_empty() {
        return Err(Error::corrupt(
            &journal_dir,
            0,
            None,
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
        match replay::replay(
            fs,
            layout,
            opts,
            writable,
            identity,
            &headers,
            base,
            &mut report,
        )? {
            replay::Replayed::Done(rec) => return Ok(*rec),
            replay::Replayed::SnapshotRejected { path, seq, reason } => {
                if opts.recovery == RecoveryMode::Strict {
                    return Err(Error::corrupt(&path, 0, Some(seq), reason));
                }
                tracing::warn!(file = %path.display(), reason, "snapshot does not match the journal; falling back to an older one");
                report.skipped_snapshots.push(path);
            }
        }
    }
}

/// Reads and checks every segment header: same catalog, number as named,
/// numbers without gaps, first sequence numbers never decreasing.
pub(crate) fn read_headers(
    fs: &dyn Fs,
    layout: &Layout,
    segments: &[u64],
    catalog_id: &[u8; 16],
) -> Result<Vec<SegmentHeader>> {
    let mut headers: Vec<SegmentHeader> = Vec::with_capacity(segments.len());
    for &n in segments {
        let path = layout.segment_file(n);
        if let Some(prev) = headers.last()
            && n != prev.segment_no + 1
        {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                format!("segment {} is missing before this one", prev.segment_no + 1),
            ));
        }
        let bytes = fs
            .read_head(&path, segment::HEADER_LEN)
            .map_err(|e| Error::io(&path, e))?;
        let h = SegmentHeader::decode(&bytes, &path)?;
        if h.first_seq == 0 || h.segment_no == u64::MAX {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                "segment header: first sequence 0 or segment number at its maximum",
            ));
        }
        if h.catalog_id != *catalog_id {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                "segment belongs to another catalog",
            ));
        }
        if h.segment_no != n {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                format!("header says segment {}, file name says {n}", h.segment_no),
            ));
        }
        if let Some(prev) = headers.last()
            && h.first_seq < prev.first_seq
        {
            return Err(Error::corrupt(
                &path,
                0,
                Some(h.first_seq),
                "first sequence number goes backwards",
            ));
        }
        headers.push(h);
    }
    Ok(headers)
}
