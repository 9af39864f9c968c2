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

mod report;
mod stage;
pub(crate) mod swap;

pub use report::{RepairReport, SalvageGap};

use super::identity::Identity;
use super::options::Options;
use super::recovery;
use crate::context::OpContext;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::journal::chain::{self, ChainValue};
use crate::journal::listing::list_numbered;
use crate::journal::op::{Op, Payload};
use crate::journal::record::{self, RecordHeader};
use crate::journal::salvage::{self, DamagedRange, Piece, SalvagedRecord};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use crate::snapshot;
use crate::state::{State, change_for};
use stage::{Rebuilt, stage_and_swap};
use std::path::PathBuf;
use swap::finish_pending;

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
