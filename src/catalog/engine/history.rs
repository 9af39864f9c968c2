//! Audit from the log: every event of a model, the state as of a sequence
//! number or a time, and a resumable cursor over all events.
//!
//! These read the journal files themselves (every retained segment,
//! including sealed ones and those before the newest snapshot), with every
//! check normal reading makes: CRC, sequence, chain, segment continuity. The
//! history before the first retained segment is gone only if it was pruned
//! (`Options::retain_history(false)`).

use super::event::Event;
use super::history_index::{HistoryIndex, Stale};
use crate::catalog::Catalog;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::journal::listing::{list_numbered, read_headers};
use crate::journal::op::Op;
use crate::journal::position::{scan_from, still_ends_at};
use crate::journal::reader::Cursor;
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use crate::snapshot;
use crate::state::{Change, State, change_for};
use std::collections::{BTreeMap, VecDeque};
use std::sync::PoisonError;

/// A resumable cursor over the journal's events, oldest first. Reads one
/// segment at a time. `next_seq()` says where to resume later, and
/// `position()` where in the files (resuming there reads only what follows).
pub struct Events<'a> {
    catalog: &'a Catalog,
    headers: Vec<SegmentHeader>,
    segment: usize,
    /// Where in the first segment to start, when resuming at a position.
    start: Option<At>,
    /// Continuity check across segments: where the previous one ended.
    prev_end: Option<Cursor>,
    /// Each event with the position just after it.
    buffered: VecDeque<(Event, At)>,
    /// The position after the last event returned.
    returned: Option<At>,
    /// The position after the last record of the segments read.
    end: Option<At>,
    from_seq: u64,
    next_seq: u64,
    failed: bool,
}

/// Where a cursor over the events stopped: the sequence number of the next
/// event, and (when known) the segment and byte offset after the last one,
/// so that [`Catalog::events_from`] reads only what follows. Keep it only
/// in memory (it is not a stable format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventsPosition {
    next_seq: u64,
    at: Option<At>,
}

impl EventsPosition {
    /// The sequence number the next event will have.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// A place in a segment: after the record at `last` (or at the segment's
/// start), with the cursor reading continues from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct At {
    segment_no: u64,
    version: u32,
    cursor: Cursor,
    last: Option<u64>,
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
        self.buffered.front().map_or(self.next_seq, |(e, _)| e.seq)
    }

    /// Where the next event is: pass it to [`Catalog::events_from`] to
    /// resume after the last one seen, reading only the bytes after it.
    pub fn position(&self) -> EventsPosition {
        let at = if self.buffered.is_empty() {
            self.end.or(self.returned)
        } else {
            self.returned
        };
        EventsPosition {
            next_seq: self.next_seq(),
            at,
        }
    }

    fn fill(&mut self) -> Result<()> {
        while self.buffered.is_empty() && self.segment < self.headers.len() {
            let h = self.headers[self.segment];
            let newest = self.segment + 1 == self.headers.len();
            let resume = if self.segment == 0 {
                self.start.take()
            } else {
                None
            };
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
                return Err(crate::journal::listing::not_continuing(
                    &path,
                    &h,
                    prev.next_seq,
                ));
            }
            let fs = &*self.catalog.inner.opts.fs;
            let start = resume.map_or(
                Cursor {
                    offset: segment::HEADER_LEN as u64,
                    next_seq: h.first_seq,
                    chain: h.prev_chain,
                },
                |at| at.cursor,
            );
            let from = self.from_seq;
            let buffered = &mut self.buffered;
            let mut last = resume.and_then(|at| at.last);
            let (segment_no, version) = (h.segment_no, h.version);
            // A torn tail of the newest segment (a write in progress, or a
            // crash not yet recovered) is not history: the scan stops there.
            let (end, _) = scan_from(fs, &path, start, newest, version, |v| {
                last = Some(v.offset);
                if v.header.seq >= from {
                    let after = At {
                        segment_no,
                        version,
                        cursor: v.next,
                        last,
                    };
                    buffered.push_back((
                        Event {
                            seq: v.header.seq,
                            time_ms: v.header.time_ms,
                            op: v.payload.op,
                            context: v.payload.ctx,
                            chain: crate::digest::hex(&v.header.chain),
                        },
                        after,
                    ));
                }
                Ok(())
            })?;
            self.end = Some(At {
                segment_no,
                version,
                cursor: end,
                last,
            });
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
        let (event, at) = self.buffered.pop_front()?;
        self.returned = Some(at);
        Some(Ok(event))
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
            start: None,
            prev_end: None,
            buffered: VecDeque::new(),
            returned: None,
            end: None,
            from_seq,
            next_seq: from_seq.max(first),
            failed: false,
        })
    }

    /// The events after `position` (from [`Events::position`]), reading
    /// only the bytes after it: what `catalog events --follow` polls with.
    /// If the segment it points into was removed (a compaction pruned it)
    /// or no longer holds the record it was taken after (a repair, records
    /// removed after a failed sync), it resumes by sequence number instead
    /// (like [`Catalog::events`] with `position.next_seq()`): no event is
    /// skipped or repeated either way.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("a", "hf:org/a", "blobs/a"))?;
    /// let mut events = catalog.events(0)?;
    /// assert_eq!(events.by_ref().count(), 1);
    /// let position = events.position();
    /// catalog.put(EntrySpec::new("b", "hf:org/b", "blobs/b"))?;
    /// let new: Vec<_> = catalog.events_from(&position)?.collect::<Result<_, _>>()?;
    /// assert_eq!(new.len(), 1);
    /// assert_eq!(new[0].model_id(), Some("b"));
    /// # Ok(()) }
    /// ```
    pub fn events_from(&self, position: &EventsPosition) -> Result<Events<'_>> {
        let reseek = || self.events(position.next_seq);
        let Some(at) = position.at else {
            return reseek();
        };
        let layout = &self.inner.layout;
        let fs = &*self.inner.opts.fs;
        let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
        let Some(i) = segments.iter().position(|&n| n == at.segment_no) else {
            return reseek();
        };
        let headers = read_headers(fs, layout, &segments[i..], &self.inner.identity.catalog_id)?;
        let path = layout.segment_file(at.segment_no);
        let intact = match (at.last, headers.first()) {
            (Some(last), _) => still_ends_at(fs, &path, last, at.version, &at.cursor),
            (None, Some(h)) => h.first_seq == at.cursor.next_seq && h.prev_chain == at.cursor.chain,
            (None, None) => false,
        };
        if !intact || at.cursor.next_seq != position.next_seq {
            return reseek();
        }
        Ok(Events {
            catalog: self,
            headers,
            segment: 0,
            start: Some(at),
            prev_end: None,
            buffered: VecDeque::new(),
            returned: Some(at),
            end: None,
            from_seq: position.next_seq,
            next_seq: position.next_seq,
            failed: false,
        })
    }

    /// Every event of model `id`, oldest first, across sealed segments and
    /// snapshots. Empty if the id never existed (or its history was pruned).
    ///
    /// Reads only the model's own records: the first call on a handle
    /// indexes the journal once (one read of every retained segment), later
    /// calls index only the records appended since and then read the
    /// model's records at their offsets (see `history_index.rs` for what is
    /// checked). Like [`Catalog::events`], it reads the files, so a
    /// read-only handle sees what the writer appended since it opened.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec, Lifecycle};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
    /// catalog.put(EntrySpec::new("other", "hf:org/other", "blobs/o"))?;
    /// catalog.set_state("m", Lifecycle::Retired)?;
    /// let kinds: Vec<&str> = catalog.history("m")?.iter().map(|e| e.kind()).collect();
    /// assert_eq!(kinds, ["put", "set_state"]);
    /// assert_eq!(catalog.history("m")?, catalog.history_scan("m")?, "the same as a full read");
    /// # Ok(()) }
    /// ```
    pub fn history(&self, id: &str) -> Result<Vec<Event>> {
        let fs = &*self.inner.opts.fs;
        let layout = &self.inner.layout;
        match self.with_history_index(|index| index.history(fs, layout, id))? {
            Some(events) => Ok(events),
            None => self.history_scan(id),
        }
    }

    /// What [`Catalog::history`] answers, found by reading every retained
    /// record (no index): the reference the index is tested against, and
    /// the baseline it is measured against.
    #[doc(hidden)]
    pub fn history_scan(&self, id: &str) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for event in self.events(0)? {
            let event = event?;
            if event.model_id() == Some(id) {
                out.push(event);
            }
        }
        Ok(out)
    }

    /// Runs `f` on the history index brought up to the journal's end,
    /// building it first if this handle has none; if the files changed
    /// under it (a repair, a removed record), builds it again and retries
    /// once. `None`: the journal is beyond what the index can hold.
    fn with_history_index<T>(
        &self,
        f: impl Fn(&HistoryIndex) -> std::result::Result<T, Stale>,
    ) -> Result<Option<T>> {
        let fs = &*self.inner.opts.fs;
        let layout = &self.inner.layout;
        let catalog_id = &self.inner.identity.catalog_id;
        let mut slot = self
            .inner
            .history_index
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut fresh = slot.is_none();
        loop {
            let index = slot.get_or_insert_with(HistoryIndex::default);
            let answer = index
                .catch_up(fs, layout, catalog_id)
                .and_then(|()| f(index));
            match answer {
                Ok(v) => return Ok(Some(v)),
                Err(Stale::TooLarge) => {
                    *slot = None;
                    return Ok(None);
                }
                Err(Stale::Rebuild(e)) if fresh => {
                    *slot = None;
                    return Err(e);
                }
                Err(Stale::Rebuild(_)) => {
                    *slot = Some(HistoryIndex::default());
                    fresh = true;
                }
            }
        }
    }

    /// The entry `id` as it was right after record `seq` (`None`: it did
    /// not exist then). Reads only the model's own records (through the
    /// index [`Catalog::history`] uses), unless the history was pruned or
    /// a repair marked lost records: then it is what [`Catalog::state_at`]
    /// says of `id` (or its error).
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec, Lifecycle};
    /// let catalog = Catalog::open(dir.path())?;
    /// catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
    /// let registered = catalog.head().seq;
    /// catalog.set_state("m", Lifecycle::Retired)?;
    /// assert_eq!(catalog.entry_at("m", registered)?.unwrap().lifecycle, Lifecycle::Active);
    /// assert_eq!(catalog.entry_at("m", registered - 1)?, None);
    /// assert_eq!(catalog.entry_at("m", catalog.head().seq)?.unwrap().lifecycle, Lifecycle::Retired);
    /// # Ok(()) }
    /// ```
    pub fn entry_at(&self, id: &str, seq: u64) -> Result<Option<ModelEntry>> {
        let fs = &*self.inner.opts.fs;
        let layout = &self.inner.layout;
        let folded = self.with_history_index(|index| {
            if index.gaps().iter().any(|&g| g <= seq) {
                return Ok(None);
            }
            index.history(fs, layout, id).map(Some)
        })?;
        let (Some(Some(events)), 1) = (folded, self.history_start()?) else {
            return Ok(self.state_at(seq)?.remove(id));
        };
        let mut current: Option<ModelEntry> = None;
        for event in events.into_iter().take_while(|e| e.seq <= seq) {
            match change_for(current.as_ref(), event.op, event.seq, event.time_ms)
                .map_err(|reason| Error::invalid("seq", reason))?
            {
                Change::Upsert(entry) => current = Some(std::sync::Arc::unwrap_or_clone(entry)),
                Change::Remove(_) => current = None,
                Change::Nothing => {}
            }
        }
        Ok(current)
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
