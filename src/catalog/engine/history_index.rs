//! The per-model index of the journal behind [`Catalog::history`]: for each
//! model, where its records are (segment number and offset), so reading one
//! model's history reads only its own records.
//!
//! It lives only in memory and only once asked for: the first `history`
//! call builds it with one scan of every retained segment (the same checks
//! as [`Catalog::events`]: CRC, sequence, chain, segment continuity), and
//! every later call first catches up from where the last one stopped (the
//! segment and cursor after the last record indexed), so it costs the new
//! records plus the model's own. Nothing is added to what an open loads.
//!
//! The journal stays the truth. Before each use the index checks that the
//! files it points into are the ones it read: segments gone from the front
//! (pruned by a compaction) are dropped from it; a segment that is missing
//! elsewhere, replaced by another file (a repair swaps the journal), or a
//! last indexed record that no longer ends where it did (a writer removed
//! records whose sync failed) makes the caller rebuild it from scratch.
//! Each record it reads back has its frame and CRC checked and must be a
//! record of the model asked for, in increasing sequence order; anything
//! else also rebuilds it. Chain values are checked when records are
//! indexed (reading back one record cannot check its link to the one
//! before; `check` reads everything).
//!
//! [`Catalog::history`]: crate::Catalog::history
//! [`Catalog::events`]: crate::Catalog::events

use super::event::Event;
use crate::error::{CorruptKind, Error};
use crate::fs::Fs;
use crate::journal::listing::{list_numbered, read_headers};
use crate::journal::op::Op;
use crate::journal::position::{record_at, scan_from, still_ends_at};
use crate::journal::reader::Cursor;
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, SEGMENT_SUFFIX};
use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

/// Bits of a packed position that hold the offset (1 TiB segments); the
/// segment number takes the rest (16 M segments).
const OFFSET_BITS: u32 = 40;

/// A segment the index has read.
#[derive(Clone, Copy, Debug)]
struct Known {
    header: SegmentHeader,
    /// The file's inode when it was read: a journal swapped by a repair is
    /// made of other files.
    inode: u64,
}

/// Where indexing resumes.
#[derive(Clone, Copy, Debug)]
struct Tail {
    segment_no: u64,
    /// After the last record indexed (or the segment's start).
    cursor: Cursor,
    /// Offset of that record, if the segment has one.
    last: Option<u64>,
}

/// The index (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct HistoryIndex {
    segments: BTreeMap<u64, Known>,
    /// By hash of the model id: packed positions of its records, oldest
    /// first. Ids whose hashes collide share a list (told apart on read).
    by_id: HashMap<u64, Vec<u64>>,
    /// Sequence numbers of gap records (lost records a repair marked).
    gaps: Vec<u64>,
    tail: Option<Tail>,
}

/// Why an index could not answer: rebuild it and ask again (the journal
/// files changed under it), or it cannot hold this journal at all.
#[derive(Debug)]
pub(crate) enum Stale {
    /// Rebuild and retry; the error says what did not match.
    Rebuild(Error),
    /// A segment number or offset beyond what a packed position holds.
    TooLarge,
}

impl From<Error> for Stale {
    fn from(e: Error) -> Self {
        Stale::Rebuild(e)
    }
}

fn stale(path: &Path, what: &str) -> Stale {
    Stale::Rebuild(Error::corrupt(
        path,
        0,
        None,
        CorruptKind::Sequence,
        format!("history index out of date: {what}"),
    ))
}

/// The hash an id is filed under (fixed keys: stable within the process).
fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn pack(segment_no: u64, offset: u64) -> Option<u64> {
    (segment_no < 1 << (64 - OFFSET_BITS) && offset < 1 << OFFSET_BITS)
        .then_some(segment_no << OFFSET_BITS | offset)
}

fn unpack(pos: u64) -> (u64, u64) {
    (pos >> OFFSET_BITS, pos & ((1 << OFFSET_BITS) - 1))
}

impl HistoryIndex {
    /// Sequence numbers of the gap records indexed.
    pub(crate) fn gaps(&self) -> &[u64] {
        &self.gaps
    }

    /// Brings the index up to the journal's end: drops pruned segments,
    /// checks the rest are the files it read, and indexes every record
    /// after its tail.
    pub(crate) fn catch_up(
        &mut self,
        fs: &dyn Fs,
        layout: &Layout,
        catalog_id: &[u8; 16],
    ) -> std::result::Result<(), Stale> {
        let (listed, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
        let fresh = self.tail.is_none();
        self.drop_before(listed.first().copied().unwrap_or(u64::MAX));
        for (&n, known) in &self.segments {
            let path = layout.segment_file(n);
            let inode = fs
                .metadata(&path, false)
                .map_err(|e| Error::io(&path, e))?
                .map(|m| m.inode);
            if listed.binary_search(&n).is_err() || inode != Some(known.inode) {
                return Err(stale(&path, "a segment was removed or replaced"));
            }
        }
        let newer: Vec<u64> = match self.tail {
            Some(t) => listed
                .iter()
                .copied()
                .filter(|&n| n > t.segment_no)
                .collect(),
            None => listed.clone(),
        };
        if let Some(t) = self.tail {
            let path = layout.segment_file(t.segment_no);
            let version = self
                .segments
                .get(&t.segment_no)
                .ok_or_else(|| stale(&path, "the tail's segment is not indexed"))?
                .header
                .version;
            if let Some(last) = t.last
                && !still_ends_at(fs, &path, last, version, &t.cursor)
            {
                return Err(stale(&path, "the last record indexed is no longer there"));
            }
            self.index_segment(fs, &path, t.segment_no, t.cursor, newer.is_empty(), version)?;
        }
        let headers = read_headers(fs, layout, &newer, catalog_id)?;
        for (i, h) in headers.iter().enumerate() {
            let path = layout.segment_file(h.segment_no);
            if let Some(t) = self.tail
                && (h.segment_no != t.segment_no + 1
                    || h.first_seq != t.cursor.next_seq
                    || h.prev_chain != t.cursor.chain)
            {
                return Err(stale(&path, "segment does not continue the one before it"));
            }
            let inode = fs
                .metadata(&path, false)
                .map_err(|e| Error::io(&path, e))?
                .map_or(0, |m| m.inode);
            self.segments
                .insert(h.segment_no, Known { header: *h, inode });
            let start = Cursor {
                offset: segment::HEADER_LEN as u64,
                next_seq: h.first_seq,
                chain: h.prev_chain,
            };
            self.tail = Some(Tail {
                segment_no: h.segment_no,
                cursor: start,
                last: None,
            });
            let newest = i + 1 == headers.len();
            self.index_segment(fs, &path, h.segment_no, start, newest, h.version)?;
        }
        if fresh {
            // Built in one go: give back what the lists' doubling left
            // unused (later records regrow only the lists they extend).
            self.by_id.values_mut().for_each(Vec::shrink_to_fit);
            self.by_id.shrink_to_fit();
        }
        Ok(())
    }

    fn index_segment(
        &mut self,
        fs: &dyn Fs,
        path: &Path,
        segment_no: u64,
        from: Cursor,
        newest: bool,
        version: u32,
    ) -> std::result::Result<(), Stale> {
        let mut too_large = false;
        let mut tail = self.tail;
        let (by_id, gaps) = (&mut self.by_id, &mut self.gaps);
        scan_from(fs, path, from, newest, version, |v| {
            let Some(pos) = pack(segment_no, v.offset) else {
                too_large = true;
                return Err(Error::invalid("segment", "beyond the history index"));
            };
            if let Some(id) = v.payload.op.model_id() {
                by_id.entry(id_hash(id)).or_default().push(pos);
            }
            if let Op::Gap { .. } = v.payload.op {
                gaps.push(v.header.seq);
            }
            tail = Some(Tail {
                segment_no,
                cursor: v.next,
                last: Some(v.offset),
            });
            Ok(())
        })
        .map_err(|e| if too_large { Stale::TooLarge } else { e.into() })?;
        self.tail = tail;
        Ok(())
    }

    /// Forgets the segments numbered below `first` (pruned).
    fn drop_before(&mut self, first: u64) {
        let Some((&oldest, _)) = self.segments.first_key_value() else {
            return;
        };
        if oldest >= first {
            return;
        }
        let kept = self.segments.split_off(&first);
        let gone = std::mem::replace(&mut self.segments, kept);
        if self.tail.is_some_and(|t| gone.contains_key(&t.segment_no)) {
            // Everything indexed is gone: start again from nothing.
            *self = HistoryIndex::default();
            return;
        }
        let first_seq = self
            .segments
            .first_key_value()
            .map_or(u64::MAX, |(_, k)| k.header.first_seq);
        self.by_id.retain(|_, positions| {
            let keep_from = positions.partition_point(|&p| unpack(p).0 < first);
            positions.drain(..keep_from);
            !positions.is_empty()
        });
        self.gaps.retain(|&s| s >= first_seq);
    }

    /// Every indexed event of model `id`, oldest first, read back from the
    /// journal at the positions the index holds.
    pub(crate) fn history(
        &self,
        fs: &dyn Fs,
        layout: &Layout,
        id: &str,
    ) -> std::result::Result<Vec<Event>, Stale> {
        let hash = id_hash(id);
        let Some(positions) = self.by_id.get(&hash) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(positions.len());
        let mut prev_seq = 0;
        for &pos in positions {
            let (segment_no, offset) = unpack(pos);
            let path = layout.segment_file(segment_no);
            let known = self
                .segments
                .get(&segment_no)
                .ok_or_else(|| stale(&path, "a position in a segment not indexed"))?;
            let r = record_at(fs, &path, offset, known.header.version)?;
            if r.header.seq <= prev_seq || r.header.seq < known.header.first_seq {
                return Err(stale(&path, "records out of sequence order"));
            }
            prev_seq = r.header.seq;
            match r.payload.op.model_id() {
                Some(other) if other == id => {}
                Some(other) if id_hash(other) == hash => continue,
                _ => return Err(stale(&path, "a record of another model")),
            }
            out.push(Event {
                seq: r.header.seq,
                time_ms: r.header.time_ms,
                op: r.payload.op,
                context: r.payload.ctx,
                chain: crate::digest::hex(&r.header.chain),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_pack_and_unpack_and_refuse_what_does_not_fit() {
        let p = pack(7, 123_456).expect("fits");
        assert_eq!(unpack(p), (7, 123_456));
        assert_eq!(
            unpack(pack((1 << 24) - 1, (1 << 40) - 1).unwrap()),
            ((1 << 24) - 1, (1 << 40) - 1)
        );
        assert!(pack(1 << 24, 0).is_none(), "segment number too large");
        assert!(pack(1, 1 << 40).is_none(), "offset too large");
    }

    #[test]
    fn an_id_hashes_the_same_every_time() {
        assert_eq!(id_hash("m"), id_hash("m"));
        assert_ne!(id_hash("m"), id_hash("n"));
    }
}
