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
//! (`S`). So, at every writer open, before replay:
//!
//! 1. `fdatasync` the segment: a killed writer's batch that is still dirty
//!    is written now (if this fails, its pages are now clean and failed);
//! 2. drop the cached pages from the page holding `S` to the end of the
//!    file (`posix_fadvise(DONTNEED)`: clean pages only);
//! 3. replay then reads that range from the disk. Bytes that never reached
//!    it read as the preallocated zeros (a clean end) or old bytes (a torn
//!    tail, cut and kept as usual); bytes before `S` were made durable by a
//!    successful `fdatasync` of the writer that wrote them.

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
    /// Whether the `fdatasync` reported an error: the disk failed to take
    /// the unsynced tail; what was read again is what it holds.
    pub sync_failed: bool,
}

/// Syncs the newest segment at `path` and drops its unproven tail from the
/// page cache, so the next read of it returns what the disk holds.
pub fn settle(fs: &dyn Fs, path: &Path) -> Result<Settled> {
    let bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
    let proven = last_batch_start(&bytes);
    let synced = fs
        .open_append(path)
        .and_then(|mut file| file.sync_data())
        .map_err(|e| Error::io(path, e));
    let sync_failed = match synced {
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
    fs.drop_cached(path, from).map_err(|e| Error::io(path, e))?;
    Ok(Settled {
        proven,
        sync_failed,
    })
}

/// `synced_before` of the last record whose frame is valid (records are
/// walked from the header on, frames and CRCs only), or the header's end.
fn last_batch_start(bytes: &[u8]) -> u64 {
    let mut pos = segment::HEADER_LEN;
    let mut start = segment::HEADER_LEN as u64;
    while let Some(Parsed::Record(rec)) = bytes.get(pos..).map(record::parse) {
        start = rec.header.synced_before.min(pos as u64);
        pos += rec.frame_len();
    }
    start
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
        assert_eq!(last_batch_start(&bytes), starts[2]);
        let mut with_zeros = bytes.clone();
        with_zeros.resize(bytes.len() + 5000, 0);
        assert_eq!(last_batch_start(&with_zeros), starts[2], "zeros after");
        let (empty, _) = segment_with(&[]);
        assert_eq!(last_batch_start(&empty), segment::HEADER_LEN as u64);
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
        assert_eq!(last_batch_start(&bytes), segment::HEADER_LEN as u64);
    }
}
