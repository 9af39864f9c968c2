//! The header at the start of every journal segment.
//!
//! ```text
//! offset  size  field
//! 0       8     magic          MAGIC
//! 8       4     version        1 to 4 (FORMAT_VERSION, written); others refused
//! 12      4     flags          0; any other value is refused
//! 16      16    catalog_id     the catalog this segment belongs to
//! 32      8     segment_no     equals the number in the file name
//! 40      8     first_seq      sequence number of the segment's first record
//! 48      32    prev_chain     chain value before the first record
//! 80      4     crc            CRC-32 (IEEE) of bytes [0, 80)
//! 84            records
//! ```
//! A segment is created whole (header written to a temp file, fsynced,
//! renamed, directory fsynced), so a header is never torn.

use super::chain::ChainValue;
use crate::bytes::{array_at, u32_at, u64_at};
use crate::error::{CorruptKind, Error, Result};
use crate::preamble;
use std::path::Path;

/// First bytes of every segment.
pub const MAGIC: [u8; 8] = *b"\x89CCJRNL\n";
/// The segment format this build writes. Version 2 segments may hold the
/// catalog-level records `Checkpoint` and `Pruned`; version 3 payloads
/// carry the fields format 3 added to `EntrySpec`; version 4 segments may
/// hold `VerifySignature` records (docs/FORMAT.md §10).
pub const FORMAT_VERSION: u32 = 4;
/// The oldest segment format this build still reads.
pub const OLDEST_READABLE: u32 = 1;

const VERSION_OFFSET: usize = preamble::VERSION_OFFSET;
const FLAGS_OFFSET: usize = VERSION_OFFSET + 4;
const CATALOG_ID_OFFSET: usize = FLAGS_OFFSET + 4;
const SEGMENT_NO_OFFSET: usize = CATALOG_ID_OFFSET + 16;
const FIRST_SEQ_OFFSET: usize = SEGMENT_NO_OFFSET + 8;
const PREV_CHAIN_OFFSET: usize = FIRST_SEQ_OFFSET + 8;
const CRC_OFFSET: usize = PREV_CHAIN_OFFSET + 32;
/// Length of the header; the first record starts here.
pub const HEADER_LEN: usize = CRC_OFFSET + 4;

/// The decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Format version of the segment (written: [`FORMAT_VERSION`]).
    pub version: u32,
    /// The catalog the segment belongs to.
    pub catalog_id: [u8; 16],
    /// Segment number.
    pub segment_no: u64,
    /// Sequence number of the first record.
    pub first_seq: u64,
    /// Chain value before the first record.
    pub prev_chain: ChainValue,
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..FLAGS_OFFSET].copy_from_slice(&preamble::encode(&MAGIC, self.version));
        out[CATALOG_ID_OFFSET..SEGMENT_NO_OFFSET].copy_from_slice(&self.catalog_id);
        out[SEGMENT_NO_OFFSET..FIRST_SEQ_OFFSET].copy_from_slice(&self.segment_no.to_le_bytes());
        out[FIRST_SEQ_OFFSET..PREV_CHAIN_OFFSET].copy_from_slice(&self.first_seq.to_le_bytes());
        out[PREV_CHAIN_OFFSET..CRC_OFFSET].copy_from_slice(&self.prev_chain);
        let crc = crc32fast::hash(&out[..CRC_OFFSET]);
        out[CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks the header at the start of `bytes` read from `file`:
    /// magic, then version (a newer one is refused before anything else is
    /// trusted), then flags and CRC.
    pub fn decode(bytes: &[u8], file: &Path) -> Result<Self> {
        let corrupt = |offset: usize, kind: CorruptKind, reason: &str| {
            Error::corrupt(
                file,
                offset as u64,
                None,
                kind,
                format!("segment header: {reason}"),
            )
        };
        let version = preamble::check(
            bytes,
            &MAGIC,
            OLDEST_READABLE..=FORMAT_VERSION,
            file,
            "segment header",
        )?;
        let header = bytes
            .get(..HEADER_LEN)
            .ok_or_else(|| corrupt(bytes.len(), CorruptKind::Truncated, "truncated"))?;
        let crc = u32_at(header, CRC_OFFSET).unwrap_or_default();
        if crc32fast::hash(&header[..CRC_OFFSET]) != crc {
            return Err(corrupt(CRC_OFFSET, CorruptKind::Checksum, "CRC mismatch"));
        }
        if u32_at(header, FLAGS_OFFSET) != Some(0) {
            return Err(corrupt(FLAGS_OFFSET, CorruptKind::Header, "unknown flags"));
        }
        Ok(SegmentHeader {
            version,
            catalog_id: array_at(header, CATALOG_ID_OFFSET).unwrap_or_default(),
            segment_no: u64_at(header, SEGMENT_NO_OFFSET).unwrap_or_default(),
            first_seq: u64_at(header, FIRST_SEQ_OFFSET).unwrap_or_default(),
            prev_chain: array_at(header, PREV_CHAIN_OFFSET).unwrap_or_default(),
        })
    }
}

/// Byte offset of the version field, for tests that forge a newer version.
pub const VERSION_FIELD_OFFSET: usize = VERSION_OFFSET;

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> SegmentHeader {
        SegmentHeader {
            version: FORMAT_VERSION,
            catalog_id: [3; 16],
            segment_no: 4,
            first_seq: 5,
            prev_chain: [6; 32],
        }
    }

    #[test]
    fn header_round_trips() {
        let bytes = header().encode();
        assert_eq!(
            SegmentHeader::decode(&bytes, Path::new("s")).unwrap(),
            header()
        );
    }

    #[test]
    fn newer_version_is_refused_before_the_crc_is_trusted() {
        let mut bytes = header().encode();
        let newer = FORMAT_VERSION + 1;
        bytes[VERSION_OFFSET..FLAGS_OFFSET].copy_from_slice(&newer.to_le_bytes());
        let err = SegmentHeader::decode(&bytes, Path::new("s")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    expected: FORMAT_VERSION,
                    got,
                    ..
                } if got == newer
            ),
            "{err}"
        );
    }

    #[test]
    fn any_damaged_header_byte_is_corrupt() {
        let good = header().encode();
        for i in 0..HEADER_LEN {
            if (VERSION_OFFSET..FLAGS_OFFSET).contains(&i) {
                continue; // a changed version is reported as a version
            }
            let mut bytes = good;
            bytes[i] ^= 0x40;
            let err = SegmentHeader::decode(&bytes, Path::new("s")).unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "byte {i}: {err}");
        }
    }
}
