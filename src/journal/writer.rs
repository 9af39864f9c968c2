//! Appending records to the newest segment, and rotating to a new one.
//!
//! Only the group-commit leader touches the writer (it sits behind a mutex),
//! so records reach the file in sequence order, one `write` and one
//! `fdatasync` per batch.

use super::chain::{self, ChainValue};
use super::reader::Cursor;
use super::record::{self, RecordHeader};
use super::segment::{self, SegmentHeader};
use crate::error::{Error, Result};
use crate::fs::{Fs, FsFile, publish_file};
use crate::layout::{Layout, segment_name};
use std::sync::Arc;

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

/// The open newest segment.
#[derive(Debug)]
pub struct SegmentWriter {
    fs: Arc<dyn Fs>,
    layout: Layout,
    catalog_id: [u8; 16],
    segment_no: u64,
    file: Box<dyn FsFile>,
    /// Durable length of the segment (everything written has been synced).
    len: u64,
    cursor: Cursor,
    max_segment_bytes: u64,
    fsyncs: u64,
    /// Journal bytes appended since the newest snapshot.
    bytes_since_snapshot: u64,
}

impl SegmentWriter {
    /// Continues the existing segment `segment_no`, whose valid records end at
    /// `cursor` (any torn tail already cut off).
    pub fn resume(
        fs: Arc<dyn Fs>,
        layout: Layout,
        catalog_id: [u8; 16],
        segment_no: u64,
        cursor: Cursor,
        max_segment_bytes: u64,
        bytes_since_snapshot: u64,
    ) -> Result<Self> {
        let path = layout.segment_file(segment_no);
        let mut file = fs.open_append(&path).map_err(|e| Error::io(&path, e))?;
        // The bytes replayed may be a dead writer's, still only in the page
        // cache. Make them durable before anything is written after them:
        // every later record's `synced_before` claims they are.
        file.sync_data().map_err(|e| Error::io(&path, e))?;
        Ok(SegmentWriter {
            fs,
            layout,
            catalog_id,
            segment_no,
            file,
            len: cursor.offset,
            cursor,
            max_segment_bytes,
            fsyncs: 0,
            bytes_since_snapshot,
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
    /// segment is already durable (every batch is synced).
    pub fn rotate(&mut self) -> Result<()> {
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
        self.len = cursor.offset;
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
    /// expected one) with one write and one `fdatasync`. On error the
    /// segment's contents are unknown: the caller must poison the handle.
    pub fn write_batch(&mut self, batch: &[PendingRecord]) -> Result<()> {
        if self.len >= self.max_segment_bytes && self.has_records() {
            self.rotate()?;
        }
        let mut buf = Vec::with_capacity(
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
        self.file
            .write_all(&buf)
            .map_err(|e| Error::io(path(), e))?;
        self.file.sync_data().map_err(|e| Error::io(path(), e))?;
        self.fsyncs += 1;
        self.len += buf.len() as u64;
        self.bytes_since_snapshot += buf.len() as u64;
        if let Some(last) = batch.last() {
            self.cursor = Cursor {
                offset: self.len,
                next_seq: last.seq + 1,
                chain,
            };
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
