//! Laying out and publishing a repaired journal and snapshot in
//! `catalog/repair/`, then swapping them in (step 3).

use super::super::identity::Identity;
use super::report::RepairReport;
use super::swap::finish_pending;
use crate::context::OpContext;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::fs::{Fs, publish_file};
use crate::journal::chain::{self, ChainValue};
use crate::journal::op::{Op, Payload};
use crate::journal::record::{self, RecordHeader};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, REPAIR_MARKER, segment_name, snapshot_name};
use crate::snapshot::{self, SnapshotMeta};
use crate::state::State;

/// The new journal and the state after it.
pub(super) struct Rebuilt {
    pub(super) first_seq: u64,
    /// The journal already started at `first_seq` (> 1) before the repair:
    /// its history was pruned, not lost by it.
    pub(super) started_late: bool,
    pub(super) prev_chain: ChainValue,
    /// (header without `synced_before`, payload bytes, the format version
    /// of the segment the payload must be in)
    pub(super) records: Vec<(RecordHeader, Vec<u8>, u32)>,
    pub(super) state: State,
}

pub(super) fn stage_and_swap(
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
    let (segments, snap) = lay_out(identity, rebuilt, report)?;
    for (no, bytes) in segments {
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

/// The repaired journal's numbered segment files and, if it holds a record,
/// the snapshot at its last one.
#[allow(clippy::type_complexity)]
fn lay_out(
    identity: &Identity,
    rebuilt: &Rebuilt,
    report: &mut RepairReport,
) -> Result<(Vec<(u64, Vec<u8>)>, Option<(u64, Vec<u8>)>)> {
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
    // A journal that already started after sequence 1 (history pruned by an
    // older build, which recorded no pruning) says so, so that `check` does
    // not take it for lost segments. (Records lost by the damage are gaps.)
    if rebuilt.started_late && !pruning_recorded(rebuilt) {
        let first_kept = rebuilt.first_seq;
        journal_out.append_op(Op::Pruned { first_kept }, time_ms, report)?;
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
        let checkpoint = Op::Checkpoint {
            seq,
            entries: count,
            content: snapshot::content_digest(&snap),
        };
        journal_out.append_op(checkpoint, time_ms, report)?;
        Some((seq, snap))
    } else {
        None
    };
    let segments = journal_out.finish(rebuilt.first_seq, rebuilt.prev_chain);
    Ok((segments, snap))
}

/// Whether the salvaged records already hold a pruning record that
/// explains where the journal starts.
fn pruning_recorded(rebuilt: &Rebuilt) -> bool {
    rebuilt.records.iter().any(|(_, p, version)| {
        matches!(
            Payload::decode_version(p, *version).map(|p| p.op),
            Ok(Op::Pruned { first_kept }) if first_kept >= rebuilt.first_seq
        )
    })
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

    /// Appends a catalog-level record after the last one (a trailing gap
    /// skips sequences), chained to the one before, in a segment of format
    /// 2 or later (format 1 has no such records).
    fn append_op(&mut self, op: Op, time_ms: u64, report: &mut RepairReport) -> Result<()> {
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
            chain: chain::next(&self.chain, at, time_ms, &payload),
        };
        let version = match self.version() {
            v if v < 2 => segment::FORMAT_VERSION,
            v => v,
        };
        self.append(version, &h, &payload);
        report.last_seq = at;
        Ok(())
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
