//! The explicit repair path: salvage every record that passes its checks,
//! mark what was lost with a gap record, and swap the result in without
//! ever destroying the original files.
//!
//! 1. Salvage: read every segment with `journal::salvage`; accept records in
//!    sequence order whose chain value follows from the record before
//!    (after a gap, the next valid record starts a new run).
//! 2. Rebuild: the newest readable snapshot's state plus every salvaged
//!    record after it that still applies; a `Gap` record stands where
//!    records were lost. Chain values are recomputed from the first gap on,
//!    so the undamaged prefix keeps its original chain.
//! 3. Stage `catalog/repair/{journal,snapshots}` and fsync it, publish the
//!    `catalog/REPAIR` marker (naming the quarantine directory), then move
//!    the old directories to `catalog/quarantine/<time>/` and the staged
//!    ones into place, and remove the marker. An open that finds the
//!    marker finishes the swap; staging without a marker is discarded.

use super::identity::Identity;
use super::options::Options;
use super::recovery::{self, list_numbered};
use crate::context::OpContext;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::fs::{Fs, publish_file};
use crate::journal::chain::{self, ChainValue};
use crate::journal::op::{Op, Payload};
use crate::journal::record::{self, RecordHeader};
use crate::journal::salvage::{self, DamagedRange, Piece, SalvagedRecord};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{
    Layout, REPAIR_MARKER, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX, segment_name, snapshot_name,
};
use crate::snapshot::{self, SnapshotMeta};
use crate::state::{State, change_for};
use std::io;
use std::path::PathBuf;

/// What a repair found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// Whether anything needed repair. `false` means the catalog opens as
    /// it is (a torn tail, if any, is cut by a normal open) and nothing was
    /// changed.
    pub damage_found: bool,
    /// Records kept in the new journal (gap records not counted).
    pub records_kept: u64,
    /// Where records or bytes were lost.
    pub gaps: Vec<SalvageGap>,
    /// Records that passed their checks but were left out, with the reason
    /// (a stale duplicate, or an operation on a model whose registration
    /// was lost).
    pub dropped_records: Vec<(u64, String)>,
    /// Snapshots that could not be read.
    pub skipped_snapshots: Vec<PathBuf>,
    /// The snapshot the rebuilt state started from.
    pub snapshot_seq: Option<u64>,
    /// Last sequence number of the new journal.
    pub last_seq: u64,
    /// Where the original files were moved.
    pub quarantined_to: Option<PathBuf>,
}

/// A stretch of the old journal that could not be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SalvageGap {
    /// The damaged file.
    pub file: PathBuf,
    /// Offset of the first bad byte.
    pub offset: u64,
    /// Bad bytes.
    pub bytes: u64,
    /// The sequence numbers lost (first, last), where known.
    pub lost_seqs: Option<(u64, u64)>,
    /// What was wrong.
    pub reason: String,
}

/// Runs a repair; the caller holds the writer lock.
pub(crate) fn repair(layout: &Layout, opts: &Options) -> Result<RepairReport> {
    let fs = &*opts.fs;
    finish_pending(fs, layout)?;
    // Nothing to do if the catalog opens and a check of every retained
    // record (including sealed segments a snapshot covers) finds nothing.
    match recovery::recover(layout, opts, false) {
        Ok(_) => {
            let check =
                super::check::check(layout.root(), opts, &super::check::CheckOptions::default())?;
            // Store problems and incomplete history are nothing a salvage
            // of the journal can mend.
            let journal_damage = check.problems.iter().any(|p| {
                matches!(
                    p.kind,
                    super::check::ProblemKind::Journal | super::check::ProblemKind::Snapshot
                )
            });
            if !journal_damage {
                return Ok(RepairReport::default());
            }
        }
        Err(Error::Corrupt { .. }) => {}
        Err(err) => return Err(err),
    }
    let id_path = layout.identity_file();
    let id_bytes = fs.read(&id_path).map_err(|e| Error::io(&id_path, e))?;
    let identity = Identity::decode(&id_bytes, &id_path)?;
    let mut report = RepairReport {
        damage_found: true,
        ..RepairReport::default()
    };
    let kept = salvage_journal(fs, layout, &identity, &mut report)?;
    let base = newest_snapshot(fs, layout, &identity, &checkpoints(&kept.0), &mut report)?;
    let rebuilt = rebuild(&identity, base, kept, &mut report)?;
    stage_and_swap(fs, layout, &identity, &rebuilt, &mut report)?;
    tracing::warn!(
        root = %layout.root().display(),
        records_kept = report.records_kept,
        gaps = report.gaps.len(),
        dropped = report.dropped_records.len(),
        quarantined_to = ?report.quarantined_to,
        "catalog repaired"
    );
    Ok(report)
}

/// Finishes a swap whose marker exists, or discards unfinished staging.
/// Only a writer (lock held) calls this.
pub(crate) fn finish_pending(fs: &dyn Fs, layout: &Layout) -> Result<()> {
    let marker = layout.repair_marker();
    let staging = layout.repair_staging_dir();
    let meta = layout.meta_dir();
    let name = match fs.read(&marker) {
        Ok(bytes) => String::from_utf8(bytes)
            .ok()
            .filter(|n| !n.is_empty() && !n.contains('/') && !n.contains(".."))
            .ok_or_else(|| Error::corrupt(&marker, 0, None, "repair marker is unreadable"))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs
                .len(&staging)
                .map_err(|e| Error::io(&staging, e))?
                .is_some()
            {
                tracing::info!(dir = %staging.display(), "discarding an unfinished repair");
                fs.remove_dir_all(&staging)
                    .map_err(|e| Error::io(&staging, e))?;
                fs.sync_dir(meta).map_err(|e| Error::io(meta, e))?;
            }
            return Ok(());
        }
        Err(e) => return Err(Error::io(&marker, e)),
    };
    let quarantine = layout.quarantine_dir().join(&name);
    fs.create_dir_all(&quarantine)
        .map_err(|e| Error::io(&quarantine, e))?;
    let parent = layout.quarantine_dir();
    for dir in [parent.as_path(), meta] {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    for sub in ["journal", "snapshots"] {
        let staged = staging.join(sub);
        let live = meta.join(sub);
        if fs
            .len(&staged)
            .map_err(|e| Error::io(&staged, e))?
            .is_none()
        {
            continue; // already swapped in
        }
        if fs.len(&live).map_err(|e| Error::io(&live, e))?.is_some() {
            let to = quarantine.join(sub);
            fs.rename(&live, &to).map_err(|e| Error::io(&to, e))?;
        }
        fs.rename(&staged, &live).map_err(|e| Error::io(&live, e))?;
    }
    for dir in [quarantine.as_path(), meta] {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    fs.remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
    if fs
        .len(&staging)
        .map_err(|e| Error::io(&staging, e))?
        .is_some()
    {
        fs.remove_dir_all(&staging)
            .map_err(|e| Error::io(&staging, e))?;
    }
    fs.sync_dir(meta).map_err(|e| Error::io(meta, e))?;
    tracing::info!(quarantine = %quarantine.display(), "repair swapped in");
    Ok(())
}

/// Whether a repair marker exists (a reader refuses to open then).
pub(crate) fn is_pending(fs: &dyn Fs, layout: &Layout) -> Result<bool> {
    let marker = layout.repair_marker();
    Ok(fs
        .len(&marker)
        .map_err(|e| Error::io(&marker, e))?
        .is_some())
}

struct Base {
    seq: u64,
    state: State,
}

/// The checkpoint records among the salvaged ones: snapshot sequence →
/// (entries, content digest).
fn checkpoints(items: &[Item]) -> std::collections::BTreeMap<u64, (u64, [u8; 32])> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Record(rec) => match &rec.payload.op {
                Op::Checkpoint {
                    seq,
                    entries,
                    content,
                } => Some((*seq, (*entries, *content))),
                _ => None,
            },
            Item::Gap { .. } => None,
        })
        .collect()
}

/// The newest snapshot that decodes and is not contradicted by the
/// checkpoint record that bound it.
fn newest_snapshot(
    fs: &dyn Fs,
    layout: &Layout,
    identity: &Identity,
    bound: &std::collections::BTreeMap<u64, (u64, [u8; 32])>,
    report: &mut RepairReport,
) -> Result<Option<Base>> {
    let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
    for &seq in snapshots.iter().rev() {
        let path = layout.snapshot_file(seq);
        let decoded = fs
            .read(&path)
            .map_err(|e| Error::io(&path, e))
            .and_then(|bytes| snapshot::decode(&bytes, &path));
        match decoded {
            Ok((d, entries))
                if d.meta.seq == seq
                    && d.meta.catalog_id == identity.catalog_id
                    && bound
                        .get(&seq)
                        .is_none_or(|&(n, content)| n == d.entries && content == d.content) =>
            {
                let mut state = State::default();
                for e in entries {
                    state.insert(e);
                }
                report.snapshot_seq = Some(seq);
                return Ok(Some(Base { seq, state }));
            }
            Ok(_) | Err(Error::Corrupt { .. }) => report.skipped_snapshots.push(path),
            Err(err) => return Err(err),
        }
    }
    Ok(None)
}

/// A salvaged record, or a gap standing for lost ones.
enum Item {
    Record(Box<SalvagedRecord>),
    Gap {
        first: u64,
        last: u64,
        reason: String,
    },
}

/// Reads every segment and keeps the records that form runs of valid
/// sequence and chain; records what was lost.
fn salvage_journal(
    fs: &dyn Fs,
    layout: &Layout,
    identity: &Identity,
    report: &mut RepairReport,
) -> Result<(Vec<Item>, u64, ChainValue, bool)> {
    let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
    let mut items = Vec::new();
    let mut next_seq: Option<u64> = None;
    let mut chain: Option<ChainValue> = None;
    // Where the new journal starts: the first segment's header, or, if that
    // is damaged, the first record kept (with a fresh chain).
    let mut first: Option<(u64, ChainValue)> = None;
    // Whether `first` is the oldest segment's own (intact) header: the
    // journal started there before the repair.
    let mut from_header = false;
    let mut damage: Vec<(PathBuf, DamagedRange)> = Vec::new();
    // Each segment's format decides how its payloads decode; a damaged
    // header's is taken from the segments around it (formats only grow).
    let versions = segment_versions(fs, layout, &segments)?;
    for (i, &n) in segments.iter().enumerate() {
        let path = layout.segment_file(n);
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        match SegmentHeader::decode(&bytes, &path) {
            Ok(h) if h.catalog_id == identity.catalog_id => {
                if i == 0 {
                    first = Some((h.first_seq, h.prev_chain));
                    from_header = true;
                }
                if next_seq.is_none() {
                    next_seq = Some(h.first_seq);
                    chain = Some(h.prev_chain);
                }
            }
            Ok(_) | Err(Error::Corrupt { .. }) => damage.push((
                path.clone(),
                DamagedRange {
                    offset: 0,
                    len: segment::HEADER_LEN.min(bytes.len()) as u64,
                    reason: "segment header damaged",
                },
            )),
            Err(err) => return Err(err),
        }
        let body = bytes.get(segment::HEADER_LEN..).unwrap_or_default();
        for piece in salvage::salvage(body, segment::HEADER_LEN as u64, versions[i]) {
            let rec = match piece {
                Piece::Damaged(d) => {
                    damage.push((path.clone(), d));
                    continue;
                }
                Piece::Record(rec) => rec,
            };
            if next_seq.is_some_and(|n| rec.seq < n) {
                report
                    .dropped_records
                    .push((rec.seq, "sequence number repeats an earlier record".into()));
                continue;
            }
            let expected = next_seq.unwrap_or(rec.seq);
            let follows = rec.seq == expected
                && chain.is_none_or(|c| {
                    chain::next(&c, rec.seq, rec.time_ms, &rec.raw_payload) == rec.chain
                });
            if !follows && damage.is_empty() && rec.seq == expected {
                // Valid CRC, wrong chain, nothing lost before it: edited.
                let len = (record::HEADER_LEN + rec.raw_payload.len()) as u64;
                damage.push((
                    path.clone(),
                    DamagedRange {
                        offset: rec.offset,
                        len,
                        reason: "chain value does not follow (edited record)",
                    },
                ));
                continue;
            }
            if !damage.is_empty() || rec.seq > expected {
                close_gap(&mut damage, &mut items, report, Some((expected, rec.seq)));
            }
            first.get_or_insert((rec.seq, chain::genesis(&identity.catalog_id)));
            next_seq = Some(match &rec.payload.op {
                Op::Gap { last_lost, .. } => last_lost.saturating_add(1),
                _ => rec.seq.saturating_add(1),
            });
            chain = Some(rec.chain);
            items.push(Item::Record(rec));
        }
    }
    close_gap(&mut damage, &mut items, report, None);
    let (first_seq, prev_chain) = first.unwrap_or((1, chain::genesis(&identity.catalog_id)));
    Ok((items, first_seq, prev_chain, from_header))
}

/// The format version of each segment: its header's, or for a header that
/// does not decode, the previous segment's (else the next one's, else the
/// current format).
fn segment_versions(fs: &dyn Fs, layout: &Layout, segments: &[u64]) -> Result<Vec<u32>> {
    let mut found = Vec::with_capacity(segments.len());
    for &n in segments {
        let path = layout.segment_file(n);
        let head = fs
            .read_head(&path, segment::HEADER_LEN)
            .map_err(|e| Error::io(&path, e))?;
        found.push(SegmentHeader::decode(&head, &path).ok().map(|h| h.version));
    }
    let mut out = Vec::with_capacity(found.len());
    for i in 0..found.len() {
        let known = found[i]
            .or_else(|| found[..i].iter().rev().find_map(|v| *v))
            .or_else(|| found[i..].iter().find_map(|v| *v))
            .unwrap_or(segment::FORMAT_VERSION);
        out.push(known);
    }
    Ok(out)
}

/// Reports the pending damage as one gap; `seqs` is (first lost, next kept).
fn close_gap(
    damage: &mut Vec<(PathBuf, DamagedRange)>,
    items: &mut Vec<Item>,
    report: &mut RepairReport,
    seqs: Option<(u64, u64)>,
) {
    let lost = seqs
        .filter(|(first, next)| next > first)
        .map(|(f, n)| (f, n - 1));
    let (file, offset, bytes, reason) = match damage.first() {
        Some((file, d)) => (
            file.clone(),
            d.offset,
            damage.iter().map(|(_, d)| d.len).sum(),
            d.reason.to_string(),
        ),
        None if lost.is_some() => (PathBuf::new(), 0, 0, "records missing".to_string()),
        None => return,
    };
    if let Some((first, last)) = lost {
        items.push(Item::Gap {
            first,
            last,
            reason: format!("repair: {reason} in {} at byte {offset}", file.display()),
        });
    }
    report.gaps.push(SalvageGap {
        file,
        offset,
        bytes,
        lost_seqs: lost,
        reason,
    });
    damage.clear();
}

/// The new journal and the state after it.
struct Rebuilt {
    first_seq: u64,
    /// The journal already started at `first_seq` (> 1) before the repair:
    /// its history was pruned, not lost by it.
    started_late: bool,
    prev_chain: ChainValue,
    /// (header without `synced_before`, payload bytes, the format version
    /// of the segment the payload must be in)
    records: Vec<(RecordHeader, Vec<u8>, u32)>,
    state: State,
}

fn rebuild(
    identity: &Identity,
    base: Option<Base>,
    (items, first_seq, prev_chain, from_header): (Vec<Item>, u64, ChainValue, bool),
    report: &mut RepairReport,
) -> Result<Rebuilt> {
    let (covered, mut state) = base.map_or((0, State::default()), |b| (b.seq, b.state));
    let mut out = Rebuilt {
        first_seq,
        started_late: from_header && first_seq > 1,
        prev_chain,
        records: Vec::new(),
        state: State::default(),
    };
    let mut chain = prev_chain;
    let mut next = first_seq;
    let mut last_time = identity.created_ms;
    // A salvaged payload keeps its bytes (and chain value), so it stays in
    // a segment of the format that wrote it; a gap record is encoded the
    // same in every format and goes with the records around it.
    let mut version = items
        .iter()
        .find_map(|item| match item {
            Item::Record(rec) => Some(rec.version),
            Item::Gap { .. } => None,
        })
        .unwrap_or(segment::FORMAT_VERSION);
    let mut push =
        |seq: u64, time_ms: u64, payload: Vec<u8>, version: u32, chain: &mut ChainValue| {
            *chain = chain::next(chain, seq, time_ms, &payload);
            out.records.push((
                RecordHeader {
                    seq,
                    time_ms,
                    synced_before: 0,
                    chain: *chain,
                },
                payload,
                version,
            ));
        };
    for item in items {
        match item {
            Item::Gap {
                first,
                last,
                reason,
            } => {
                let payload = gap_payload(last, reason)?;
                push(first, last_time, payload, version, &mut chain);
                next = last.saturating_add(1);
            }
            Item::Record(rec) => {
                version = rec.version;
                if rec.seq > covered {
                    let current = rec.payload.op.model_id().and_then(|id| state.get(id));
                    match change_for(current, rec.payload.op.clone(), rec.seq, rec.time_ms) {
                        Ok(change) => state.apply(change),
                        Err(reason) => {
                            report.dropped_records.push((rec.seq, reason));
                            let payload = gap_payload(
                                rec.seq,
                                "repair: dropped an operation that no longer applies".into(),
                            )?;
                            push(rec.seq, rec.time_ms, payload, version, &mut chain);
                            next = rec.seq.saturating_add(1);
                            continue;
                        }
                    }
                }
                last_time = last_time.max(rec.time_ms);
                push(rec.seq, rec.time_ms, rec.raw_payload, version, &mut chain);
                report.records_kept += 1;
                next = match rec.payload.op {
                    Op::Gap { last_lost, .. } => last_lost.saturating_add(1),
                    _ => rec.seq.saturating_add(1),
                };
            }
        }
    }
    if covered >= next {
        let payload = gap_payload(
            covered,
            "repair: records covered by the snapshot were lost from the journal".into(),
        )?;
        push(next, last_time, payload, version, &mut chain);
        next = covered.saturating_add(1);
    }
    report.last_seq = next - 1;
    out.state = state;
    Ok(out)
}

fn gap_payload(last_lost: u64, reason: String) -> Result<Vec<u8>> {
    Payload {
        op: Op::Gap { last_lost, reason },
        ctx: OpContext::default(),
    }
    .encode()
}

fn stage_and_swap(
    fs: &dyn Fs,
    layout: &Layout,
    identity: &Identity,
    rebuilt: &Rebuilt,
    report: &mut RepairReport,
) -> Result<()> {
    let staging = layout.repair_staging_dir();
    let journal = staging.join("journal");
    let snapshots = staging.join("snapshots");
    for dir in [&journal, &snapshots] {
        fs.create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    // The segments: each a header, then records as if each was written
    // alone after everything before it was durable. A new segment starts
    // where the format of the salvaged payloads changes (formats only grow
    // from one segment to the next, as a writer leaves them).
    let mut journal_out = Staged::new(identity.catalog_id, rebuilt.prev_chain);
    let mut last = (0u64, 0u64, rebuilt.prev_chain);
    for (h, payload, version) in &rebuilt.records {
        journal_out.append(*version, h, payload);
        last = (h.seq, h.time_ms, h.chain);
    }
    let (seq, time_ms, chain) = last;
    // Catalog-level records after the last one (a trailing gap skips
    // sequences), each chained to the one before, in a segment of format 2
    // or later (format 1 has no such records).
    let append = |op: Op, out: &mut Staged, report: &mut RepairReport| -> Result<()> {
        let payload = Payload {
            op,
            ctx: OpContext::default(),
        }
        .encode()?;
        let at = report.last_seq + 1;
        let h = RecordHeader {
            seq: at,
            time_ms,
            synced_before: 0,
            chain: chain::next(&out.chain, at, time_ms, &payload),
        };
        let version = match out.version() {
            v if v < 2 => segment::FORMAT_VERSION,
            v => v,
        };
        out.append(version, &h, &payload);
        report.last_seq = at;
        Ok(())
    };
    // A journal that already started after sequence 1 (history pruned by an
    // older build, which recorded no pruning) says so, so that `check` does
    // not take it for lost segments. (Records lost by the damage are gaps.)
    let pruning_recorded = rebuilt.records.iter().any(|(_, p, version)| {
        matches!(
            Payload::decode_version(p, *version).map(|p| p.op),
            Ok(Op::Pruned { first_kept }) if first_kept >= rebuilt.first_seq
        )
    });
    if rebuilt.started_late && !pruning_recorded {
        append(
            Op::Pruned {
                first_kept: rebuilt.first_seq,
            },
            &mut journal_out,
            report,
        )?;
    }
    // The state as a snapshot at the last record, bound to the chain by a
    // checkpoint record after it, as a compaction would write it.
    let snap = if seq > 0 {
        let meta = SnapshotMeta {
            catalog_id: identity.catalog_id,
            seq,
            time_ms,
            chain,
        };
        let entries: Vec<&ModelEntry> = rebuilt.state.values().collect();
        let count = entries.len() as u64;
        let snap = snapshot::encode(&meta, entries.len(), entries.into_iter())?;
        append(
            Op::Checkpoint {
                seq,
                entries: count,
                content: snapshot::content_digest(&snap),
            },
            &mut journal_out,
            report,
        )?;
        Some((seq, snap))
    } else {
        None
    };
    for (no, bytes) in journal_out.finish(rebuilt.first_seq, rebuilt.prev_chain) {
        publish_file(fs, &journal, &segment_name(no), &bytes)?;
    }
    if let Some((seq, snap)) = snap {
        publish_file(fs, &snapshots, &snapshot_name(seq), &snap)?;
    }
    for dir in [staging.as_path(), layout.meta_dir()] {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    let name = format!("{}", crate::clock::now_ms());
    publish_file(fs, layout.meta_dir(), REPAIR_MARKER, name.as_bytes())?;
    finish_pending(fs, layout)?;
    report.quarantined_to = Some(layout.quarantine_dir().join(name));
    Ok(())
}

/// The segments of a repaired journal, being laid out.
struct Staged {
    catalog_id: [u8; 16],
    /// Segments so far: header (numbered at the end) and records.
    segments: Vec<(SegmentHeader, Vec<u8>)>,
    /// Chain value after the last record appended (before the first one:
    /// the new journal's starting value).
    chain: ChainValue,
}

impl Staged {
    fn new(catalog_id: [u8; 16], prev_chain: ChainValue) -> Self {
        Staged {
            catalog_id,
            segments: Vec::new(),
            chain: prev_chain,
        }
    }

    /// The format of the segment being filled (the current one if none).
    fn version(&self) -> u32 {
        self.segments
            .last()
            .map_or(segment::FORMAT_VERSION, |(h, _)| h.version)
    }

    /// Appends a record (its `synced_before` is set here) to a segment of
    /// format `version`, starting one if the current one has another.
    fn append(&mut self, version: u32, h: &RecordHeader, payload: &[u8]) {
        if self
            .segments
            .last()
            .is_none_or(|(s, _)| s.version != version)
        {
            self.segments.push((
                SegmentHeader {
                    version,
                    catalog_id: self.catalog_id,
                    segment_no: 0,
                    first_seq: h.seq,
                    prev_chain: self.chain,
                },
                Vec::new(),
            ));
        }
        self.chain = h.chain;
        if let Some((_, bytes)) = self.segments.last_mut() {
            let h = RecordHeader {
                synced_before: (segment::HEADER_LEN + bytes.len()) as u64,
                ..*h
            };
            record::encode(bytes, &h, payload);
        }
    }

    /// The numbered segment files (at least one).
    fn finish(mut self, first_seq: u64, prev_chain: ChainValue) -> Vec<(u64, Vec<u8>)> {
        if self.segments.is_empty() {
            self.segments.push((
                SegmentHeader {
                    version: segment::FORMAT_VERSION,
                    catalog_id: self.catalog_id,
                    segment_no: 0,
                    first_seq,
                    prev_chain,
                },
                Vec::new(),
            ));
        }
        self.segments
            .into_iter()
            .enumerate()
            .map(|(i, (mut header, records))| {
                header.segment_no = i as u64 + 1;
                let mut bytes = header.encode().to_vec();
                bytes.extend_from_slice(&records);
                (header.segment_no, bytes)
            })
            .collect()
    }
}
