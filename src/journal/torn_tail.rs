//! The torn-tail rule: when a bad record may be cut off, and when it is
//! corruption that must be refused.
//!
//! A crash can only damage bytes the writer had not yet made durable. Every
//! record carries `synced_before`, the segment offset that was durable when
//! it was written. So, for a bad record at offset `p` of the newest segment:
//!
//! * if some valid record *after* `p` has `synced_before > p`, the bytes at
//!   `p` were durable before that record was written: a crash cannot have
//!   damaged them, and the segment is **corrupt**;
//! * otherwise everything from `p` on belongs to writes that were never
//!   acknowledged (one unsynced batch, possibly persisted out of order, or
//!   zero-filled): the tail is **torn** and may be cut at `p`.
//!
//! Sealed (older) segments were fsynced whole before the next one was
//! created, so any bad byte in them is corruption.

use super::record::{self, HEADER_LEN, LEN_OFFSET, MAX_PAYLOAD_LEN, Parsed, SEQ_OFFSET};
use crate::bytes::{u32_at, u64_at};

/// What the bytes after a bad record say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailVerdict {
    /// Only unacknowledged writes follow: cut here.
    Torn,
    /// A valid later record proves the bad bytes were durable.
    Corrupt {
        /// File offset of the later record that proves it.
        evidence_offset: u64,
        /// Its sequence number.
        evidence_seq: u64,
    },
}

/// Classifies the bad record at `bytes[bad_at]`; `base` is the file offset of
/// `bytes[0]` and `expected_seq` the sequence number the bad record should
/// have had. Looks at every later offset, cheapest checks first.
pub fn classify(bytes: &[u8], base: u64, bad_at: usize, expected_seq: u64) -> TailVerdict {
    let bad_file_offset = base + bad_at as u64;
    // A record written after the bad one has a sequence number of at least
    // `expected_seq` (no upper bound: a gap record skips numbers).
    let mut q = bad_at + 1;
    while q + HEADER_LEN <= bytes.len() {
        if plausible(bytes, q, expected_seq)
            && let Parsed::Record(rec) = record::parse(&bytes[q..])
        {
            if rec.header.synced_before > bad_file_offset {
                return TailVerdict::Corrupt {
                    evidence_offset: base + q as u64,
                    evidence_seq: rec.header.seq,
                };
            }
            q += rec.frame_len();
            continue;
        }
        q += 1;
    }
    TailVerdict::Torn
}

/// Cheap filter before a CRC is computed at offset `q`.
fn plausible(bytes: &[u8], q: usize, min_seq: u64) -> bool {
    let (Some(len), Some(seq)) = (u32_at(bytes, q + LEN_OFFSET), u64_at(bytes, q + SEQ_OFFSET))
    else {
        return false;
    };
    let len = len as usize;
    len != 0 && len <= MAX_PAYLOAD_LEN && q + HEADER_LEN + len <= bytes.len() && seq >= min_seq
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::record::{RecordHeader, encode};

    /// Three records; the second and third were written when `synced` bytes
    /// were durable.
    fn log(synced: [u64; 3]) -> (Vec<u8>, [usize; 3]) {
        let mut out = Vec::new();
        let mut starts = [0; 3];
        for (i, s) in synced.into_iter().enumerate() {
            starts[i] = out.len();
            let h = RecordHeader {
                seq: i as u64 + 1,
                time_ms: 0,
                synced_before: s,
                chain: [0; 32],
            };
            encode(&mut out, &h, b"payload");
        }
        (out, starts)
    }

    #[test]
    fn damage_followed_by_a_later_durable_record_is_corruption() {
        // Each record its own batch: record 3 was written after 1 and 2 were durable.
        let (mut bytes, starts) = log([0, 71, 142]);
        bytes[starts[1] + HEADER_LEN] ^= 1;
        assert_eq!(
            classify(&bytes, 0, starts[1], 2),
            TailVerdict::Corrupt {
                evidence_offset: starts[2] as u64,
                evidence_seq: 3
            }
        );
    }

    #[test]
    fn damage_inside_the_last_unsynced_batch_is_torn() {
        // Records 2 and 3 were one batch starting at record 2's offset.
        let (mut bytes, starts) = log([0, 71, 71]);
        assert_eq!(starts[1], 71);
        bytes[starts[1] + HEADER_LEN] ^= 1;
        assert_eq!(classify(&bytes, 0, starts[1], 2), TailVerdict::Torn);
    }

    #[test]
    fn evidence_after_a_gap_record_still_counts() {
        // Record 2 is a gap up to 1000 (written by repair); 1001 was written
        // after it was durable. Damage to the gap record is corruption.
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for (seq, synced) in [(1u64, 0u64), (2, 71), (1001, 142)] {
            starts.push(bytes.len());
            let h = RecordHeader {
                seq,
                time_ms: 0,
                synced_before: synced,
                chain: [0; 32],
            };
            encode(&mut bytes, &h, b"payload");
        }
        bytes[starts[1] + HEADER_LEN] ^= 1;
        assert_eq!(
            classify(&bytes, 0, starts[1], 2),
            TailVerdict::Corrupt {
                evidence_offset: starts[2] as u64,
                evidence_seq: 1001
            }
        );
    }

    #[test]
    fn zero_filled_tail_is_torn() {
        let (mut bytes, starts) = log([0, 71, 142]);
        bytes.extend_from_slice(&[0; 4096]);
        assert_eq!(classify(&bytes, 0, starts[2] + 71, 4), TailVerdict::Torn);
    }
}
