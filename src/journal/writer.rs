//! Appending records to the newest segment, and rotating to a new one.
//!
//! Only the group-commit leader touches the writer (it sits behind a mutex),
//! so records reach the file in sequence order, one `write` and one
//! `fdatasync` per batch.
//!
//! The newest segment is **preallocated**: zeros are written ahead of the
//! records, `Options::preallocate_bytes` at a time, so that a batch overwrites
//! allocated blocks inside the file instead of growing it. Then its
//! `fdatasync` has only data to flush — no size or block-allocation
//! metadata — which on ext4 saves a second device write per batch. The
//! records' logical end is what counts; the zeros after it are the clean
//! end of the newest segment (see `reader::scan`). A segment is cut to its
//! logical end (and synced) before it is sealed.

use super::chain::{self, ChainValue};
use super::reader::Cursor;
use super::record::{self, RecordHeader};
use super::segment::{self, SegmentHeader};
use crate::error::{Error, Result};
use crate::fs::{Fs, FsFile, publish_file};
use crate::layout::{Layout, segment_name};
use std::sync::Arc;

/// Page size assumed when dropping cached pages (a larger real page only
/// means that a little more is read again).
const PAGE: u64 = 4096;

/// A record waiting to be written: its sequence number, time and payload.
#[derive(Debug)]
pub struct PendingRecord {
    /// Sequence number.
    pub seq: u64,
    /// Unix milliseconds.
    pub time_ms: u64,
    /// Encoded payload.
    pub payload: Vec<u8>,
}

/// Sizes the writer keeps to.
#[derive(Clone, Copy, Debug)]
pub struct Sizing {
    /// A segment is sealed once it reaches this size.
    pub max_segment_bytes: u64,
    /// Zeros written ahead of the records at a time (0: none).
    pub preallocate: u64,
}

/// The open newest segment.
#[derive(Debug)]
pub struct SegmentWriter {
    fs: Arc<dyn Fs>,
    layout: Layout,
    catalog_id: [u8; 16],
    segment_no: u64,
    file: Box<dyn FsFile>,
    /// Logical, durable length of the segment: the end of its last record
    /// (everything written has been synced).
    len: u64,
    /// Physical length of the file: records, then zeros up to here.
    allocated: u64,
    cursor: Cursor,
    max_segment_bytes: u64,
    /// Zeros written ahead of the records at a time (0: none).
    prealloc: u64,
    fsyncs: u64,
    /// Journal bytes appended since the newest snapshot.
    bytes_since_snapshot: u64,
    /// Format version of the current segment: an older one is sealed before
    /// anything is written, so that no record reaches a segment whose
    /// version does not describe it.
    version: u32,
    /// The last batch's framing buffer, kept for the next one (not past
    /// [`MAX_KEPT_BUFFER`]).
    buf: Vec<u8>,
}

/// Largest framing buffer kept between batches: a rare big batch does not
/// pin its memory.
const MAX_KEPT_BUFFER: usize = 64 << 10;

impl SegmentWriter {
    /// Continues the existing segment `segment_no`, whose valid records end at
    /// `cursor` (any torn tail already cut off).
    pub fn resume(
        fs: Arc<dyn Fs>,
        layout: Layout,
        catalog_id: [u8; 16],
        segment_no: u64,
        cursor: Cursor,
        sizing: Sizing,
        bytes_since_snapshot: u64,
    ) -> Result<Self> {
        let path = layout.segment_file(segment_no);
        let mut file = fs.open_append(&path).map_err(|e| Error::io(&path, e))?;
        // The bytes replayed may be a dead writer's, still only in the page
        // cache. Make them durable before anything is written after them:
        // every later record's `synced_before` claims they are. (Recovery
        // already synced the segment and read its unproven tail back from
        // the disk, `journal::settle`; this covers a torn-tail cut since.)
        file.sync_data().map_err(|e| Error::io(&path, e))?;
        // And its name: a writer that failed right after publishing this
        // segment may not have made its directory entry durable.
        let dir = layout.journal_dir();
        fs.sync_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let allocated = fs
            .len(&path)
            .map_err(|e| Error::io(&path, e))?
            .unwrap_or(cursor.offset)
            .max(cursor.offset);
        let head = fs
            .read_head(&path, segment::HEADER_LEN)
            .map_err(|e| Error::io(&path, e))?;
        let version = SegmentHeader::decode(&head, &path)?.version;
        Ok(SegmentWriter {
            fs,
            layout,
            catalog_id,
            segment_no,
            file,
            len: cursor.offset,
            allocated,
            cursor,
            max_segment_bytes: sizing.max_segment_bytes,
            prealloc: sizing.preallocate,
            fsyncs: 0,
            bytes_since_snapshot,
            version,
            buf: Vec::new(),
        })
    }

    /// Creates segment `segment_no` durably, starting at `next_seq` after
    /// chain value `prev_chain`, and returns its cursor.
    pub fn create_segment(
        fs: &dyn Fs,
        layout: &Layout,
        catalog_id: [u8; 16],
        segment_no: u64,
        next_seq: u64,
        prev_chain: ChainValue,
    ) -> Result<Cursor> {
        let header = SegmentHeader {
            version: segment::FORMAT_VERSION,
            catalog_id,
            segment_no,
            first_seq: next_seq,
            prev_chain,
        };
        publish_file(
            fs,
            &layout.journal_dir(),
            &segment_name(segment_no),
            &header.encode(),
        )?;
        Ok(Cursor {
            offset: segment::HEADER_LEN as u64,
            next_seq,
            chain: prev_chain,
        })
    }

    /// Seals the current segment and continues in a new one. The current
    /// segment's records are already durable (every batch is synced); its
    /// preallocated zeros are cut off (and the cut synced) before the next
    /// segment exists, so a sealed segment ends exactly at its last record.
    fn try_rotate(&mut self) -> Result<()> {
        if self.allocated > self.len {
            let path = self.layout.segment_file(self.segment_no);
            self.file
                .set_len(self.len)
                .map_err(|e| Error::io(&path, e))?;
            self.file.sync_data().map_err(|e| Error::io(&path, e))?;
            self.fsyncs += 1;
            self.allocated = self.len;
        }
        let next_no = self.segment_no + 1;
        let cursor = Self::create_segment(
            &*self.fs,
            &self.layout,
            self.catalog_id,
            next_no,
            self.cursor.next_seq,
            self.cursor.chain,
        )?;
        let path = self.layout.segment_file(next_no);
        let file = self
            .fs
            .open_append(&path)
            .map_err(|e| Error::io(&path, e))?;
        self.file = file;
        self.segment_no = next_no;
        self.version = segment::FORMAT_VERSION;
        self.len = cursor.offset;
        self.allocated = cursor.offset;
        self.cursor = cursor;
        self.fsyncs += 2;
        tracing::debug!(
            segment = next_no,
            first_seq = cursor.next_seq,
            "journal segment rotated"
        );
        Ok(())
    }

    /// Writes `batch` (consecutive sequence numbers starting at the next
    /// expected one) with one write and one `fdatasync`. On error the failed
    /// bytes are cut off (see [`SegmentWriter::contain`]) and the caller
    /// must poison the handle.
    pub fn write_batch(&mut self, batch: &[PendingRecord]) -> Result<()> {
        let written = self.try_write_batch(batch);
        if written.is_err() {
            self.contain();
        }
        written
    }

    /// Seals the current segment and continues in a new one; on error the
    /// current segment is cut back to its last durable record.
    pub fn rotate(&mut self) -> Result<()> {
        let rotated = self.try_rotate();
        if rotated.is_err() {
            self.contain();
        }
        rotated
    }

    /// After a failed write or `fdatasync`: make the failed bytes vanish
    /// from the page cache. On Linux the pages a failed `fdatasync` could not
    /// write stay cached, readable and marked clean; the next open — in this
    /// process or another — would replay the failed records and build on
    /// them. So:
    ///
    /// 1. drop the cached pages from the one holding the durable end to the
    ///    end of the file (`posix_fadvise(DONTNEED)`): clean failed pages go,
    ///    and the file reads what the disk holds, the preallocated zeros.
    ///    The blocks stay the segment's: a failing disk's bad blocks are not
    ///    handed back to the file system to hold its metadata next;
    /// 2. if anything but zeros is still readable past the durable end (a
    ///    failed `write` leaves dirty pages, which are not dropped), cut the
    ///    file back to it (`set_len`, then `fdatasync`).
    ///
    /// Best effort: if this fails too, every later open reads the tail back
    /// from the disk (`journal::settle`).
    fn contain(&mut self) {
        let path = self.layout.segment_file(self.segment_no);
        let end = self
            .fs
            .len(&path)
            .ok()
            .flatten()
            .unwrap_or(self.allocated)
            .max(self.allocated);
        let from = self.len / PAGE * PAGE;
        let dropped = self
            .fs
            .drop_cached(&path, from, end.saturating_sub(from))
            .and_then(|()| self.fs.read_from(&path, self.len));
        if let Ok(rest) = &dropped
            && rest.iter().all(|&b| b == 0)
        {
            tracing::warn!(
                segment = %path.display(),
                durable_len = self.len,
                "dropped the failed write from the page cache"
            );
            return;
        }
        let cut = self
            .file
            .set_len(self.len)
            .and_then(|()| self.file.sync_data());
        self.allocated = self.len;
        match cut {
            Ok(()) => tracing::warn!(
                segment = %path.display(),
                durable_len = self.len,
                "cut the failed write off the journal"
            ),
            Err(e) => tracing::error!(
                segment = %path.display(),
                durable_len = self.len,
                error = %e,
                "could not remove the failed write from the journal; every open reads it back from the disk"
            ),
        }
    }

    fn try_write_batch(&mut self, batch: &[PendingRecord]) -> Result<()> {
        // A segment of an older format (a catalog written by an older build)
        // is sealed as it is, even empty, and the records go to a new one.
        if (self.len >= self.max_segment_bytes && self.has_records())
            || self.version < segment::FORMAT_VERSION
        {
            self.try_rotate()?;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.reserve(
            batch
                .iter()
                .map(|p| p.payload.len() + record::HEADER_LEN)
                .sum(),
        );
        let mut chain = self.cursor.chain;
        for p in batch {
            debug_assert!(p.seq >= self.cursor.next_seq);
            chain = chain::next(&chain, p.seq, p.time_ms, &p.payload);
            let header = RecordHeader {
                seq: p.seq,
                time_ms: p.time_ms,
                synced_before: self.len,
                chain,
            };
            record::encode(&mut buf, &header, &p.payload);
        }
        let path = || self.layout.segment_file(self.segment_no);
        let end = self.len + buf.len() as u64;
        if end > self.allocated && self.prealloc > 0 {
            // Zeros ahead, written before the records (the same fdatasync
            // covers both); later batches then overwrite allocated blocks.
            let target = end
                .max(self.allocated + self.prealloc)
                .min(end.max(self.max_segment_bytes.saturating_add(self.prealloc)));
            self.file
                .seek_to(self.allocated)
                .map_err(|e| Error::io(path(), e))?;
            let zeros = vec![0u8; (target - self.allocated) as usize];
            self.file
                .write_all(&zeros)
                .map_err(|e| Error::io(path(), e))?;
            self.allocated = target;
        }
        self.file
            .seek_to(self.len)
            .map_err(|e| Error::io(path(), e))?;
        self.file
            .write_all(&buf)
            .map_err(|e| Error::io(path(), e))?;
        self.file.sync_data().map_err(|e| Error::io(path(), e))?;
        self.fsyncs += 1;
        self.len += buf.len() as u64;
        self.allocated = self.allocated.max(self.len);
        self.bytes_since_snapshot += buf.len() as u64;
        if let Some(last) = batch.last() {
            self.cursor = Cursor {
                offset: self.len,
                next_seq: last.seq + 1,
                chain,
            };
        }
        if buf.capacity() <= MAX_KEPT_BUFFER {
            self.buf = buf;
        }
        Ok(())
    }

    /// Whether the current segment holds any record.
    pub fn has_records(&self) -> bool {
        self.len > segment::HEADER_LEN as u64
    }
    /// Position after the last durable record.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }
    /// Number of the current segment.
    pub fn segment_no(&self) -> u64 {
        self.segment_no
    }
    /// fsyncs issued by this writer (records, rotations).
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs
    }
    /// Journal bytes written since the newest snapshot.
    pub fn bytes_since_snapshot(&self) -> u64 {
        self.bytes_since_snapshot
    }
    /// Called after a snapshot is published.
    pub fn snapshot_taken(&mut self) {
        self.bytes_since_snapshot = 0;
    }
}
