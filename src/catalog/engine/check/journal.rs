//! The walk over every retained segment: CRCs, sequence numbers, the chain,
//! segment continuity; and what it collects for the other checks
//! (checkpoints, pruning marks, replayed states, chain values), then the
//! history's completeness and a pinned head.

use super::super::identity::Identity;
use super::super::options::Options;
use super::report::{CheckOptions, CheckReport, Problem, ProblemKind, problem};
use crate::error::{CorruptKind, Error, Result};
use crate::journal::chain::{self, ChainValue};
use crate::journal::listing::list_numbered;
use crate::journal::op::Op;
use crate::journal::reader::{self, Cursor, ScanEnd, Visited};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, SEGMENT_SUFFIX};
use crate::state::{State, change_for};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the walk over the journal collected.
#[derive(Default)]
pub(super) struct Journal {
    /// Chain value after each sequence number someone asks about.
    pub(super) chains_at: BTreeMap<u64, ChainValue>,
    /// Checkpoint records by the snapshot sequence they bind: (entries,
    /// content digest, the record's own sequence number).
    pub(super) checkpoints: BTreeMap<u64, (u64, [u8; 32], u64)>,
    /// The largest `first_kept` of any pruning record.
    pub(super) pruned_to: Option<u64>,
    /// The first sequence number written by format 2: the start of the
    /// first format-2 segment, or the first record only format 2 writes.
    pub(super) first_v2_record: Option<u64>,
    /// Format version of the oldest retained segment.
    pub(super) oldest_version: u32,
    /// Replayed states at the sequences of the snapshots (when the journal
    /// starts at sequence 1 and no gap interrupts it).
    pub(super) states_at: BTreeMap<u64, State>,
    /// The state at the end of that replay.
    pub(super) replayed: Option<State>,
}

/// Reads every retained segment: CRCs, sequence, chain, continuity; collects
/// what the other checks need. `None` once a break ends the walk.
pub(super) fn walk_journal(
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    snapshots: &[u64],
    copts: &CheckOptions,
    report: &mut CheckReport,
) -> Result<Option<Journal>> {
    let fs = &*opts.fs;
    let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
    let mut wanted: Vec<u64> = snapshots.to_vec();
    wanted.extend(copts.expect_head.map(|(seq, _)| seq));
    wanted.sort_unstable();
    if segments.is_empty() {
        problem(
            report,
            ProblemKind::Journal,
            &layout.journal_dir(),
            0,
            None,
            "the catalog has no journal segment",
        );
        return Ok(None);
    }
    let mut walk = Walk {
        j: Journal::default(),
        replay: Some(State::default()),
        prev: None,
        wanted,
        snapshots,
    };
    let mut prev_no: Option<u64> = None;
    for (i, &n) in segments.iter().enumerate() {
        let path = layout.segment_file(n);
        report.segments += 1;
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let h = match SegmentHeader::decode(&bytes, &path) {
            Ok(h) => h,
            Err(e) => {
                problem(report, ProblemKind::Journal, &path, 0, None, e.to_string());
                return Ok(None);
            }
        };
        let at = Segment {
            path: &path,
            n,
            prev_no,
            header: &h,
        };
        if !walk.header(&at, identity, report) {
            return Ok(None);
        }
        let newest = i + 1 == segments.len();
        if !walk.records(&at, &bytes, newest, report)? {
            return Ok(None);
        }
        prev_no = Some(n);
    }
    if let Some(end) = walk.prev {
        report.last_seq = end.next_seq - 1;
        report.head_chain = crate::digest::hex(&end.chain);
    }
    walk.j.replayed = walk.replay;
    Ok(Some(walk.j))
}

/// One segment being walked.
struct Segment<'a> {
    path: &'a Path,
    /// Its number (from its name).
    n: u64,
    /// The number of the segment walked before it.
    prev_no: Option<u64>,
    header: &'a SegmentHeader,
}

/// The walk so far.
struct Walk<'a> {
    j: Journal,
    /// Replay from genesis: the state at each snapshot's sequence. Needed
    /// for a deep check, and to verify format-1 snapshots (bound by no
    /// record). `None` once it cannot be (history pruned, a gap).
    replay: Option<State>,
    /// Where the segment before ended.
    prev: Option<Cursor>,
    /// Sequence numbers whose chain values are asked about.
    wanted: Vec<u64>,
    snapshots: &'a [u64],
}

impl Walk<'_> {
    /// Checks a segment's header against the catalog and the segment
    /// before it; `false` (a problem reported) ends the walk.
    fn header(&mut self, at: &Segment<'_>, identity: &Identity, report: &mut CheckReport) -> bool {
        let (h, path) = (at.header, at.path);
        let broken = |report: &mut CheckReport, seq: Option<u64>, what: String| {
            problem(report, ProblemKind::Journal, path, 0, seq, what);
            false
        };
        if h.catalog_id != identity.catalog_id || h.segment_no != at.n {
            return broken(
                report,
                None,
                "segment header names another catalog or number".into(),
            );
        }
        if let Some(p) = at.prev_no
            && at.n != p + 1
        {
            return broken(report, None, format!("segment {} is missing", p + 1));
        }
        match self.prev {
            None if h.first_seq == 1 && h.prev_chain != chain::genesis(&identity.catalog_id) => {
                return broken(
                    report,
                    Some(1),
                    "the first segment does not start from the genesis chain value".into(),
                );
            }
            None => {
                report.first_seq = h.first_seq;
                self.j.oldest_version = h.version;
                if h.first_seq != 1 {
                    self.replay = None;
                }
            }
            Some(p) if p.next_seq != h.first_seq || p.chain != h.prev_chain => {
                return broken(
                    report,
                    Some(h.first_seq),
                    format!(
                        "segment does not continue the one before it (expected first sequence {})",
                        p.next_seq
                    ),
                );
            }
            Some(_) => {}
        }
        // The chain value before the segment's first record is the chain
        // after record `first_seq - 1` (genesis for 0): a pin of it holds
        // even when that record itself was pruned.
        if h.version >= 2 {
            // Everything from here on was written by format 2.
            self.j.first_v2_record.get_or_insert(h.first_seq);
        }
        let before = h.first_seq - 1;
        if self.wanted.binary_search(&before).is_ok() {
            self.j.chains_at.entry(before).or_insert(h.prev_chain);
        }
        true
    }

    /// Reads a segment's records; `false` (a problem reported) ends the
    /// walk.
    fn records(
        &mut self,
        at: &Segment<'_>,
        bytes: &[u8],
        newest: bool,
        report: &mut CheckReport,
    ) -> Result<bool> {
        let (h, path) = (at.header, at.path);
        let start = Cursor {
            offset: segment::HEADER_LEN as u64,
            next_seq: h.first_seq,
            chain: h.prev_chain,
        };
        let body = bytes.get(segment::HEADER_LEN..).unwrap_or_default();
        let mut records = 0u64;
        let mut gaps: Vec<(u64, u64, String)> = Vec::new();
        let scanned = reader::scan(body, start, path, newest, h.version, |v| {
            records += 1;
            self.record(v, path, &mut gaps)
        });
        report.records += records;
        for (first, last, reason) in gaps {
            problem(
                report,
                ProblemKind::History,
                path,
                0,
                Some(first),
                format!("records {first}..={last} were lost and repaired ({reason})"),
            );
        }
        match scanned {
            Ok((end, ScanEnd::Clean)) => self.prev = Some(end),
            Ok((end, ScanEnd::Torn { reason })) => {
                report.notes.push(format!(
                    "{} ends in a torn tail at byte {} ({reason}): unacknowledged writes a crash \
                     left; the next writer open cuts them",
                    path.display(),
                    end.offset
                ));
                self.prev = Some(end);
            }
            Err(Error::Corrupt {
                file,
                offset,
                seq,
                reason,
                ..
            }) => {
                report.problems.push(Problem {
                    kind: ProblemKind::Journal,
                    file,
                    offset,
                    seq,
                    what: reason,
                });
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        Ok(true)
    }

    /// Collects what one record tells (chain values asked about,
    /// checkpoints, pruning, gaps) and replays it.
    fn record(
        &mut self,
        v: Visited<'_>,
        path: &Path,
        gaps: &mut Vec<(u64, u64, String)>,
    ) -> Result<()> {
        let seq = v.header.seq;
        let j = &mut self.j;
        if self.wanted.binary_search(&seq).is_ok() {
            j.chains_at.insert(seq, v.header.chain);
        }
        match &v.payload.op {
            Op::Gap { last_lost, reason } => {
                // The states after it cannot be rebuilt from the journal.
                self.replay = None;
                gaps.push((seq, *last_lost, reason.clone()));
            }
            Op::Checkpoint {
                seq: covered,
                entries,
                content,
            } => {
                j.checkpoints.insert(*covered, (*entries, *content, seq));
                j.first_v2_record.get_or_insert(seq);
            }
            Op::Pruned { first_kept } => {
                j.pruned_to = j.pruned_to.max(Some(*first_kept));
                j.first_v2_record.get_or_insert(seq);
            }
            _ => {}
        }
        if let Some(state) = self.replay.as_mut() {
            let current = v.payload.op.model_id().and_then(|id| state.get(id));
            let change =
                change_for(current, v.payload.op, seq, v.header.time_ms).map_err(|reason| {
                    Error::corrupt(path, v.offset, Some(seq), CorruptKind::Replay, reason)
                })?;
            state.apply(change);
            if self.snapshots.binary_search(&seq).is_ok() {
                j.states_at.insert(seq, state.clone());
            }
        }
        Ok(())
    }
}

/// A journal that does not start at sequence 1 must be explained by a
/// pruning record (history retention off) that reaches at least as far.
pub(super) fn check_history(j: &Journal, report: &mut CheckReport) {
    let first = report.first_seq;
    if first <= 1 {
        return;
    }
    match j.pruned_to {
        Some(kept) if first <= kept => report.notes.push(format!(
            "history before sequence {first} was pruned (retain_history off); it cannot be checked"
        )),
        Some(kept) => report.problems.push(Problem {
            kind: ProblemKind::History,
            file: PathBuf::new(),
            offset: 0,
            seq: Some(first),
            what: format!(
                "the journal starts at sequence {first}, but pruning only removed records \
                 before {kept}: sealed segments are missing"
            ),
        }),
        None if j.oldest_version < 2 => report.notes.push(format!(
            "history before sequence {first} is not in the journal; its oldest segment predates \
             format 2, which records pruning, so whether it was pruned cannot be told"
        )),
        None => report.problems.push(Problem {
            kind: ProblemKind::History,
            file: PathBuf::new(),
            offset: 0,
            seq: Some(first),
            what: format!(
                "the journal starts at sequence {first} and no retained record says history \
                 was pruned (retain_history keeps it by default): sealed segments are missing"
            ),
        }),
    }
}

/// A pinned head must still be in the journal, with its chain value.
pub(super) fn check_pinned_head(
    layout: &Layout,
    j: &Journal,
    seq: u64,
    chain: &ChainValue,
    report: &mut CheckReport,
) {
    let what = if seq > report.last_seq {
        Some(format!(
            "the pinned head {seq} is past the journal's end {}: acknowledged records were lost \
             (or the pin belongs to another catalog)",
            report.last_seq
        ))
    } else {
        match j.chains_at.get(&seq) {
            Some(c) if c == chain => None,
            Some(c) => Some(format!(
                "record {seq} has chain value {}, not the pinned {}: history was rewritten",
                crate::digest::hex(c),
                crate::digest::hex(chain)
            )),
            None => Some(format!(
                "the pinned head {seq} is not in the retained journal (it starts at {}): it \
                 cannot be verified",
                report.first_seq
            )),
        }
    };
    if let Some(what) = what {
        problem(
            report,
            ProblemKind::History,
            &layout.journal_dir(),
            0,
            Some(seq),
            what,
        );
    }
}
