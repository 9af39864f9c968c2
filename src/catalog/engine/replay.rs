//! Replay: the snapshot a recovery starts from (newest first, passing over
//! damaged ones and ones their checkpoint record contradicts) and the
//! journal after it, record by record, with the torn-tail cut.

use super::identity::Identity;
use super::options::{Options, RecoveryMode};
use super::recovered::{Recovered, RecoveryReport};
use super::torn_cut::cut_torn_tail;
use super::view::View;
use crate::error::{CorruptKind, Error, Result};
use crate::fs::Fs;
use crate::journal::chain::ChainValue;
use crate::journal::op::Op;
use crate::journal::reader::{self, Cursor, ScanEnd, Visited};
use crate::journal::record;
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::Layout;
use crate::snapshot::{self, SnapshotMeta};
use crate::state::{State, change_for};
use std::io;
use std::path::{Path, PathBuf};

/// A snapshot chosen as the base of replay.
pub(super) struct Base {
    pub(super) meta: SnapshotMeta,
    state: State,
    path: PathBuf,
    file_len: u64,
    decoded: snapshot::Decoded,
}

/// The newest readable snapshot among `snapshots`; damaged ones are passed
/// over (and reported) unless the mode is strict.
pub(super) fn choose_snapshot(
    fs: &dyn Fs,
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    snapshots: &[u64],
    report: &mut RecoveryReport,
) -> Result<Option<Base>> {
    for &seq in snapshots.iter().rev() {
        let path = layout.snapshot_file(seq);
        match load_snapshot(fs, &path, identity) {
            Ok(base) if base.meta.seq == seq => return Ok(Some(base)),
            Ok(base) => {
                return Err(Error::corrupt(
                    &path,
                    0,
                    Some(base.meta.seq),
                    CorruptKind::Misplaced,
                    format!(
                        "snapshot says sequence {}, its name says {seq}",
                        base.meta.seq
                    ),
                ));
            }
            Err(err @ Error::Corrupt { .. }) if opts.recovery != RecoveryMode::Strict => {
                tracing::warn!(file = %path.display(), error = %err, "snapshot damaged; falling back to an older one");
                report.skipped_snapshots.push(path);
            }
            Err(err) => return Err(err),
        }
    }
    Ok(None)
}

/// How a replay from one base ended.
pub(super) enum Replayed {
    Done(Box<Recovered>),
    /// The base snapshot is not what the journal bound: its checkpoint
    /// record names other contents, or (format 2) there is none.
    SnapshotRejected {
        path: PathBuf,
        seq: u64,
        reason: String,
    },
}

/// What a replay reads and may do, the same for every base it is tried
/// from.
pub(super) struct Journal<'a> {
    pub(super) fs: &'a dyn Fs,
    pub(super) layout: &'a Layout,
    pub(super) opts: &'a Options,
    /// A writer cuts a torn tail; a reader changes nothing.
    pub(super) writable: bool,
    /// Every segment's header, checked (`journal::listing::read_headers`).
    pub(super) headers: &'a [SegmentHeader],
}

/// Replays the journal after `base` (from the start without one), record
/// by record, into the state an open handle starts from.
pub(super) fn replay(
    journal: &Journal<'_>,
    identity: Identity,
    base: Option<Base>,
    report: &mut RecoveryReport,
) -> Result<Replayed> {
    let headers = journal.headers;
    report.snapshot_seq = base.as_ref().map(|b| b.meta.seq);
    let start = start_segment(journal.layout, headers, base.as_ref())?;
    let snapshot_bytes = base.as_ref().map_or(0, |b| b.file_len);
    let mut run = Run::new(base, identity.created_ms);
    let newest = headers.len() - 1;
    let first = &headers[start];
    let mut cursor = Cursor {
        offset: segment::HEADER_LEN as u64,
        next_seq: first.first_seq,
        chain: first.prev_chain,
    };
    for (i, h) in headers.iter().enumerate().skip(start) {
        let path = journal.layout.segment_file(h.segment_no);
        if i > start && (h.first_seq != cursor.next_seq || h.prev_chain != cursor.chain) {
            return Err(crate::journal::listing::not_continuing(
                &path,
                h,
                cursor.next_seq,
            ));
        }
        match run.segment(journal, h, i == newest, report)? {
            Ok(end) => cursor = end,
            Err(rejected) => return Ok(rejected),
        }
    }
    if cursor.next_seq <= run.covered {
        let covered = run.covered;
        return Err(Error::corrupt(
            journal.layout.snapshot_file(covered),
            0,
            Some(covered),
            CorruptKind::Snapshot,
            format!(
                "snapshot covers sequence {covered} but the journal ends at {}",
                cursor.next_seq - 1
            ),
        ));
    }
    if let Some(rejected) = run.unbound(headers) {
        return Ok(rejected);
    }
    let view = View {
        state: run.state,
        state_seq: run.state_seq,
        seq: cursor.next_seq - 1,
        chain: cursor.chain,
        time_ms: run.time_ms,
        segment_no: headers[newest].segment_no,
        cursor,
        tail: run.tail,
    };
    Ok(Replayed::Done(Box::new(Recovered {
        identity,
        view,
        bytes_since_snapshot: run.bytes_since_snapshot,
        snapshot_bytes,
        report: std::mem::take(report),
    })))
}

/// The index of the segment holding the first record after `base` (the
/// last one starting at or before it), once the journal is seen to take
/// over where the snapshot ends.
fn start_segment(layout: &Layout, headers: &[SegmentHeader], base: Option<&Base>) -> Result<usize> {
    let covered = base.map_or(0, |b| b.meta.seq);
    let Some(start) = headers.iter().rposition(|h| h.first_seq <= covered + 1) else {
        let first = &headers[0];
        return Err(Error::corrupt(
            layout.segment_file(first.segment_no),
            0,
            Some(first.first_seq),
            CorruptKind::Missing,
            format!(
                "journal starts at sequence {} but nothing covers sequences {}..{}",
                first.first_seq,
                covered + 1,
                first.first_seq
            ),
        ));
    };
    let first = &headers[start];
    if base.is_none() && first.first_seq != 1 {
        return Err(Error::corrupt(
            layout.segment_file(first.segment_no),
            0,
            Some(1),
            CorruptKind::Missing,
            format!(
                "journal starts at sequence {} and no snapshot covers the records before it",
                first.first_seq
            ),
        ));
    }
    if let Some(b) = base
        && first.first_seq == covered + 1
        && first.prev_chain != b.meta.chain
    {
        return Err(Error::corrupt(
            &b.path,
            0,
            Some(covered),
            CorruptKind::Chain,
            "snapshot chain value does not match the journal",
        ));
    }
    Ok(start)
}

/// A replay in progress: the state so far, and what is known of the base
/// snapshot's binding.
struct Run {
    /// The base snapshot's sequence number (0 without one).
    covered: u64,
    snap_chain: Option<ChainValue>,
    /// The base snapshot's path and what decoding it found.
    bound_by: Option<(PathBuf, snapshot::Decoded)>,
    state: State,
    time_ms: u64,
    /// Whether the base snapshot's checkpoint record was found (and
    /// matched), or why it did not match.
    bound: bool,
    mismatch: Option<String>,
    state_seq: u64,
    /// Offset of the newest segment's last record.
    tail: Option<u64>,
    bytes_since_snapshot: u64,
}

impl Run {
    fn new(base: Option<Base>, created_ms: u64) -> Self {
        let covered = base.as_ref().map_or(0, |b| b.meta.seq);
        let snap_chain = base.as_ref().map(|b| b.meta.chain);
        let bound_by = base.as_ref().map(|b| (b.path.clone(), b.decoded));
        let (state, time_ms) = match base {
            Some(b) => (b.state, b.meta.time_ms),
            None => (State::default(), created_ms),
        };
        Run {
            covered,
            snap_chain,
            bound_by,
            state,
            time_ms,
            bound: false,
            mismatch: None,
            state_seq: covered,
            tail: None,
            bytes_since_snapshot: 0,
        }
    }

    /// Replays one segment (cutting a torn tail of the newest): where
    /// reading ends, or the base snapshot rejected by a checkpoint record.
    fn segment(
        &mut self,
        journal: &Journal<'_>,
        h: &SegmentHeader,
        newest: bool,
        report: &mut RecoveryReport,
    ) -> Result<std::result::Result<Cursor, Replayed>> {
        let path = journal.layout.segment_file(h.segment_no);
        let bytes = journal.fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let body = bytes.get(segment::HEADER_LEN..).unwrap_or_default();
        let from = Cursor {
            offset: segment::HEADER_LEN as u64,
            next_seq: h.first_seq,
            chain: h.prev_chain,
        };
        let scanned = reader::scan(body, from, &path, newest, h.version, |v| {
            if newest {
                self.tail = Some(v.offset);
            }
            self.record(v, &path, report)
        });
        let (end, scan_end) = match scanned {
            Err(_) if self.mismatch.is_some() => {
                return Ok(Err(Replayed::SnapshotRejected {
                    path: self.bound_by.take().map(|(p, _)| p).unwrap_or_default(),
                    seq: self.covered,
                    reason: self.mismatch.take().unwrap_or_default(),
                }));
            }
            other => other?,
        };
        if let ScanEnd::Torn { reason } = scan_end {
            let torn = cut_torn_tail(
                journal.fs,
                journal.layout,
                journal.opts,
                journal.writable,
                h.segment_no,
                &bytes,
                end.offset,
                end.next_seq,
                reason,
            )?;
            report.torn_tail = Some(torn);
        }
        Ok(Ok(end))
    }

    /// Applies one record: those the base snapshot covers are only checked
    /// (the last one's chain value, the checkpoint that binds it).
    fn record(&mut self, v: Visited<'_>, path: &Path, report: &mut RecoveryReport) -> Result<()> {
        let seq = v.header.seq;
        let covered = self.covered;
        if seq <= covered {
            if seq == covered && Some(v.header.chain) != self.snap_chain {
                return Err(Error::corrupt(
                    path,
                    v.offset,
                    Some(seq),
                    CorruptKind::Chain,
                    "snapshot chain value does not match the journal",
                ));
            }
            return Ok(());
        }
        if let (
            Op::Checkpoint {
                seq: s,
                entries,
                content,
            },
            Some((snap, d)),
        ) = (&v.payload.op, &self.bound_by)
            && *s == covered
        {
            if *entries != d.entries || *content != d.content {
                let reason = format!(
                    "snapshot contents differ from what checkpoint record {seq} bound \
                     ({} entries, content {}; the file has {} entries, content {})",
                    entries,
                    crate::digest::hex(content),
                    d.entries,
                    crate::digest::hex(&d.content),
                );
                self.mismatch = Some(reason.clone());
                return Err(Error::corrupt(
                    snap,
                    0,
                    Some(covered),
                    CorruptKind::Snapshot,
                    reason,
                ));
            }
            self.bound = true;
        }
        if v.payload.op.changes_state() {
            self.state_seq = seq;
        }
        let current = v.payload.op.model_id().and_then(|id| self.state.get(id));
        let change =
            change_for(current, v.payload.op, seq, v.header.time_ms).map_err(|reason| {
                Error::corrupt(path, v.offset, Some(seq), CorruptKind::Replay, reason)
            })?;
        self.state.apply(change);
        report.records_replayed += 1;
        self.bytes_since_snapshot += (v.raw_payload.len() + record::HEADER_LEN) as u64;
        self.time_ms = v.header.time_ms;
        Ok(())
    }

    /// The base snapshot rejected for want of the checkpoint record that
    /// should bind it: a format-1 snapshot is trusted unbound only where
    /// format 1 was written (not at or past the first sequence of a
    /// format-2 segment); a later one always needs one.
    fn unbound(&mut self, headers: &[SegmentHeader]) -> Option<Replayed> {
        let covered = self.covered;
        let (path, d) = self.bound_by.take()?;
        if self.bound {
            return None;
        }
        let v2_from = headers.iter().find(|h| h.version >= 2).map(|h| h.first_seq);
        if d.version < 2 && v2_from.is_some_and(|f| covered >= f) {
            return Some(Replayed::SnapshotRejected {
                path,
                seq: covered,
                reason: format!(
                    "a format-1 snapshot at sequence {covered}, which format 2 wrote (from \
                     sequence {}): format 2 writes only snapshots bound by a checkpoint",
                    v2_from.unwrap_or_default()
                ),
            });
        }
        (d.version >= 2).then(|| Replayed::SnapshotRejected {
            path,
            seq: covered,
            reason: format!(
                "a format-{} snapshot must be bound by a checkpoint record, and the journal \
                 after sequence {covered} has none (it was not written by a compaction)",
                d.version
            ),
        })
    }
}

fn load_snapshot(fs: &dyn Fs, path: &Path, identity: &Identity) -> Result<Base> {
    let file_len = fs
        .len(path)
        .map_err(|e| Error::io(path, e))?
        .ok_or_else(|| Error::io(path, io::Error::from(io::ErrorKind::NotFound)))?;
    let reader = fs.open_read(path).map_err(|e| Error::io(path, e))?;
    let mut reader = io::BufReader::with_capacity(1 << 16, reader);
    let mut state = State::default();
    let mut twice = None;
    // Streamed straight into the map: neither the file nor the entries are
    // ever held twice (if the file's CRC fails at the end, all is dropped).
    let decoded = snapshot::decode_stream(&mut reader, file_len, path, |e| {
        let id = e.id.clone();
        if state.insert(e) {
            twice.get_or_insert(id);
        }
        Ok(())
    })?;
    let meta = decoded.meta;
    if meta.catalog_id != identity.catalog_id {
        return Err(Error::corrupt(
            path,
            0,
            Some(meta.seq),
            CorruptKind::Misplaced,
            "snapshot belongs to another catalog",
        ));
    }
    if let Some(id) = twice {
        return Err(Error::corrupt(
            path,
            0,
            Some(meta.seq),
            CorruptKind::Decode,
            format!("snapshot holds model `{id}` twice"),
        ));
    }
    Ok(Base {
        meta,
        state,
        path: path.to_path_buf(),
        file_len,
        decoded,
    })
}
