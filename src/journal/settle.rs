//! Before a writer builds on the newest segment: make what it is about to
//! read the bytes the disk really holds.
//!
//! Linux, after a failed `fdatasync`, keeps the pages it could not write in
//! the page cache: readable, with the new bytes, and marked clean, so a
//! later `fdatasync` succeeds without writing them ("fsyncgate"). A process
//! that inherits such a cache cannot learn of the error from the kernel (it
//! was reported to the process that failed). If it replayed those bytes and
//! appended after them, its acknowledged records would rest on bytes that
//! were never durable, and a cache drop or reboot would cut them off.
//!
//! Only the last batch of the segment can be affected: a writer writes a
//! batch only after the previous one's `fdatasync` succeeded, and a failed
//! one poisons it. The last batch starts at its records' `synced_before`
//! (`P`) and ends with the last record the cache shows (`E`). So, at every
//! open, before replay:
//!
//! 1. a writer `fdatasync`s the segment: a killed writer's batch that is
//!    still dirty is written now (if this fails, its pages are now clean and
//!    failed); a reader changes nothing and skips this;
//! 2. the cached pages from the one holding `P` to the one holding `E` are
//!    dropped (`posix_fadvise(DONTNEED)`: clean pages only; a live writer's
//!    dirty batch stays);
//! 3. replay then reads that range from the disk. Bytes that never reached
//!    it read as the preallocated zeros (a clean end) or old bytes (a torn
//!    tail, cut and kept as usual); bytes before `P` were made durable by a
//!    successful `fdatasync` of the writer that wrote them. Past `E` the
//!    cache holds zeros, which is all a failed write can have left on the
//!    disk there too.

use super::record::{self, Parsed};
use super::segment;
use crate::error::{Error, Result};
use crate::fs::Fs;
use std::path::Path;

/// Page size assumed when rounding `S` down (a larger real page only means
/// that a little more is read again).
const PAGE: u64 = 4096;

/// What settling found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
    /// Start of the last batch (`synced_before` of the last valid record, or
    /// the header's end if there is none): bytes before it are durable.
    pub proven: u64,
    /// Whether the `fdatasync` (writers only) reported an error: the disk
    /// failed to take the unsynced tail; what is read again is what it holds.
    pub sync_failed: bool,
}

/// Makes the next read of the newest segment at `path` return what the disk
/// holds for its unproven tail: syncs it first if `writer`, then drops the
/// last batch's pages from the page cache.
pub fn settle(fs: &dyn Fs, path: &Path, writer: bool) -> Result<Settled> {
    let bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
    let (proven, end) = last_batch(&bytes);
    let sync_failed = writer
        && match fs.open_append(path).and_then(|mut file| file.sync_data()) {
            Ok(()) => false,
            Err(err) => {
                tracing::warn!(
                    segment = %path.display(),
                    error = %err,
                    durable_up_to = proven,
                    "the disk failed to write the journal's unsynced tail; reading it back from the disk"
                );
                true
            }
        };
    let from = proven / PAGE * PAGE;
    let to = end.div_ceil(PAGE) * PAGE;
    fs.drop_cached(path, from, to.saturating_sub(from))
        .map_err(|e| Error::io(path, e))?;
    Ok(Settled {
        proven,
        sync_failed,
    })
}

/// The last batch as the cache shows it: from the `synced_before` of the
/// last record whose frame is valid (records are walked from the header on,
/// frames and CRCs only) to that record's end; both the header's end if
/// there is no record.
fn last_batch(bytes: &[u8]) -> (u64, u64) {
    let mut pos = segment::HEADER_LEN;
    let mut start = segment::HEADER_LEN as u64;
    while let Some(Parsed::Record(rec)) = bytes.get(pos..).map(record::parse) {
        start = rec.header.synced_before.min(pos as u64);
        pos += rec.frame_len();
    }
    (start, pos as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::record::RecordHeader;

    fn segment_with(batches: &[&[u64]]) -> (Vec<u8>, Vec<u64>) {
        let mut bytes = vec![0u8; segment::HEADER_LEN];
        let mut starts = Vec::new();
        for batch in batches {
            let start = bytes.len() as u64;
            starts.push(start);
            for &seq in *batch {
                let h = RecordHeader {
                    seq,
                    time_ms: 1,
                    synced_before: start,
                    chain: [0; 32],
                };
                record::encode(&mut bytes, &h, b"payload");
            }
        }
        (bytes, starts)
    }

    #[test]
    fn the_last_batch_starts_where_its_records_say_the_segment_was_durable() {
        let (bytes, starts) = segment_with(&[&[1, 2], &[3], &[4, 5, 6]]);
        let end = bytes.len() as u64;
        assert_eq!(last_batch(&bytes), (starts[2], end));
        let mut with_zeros = bytes.clone();
        with_zeros.resize(bytes.len() + 5000, 0);
        assert_eq!(last_batch(&with_zeros), (starts[2], end), "zeros after");
        let (empty, _) = segment_with(&[]);
        let header = segment::HEADER_LEN as u64;
        assert_eq!(last_batch(&empty), (header, header));
    }

    #[test]
    fn a_synced_before_past_the_record_itself_is_not_trusted() {
        // A damaged hint can only make the re-read larger, never skip bytes.
        let mut bytes = vec![0u8; segment::HEADER_LEN];
        let h = RecordHeader {
            seq: 1,
            time_ms: 1,
            synced_before: 1 << 40,
            chain: [0; 32],
        };
        record::encode(&mut bytes, &h, b"x");
        assert_eq!(last_batch(&bytes).0, segment::HEADER_LEN as u64);
    }
}
