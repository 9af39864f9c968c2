//! Audit from the log: every event of a model, the state as of a sequence
//! number or a time, and a resumable cursor over all events.
//!
//! These read the journal files themselves (every retained segment,
//! including sealed ones and those before the newest snapshot), with every
//! check normal reading makes: CRC, sequence, chain, segment continuity. The
//! history before the first retained segment is gone only if it was pruned
//! (`Options::retain_history(false)`).

use super::recovery::{list_numbered, read_headers};
use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::journal::op::Op;
use crate::journal::reader::{self, Cursor};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use crate::snapshot;
use crate::state::{State, change_for};
use std::collections::{BTreeMap, VecDeque};

/// One journal record, as history.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Sequence number.
    pub seq: u64,
    /// When it was written (Unix milliseconds).
    pub time_ms: u64,
    /// What happened, with every field the operation set.
    pub op: Op,
    /// Who asked, in which request.
    pub context: OpContext,
    /// The chain value after this record, 64 hex digits.
    pub chain: String,
}

impl Event {
    /// `put`, `set_state`, `verify`, `evict`, `delete` or `gap`.
    pub fn kind(&self) -> &'static str {
        self.op.kind()
    }
    /// The model the event concerns (none for a gap).
    pub fn model_id(&self) -> Option<&str> {
        self.op.model_id()
    }
}

/// A resumable cursor over the journal's events, oldest first. Reads one
/// segment at a time. `next_seq()` says where to resume later.
pub struct Events<'a> {
    catalog: &'a Catalog,
    headers: Vec<SegmentHeader>,
    segment: usize,
    /// Continuity check across segments: where the previous one ended.
    prev_end: Option<Cursor>,
    buffered: VecDeque<Event>,
    from_seq: u64,
    next_seq: u64,
    failed: bool,
}

impl std::fmt::Debug for Events<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

impl Events<'_> {
    /// The sequence number the next event will have (or would have): pass
    /// it to [`Catalog::events`] to resume after the last one seen.
    pub fn next_seq(&self) -> u64 {
        self.buffered.front().map_or(self.next_seq, |e| e.seq)
    }

    fn fill(&mut self) -> Result<()> {
        while self.buffered.is_empty() && self.segment < self.headers.len() {
            let h = self.headers[self.segment];
            let newest = self.segment + 1 == self.headers.len();
            self.segment += 1;
            // Skip segments that end before `from_seq`.
            if let Some(next) = self.headers.get(self.segment)
                && next.first_seq <= self.from_seq
                && self.prev_end.is_none()
            {
                continue;
            }
            let layout = &self.catalog.inner.layout;
            let path = layout.segment_file(h.segment_no);
            if let Some(prev) = self.prev_end
                && (h.first_seq != prev.next_seq || h.prev_chain != prev.chain)
            {
                return Err(Error::corrupt(
                    &path,
                    0,
                    Some(h.first_seq),
                    format!(
                        "segment does not continue the one before it (expected first sequence {})",
                        prev.next_seq
                    ),
                ));
            }
            let fs = &*self.catalog.inner.opts.fs;
            let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
            let body = bytes.get(segment::HEADER_LEN..).unwrap_or_default();
            let start = Cursor {
                offset: segment::HEADER_LEN as u64,
                next_seq: h.first_seq,
                chain: h.prev_chain,
            };
            let from = self.from_seq;
            let buffered = &mut self.buffered;
            // A torn tail of the newest segment (a write in progress, or a
            // crash not yet recovered) is not history: the scan stops there.
            let (end, _) = reader::scan(body, start, &path, newest, h.version, |v| {
                if v.header.seq >= from {
                    buffered.push_back(Event {
                        seq: v.header.seq,
                        time_ms: v.header.time_ms,
                        op: v.payload.op,
                        context: v.payload.ctx,
                        chain: crate::digest::hex(&v.header.chain),
                    });
                }
                Ok(())
            })?;
            self.prev_end = Some(end);
            self.next_seq = self.next_seq.max(end.next_seq);
        }
        Ok(())
    }
}

impl Iterator for Events<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        if self.failed {
            return None;
        }
        if let Err(e) = self.fill() {
            self.failed = true;
            return Some(Err(e));
        }
        self.buffered.pop_front().map(Ok)
    }
}

impl Catalog {
    /// Every retained event with sequence number `from_seq` or later, oldest
    /// first, read from the journal files (so a read-only handle sees what
    /// the writer appended since it opened, too).
    pub fn events(&self, from_seq: u64) -> Result<Events<'_>> {
        let layout = &self.inner.layout;
        let fs = &*self.inner.opts.fs;
        let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
        let headers = read_headers(fs, layout, &segments, &self.inner.identity.catalog_id)?;
        let first = headers.first().map_or(1, |h| h.first_seq);
        if from_seq > 0 && from_seq < first {
            return Err(Error::invalid(
                "seq",
                format!(
                    "events before sequence {first} were pruned (retain_history off); \
                     resume from {first}, or from 0 for whatever is kept"
                ),
            ));
        }
        Ok(Events {
            catalog: self,
            headers,
            segment: 0,
            prev_end: None,
            buffered: VecDeque::new(),
            from_seq,
            next_seq: from_seq.max(first),
            failed: false,
        })
    }

    /// Every event of model `id`, oldest first, across sealed segments and
    /// snapshots. Empty if the id never existed (or its history was pruned).
    pub fn history(&self, id: &str) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for event in self.events(0)? {
            let event = event?;
            if event.model_id() == Some(id) {
                out.push(event);
            }
        }
        Ok(out)
    }

    /// The first sequence number whose event is still retained.
    pub fn history_start(&self) -> Result<u64> {
        let layout = &self.inner.layout;
        let fs = &*self.inner.opts.fs;
        let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
        let headers = read_headers(fs, layout, &segments, &self.inner.identity.catalog_id)?;
        Ok(headers.first().map_or(1, |h| h.first_seq))
    }

    /// The catalog's entries as they were right after record `seq` (0: empty).
    /// Starts from the newest snapshot at or before `seq` and replays the
    /// journal after it.
    pub fn state_at(&self, seq: u64) -> Result<BTreeMap<String, ModelEntry>> {
        let layout = &self.inner.layout;
        let fs = &*self.inner.opts.fs;
        let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
        let mut state = State::default();
        let mut from = 1;
        if let Some(&snap) = snapshots.iter().rev().find(|&&s| s <= seq) {
            let path = layout.snapshot_file(snap);
            let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
            let (_, entries) = snapshot::decode(&bytes, &path)?;
            for e in entries {
                state.insert(e);
            }
            from = snap + 1;
        } else if self.history_start()? > 1 && seq > 0 {
            return Err(Error::invalid(
                "seq",
                format!(
                    "the history before sequence {} was pruned and no snapshot covers {seq}",
                    self.history_start()?
                ),
            ));
        }
        if seq >= from {
            let mut gap: Option<(u64, u64)> = None;
            for event in self.events(from)? {
                let event = event?;
                if event.seq > seq {
                    break;
                }
                if let Op::Gap { last_lost, .. } = &event.op {
                    gap = Some((event.seq, *last_lost));
                }
                let current = event.op.model_id().and_then(|id| state.get(id));
                let change =
                    change_for(current, event.op, event.seq, event.time_ms).map_err(|reason| {
                        let why = match gap {
                            Some((a, b)) => format!(
                                "records {a}..={b} were lost (and repaired), so the state at \
                                 {seq} cannot be rebuilt ({reason})"
                            ),
                            None => reason,
                        };
                        Error::invalid("seq", why)
                    })?;
                state.apply(change);
            }
        }
        Ok(state.to_map())
    }

    /// The catalog's entries as they were at `time_ms` (Unix milliseconds):
    /// after every record written at or before it.
    pub fn state_at_time(&self, time_ms: u64) -> Result<BTreeMap<String, ModelEntry>> {
        let mut seq = 0;
        let mut first_time = None;
        for event in self.events(0)? {
            let event = event?;
            first_time.get_or_insert(event.time_ms);
            if event.time_ms > time_ms {
                break;
            }
            seq = event.seq;
        }
        let start = self.history_start()?;
        if seq == 0 && start > 1 {
            return Err(Error::invalid(
                "time",
                format!(
                    "the history before sequence {start} (written at {} ms) was pruned; \
                     the state at {time_ms} ms is not known",
                    first_time.unwrap_or(0)
                ),
            ));
        }
        self.state_at(seq)
    }
}
