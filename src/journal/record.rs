//! One journal record: its frame, encoding and the checks on decoding.
//!
//! ```text
//! offset  size  field
//! 0       4     crc            CRC-32 (IEEE) of bytes [LEN_OFFSET, HEADER_LEN + len)
//! 4       4     len            payload length, 1 ..= MAX_PAYLOAD_LEN
//! 8       8     seq            sequence number, +1 per record (a Gap record skips)
//! 16      8     time_ms        Unix milliseconds, never decreasing
//! 24      8     synced_before  segment offset that was durable when this record was written
//! 32      32    chain          running SHA-256 chain value after this record
//! 64      len   payload        postcard-encoded operation
//! ```
//! All integers are little-endian. The CRC covers the length, so a damaged
//! length is caught like any other damaged byte.

use super::chain::ChainValue;
use crate::bytes::{array_at, u32_at, u64_at};
use crate::corrupt::CorruptKind;

/// Offset of the CRC.
pub const CRC_OFFSET: usize = 0;
/// Offset of the payload length; the CRC covers everything from here on.
pub const LEN_OFFSET: usize = CRC_OFFSET + 4;
/// Offset of the sequence number.
pub const SEQ_OFFSET: usize = LEN_OFFSET + 4;
/// Offset of the timestamp.
pub const TIME_OFFSET: usize = SEQ_OFFSET + 8;
/// Offset of the durable-offset hint used by the torn-tail rule.
pub const SYNCED_OFFSET: usize = TIME_OFFSET + 8;
/// Offset of the chain value.
pub const CHAIN_OFFSET: usize = SYNCED_OFFSET + 8;
/// Length of the fixed header; the payload starts here.
pub const HEADER_LEN: usize = CHAIN_OFFSET + 32;
/// Largest payload accepted, checked before any allocation.
pub const MAX_PAYLOAD_LEN: usize = 1 << 20;

/// A record's header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Sequence number.
    pub seq: u64,
    /// Unix milliseconds.
    pub time_ms: u64,
    /// Segment offset known durable when the record was written.
    pub synced_before: u64,
    /// Chain value after this record.
    pub chain: ChainValue,
}

/// A record whose frame and CRC are valid.
#[derive(Debug)]
pub struct RawRecord<'a> {
    /// Header fields.
    pub header: RecordHeader,
    /// The payload bytes (not yet decoded).
    pub payload: &'a [u8],
}

impl RawRecord<'_> {
    /// Bytes the record occupies on disk.
    pub fn frame_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
}

/// What lies at an offset of a segment.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A record with a valid frame and CRC.
    Record(RawRecord<'a>),
    /// The bytes end inside the header or payload.
    Incomplete,
    /// The bytes are there but are not a record.
    Invalid(CorruptKind, &'static str),
}

/// Appends the framed record to `out`.
pub fn encode(out: &mut Vec<u8>, header: &RecordHeader, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    // The writer never builds a payload over MAX_PAYLOAD_LEN (1 MiB).
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&header.seq.to_le_bytes());
    out.extend_from_slice(&header.time_ms.to_le_bytes());
    out.extend_from_slice(&header.synced_before.to_le_bytes());
    out.extend_from_slice(&header.chain);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + LEN_OFFSET..]);
    out[start + CRC_OFFSET..start + LEN_OFFSET].copy_from_slice(&crc.to_le_bytes());
}

/// Parses the record starting at `bytes[0]`. The length is bounded before
/// anything is sliced, and the CRC is checked before the caller decodes.
pub fn parse(bytes: &[u8]) -> Parsed<'_> {
    let (Some(crc), Some(len)) = (u32_at(bytes, CRC_OFFSET), u32_at(bytes, LEN_OFFSET)) else {
        return Parsed::Incomplete;
    };
    let len = len as usize;
    if len == 0 {
        return Parsed::Invalid(CorruptKind::Header, "zero payload length");
    }
    if len > MAX_PAYLOAD_LEN {
        return Parsed::Invalid(CorruptKind::Header, "payload length over the maximum");
    }
    let Some(frame) = bytes.get(..HEADER_LEN + len) else {
        return Parsed::Incomplete;
    };
    if crc32fast::hash(&frame[LEN_OFFSET..]) != crc {
        return Parsed::Invalid(CorruptKind::Checksum, "CRC mismatch");
    }
    let header = RecordHeader {
        seq: u64_at(frame, SEQ_OFFSET).unwrap_or_default(),
        time_ms: u64_at(frame, TIME_OFFSET).unwrap_or_default(),
        synced_before: u64_at(frame, SYNCED_OFFSET).unwrap_or_default(),
        chain: array_at(frame, CHAIN_OFFSET).unwrap_or_default(),
    };
    Parsed::Record(RawRecord {
        header,
        payload: &frame[HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        let header = RecordHeader {
            seq: 7,
            time_ms: 1_700_000_000_000,
            synced_before: 128,
            chain: [9; 32],
        };
        encode(&mut out, &header, b"payload");
        out
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let bytes = sample();
        assert_eq!(bytes.len(), HEADER_LEN + 7);
        let Parsed::Record(rec) = parse(&bytes) else {
            panic!("valid record did not parse")
        };
        assert_eq!(rec.header.seq, 7);
        assert_eq!(rec.header.time_ms, 1_700_000_000_000);
        assert_eq!(rec.header.synced_before, 128);
        assert_eq!(rec.header.chain, [9; 32]);
        assert_eq!(rec.payload, b"payload");
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            assert!(
                matches!(parse(&bytes[..cut]), Parsed::Incomplete),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let bytes = sample();
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !matches!(parse(&damaged), Parsed::Record(_)),
                "flip of bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn absurd_lengths_are_refused_without_allocation() {
        for len in [0u32, MAX_PAYLOAD_LEN as u32 + 1, u32::MAX] {
            let mut bytes = sample();
            bytes[LEN_OFFSET..SEQ_OFFSET].copy_from_slice(&len.to_le_bytes());
            assert!(matches!(parse(&bytes), Parsed::Invalid(..)), "len {len}");
        }
        assert!(matches!(parse(&[0u8; HEADER_LEN * 2]), Parsed::Invalid(..)));
    }
}
