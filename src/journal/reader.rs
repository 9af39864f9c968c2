//! Reading a segment's records in order, with every check.

use super::chain::{self, ChainValue};
use super::op::{Op, Payload};
use super::record::{self, Parsed, RecordHeader};
use super::torn_tail::{self, TailVerdict};
use crate::error::{CorruptKind, Error, Result};
use std::path::Path;

/// Where reading of a segment continues: the next record's offset, its
/// expected sequence number, and the chain value before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// File offset of the next record.
    pub offset: u64,
    /// Its expected sequence number.
    pub next_seq: u64,
    /// Chain value before it.
    pub chain: ChainValue,
}

/// How a scan ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanEnd {
    /// Every byte was a valid record, or (in the newest segment) only zeros
    /// follow the last one: the writer's preallocation.
    Clean,
    /// A torn tail starts at the cursor's offset (only reported where torn
    /// tails are allowed).
    Torn {
        /// Why the first bad record is bad.
        reason: &'static str,
    },
}

/// A decoded record handed to the visitor.
#[derive(Debug)]
pub struct Visited<'a> {
    /// File offset of the record.
    pub offset: u64,
    /// Header fields.
    pub header: RecordHeader,
    /// The decoded payload.
    pub payload: Payload,
    /// The raw payload bytes.
    pub raw_payload: &'a [u8],
    /// Where reading continues after this record.
    pub next: Cursor,
}

/// Where reading ends at bytes (at `pos`, file offset `base + pos`) that
/// hold no valid record: the newest segment's clean end (its preallocated
/// zeros) or torn tail, or else damage.
fn unparsed_end(
    unparsed: Parsed<'_>,
    bytes: &[u8],
    (base, pos): (u64, usize),
    cursor: Cursor,
    may_be_torn: bool,
    corrupt: &dyn Fn(CorruptKind, String) -> Error,
) -> Result<(Cursor, ScanEnd)> {
    let (kind, reason) = match unparsed {
        Parsed::Invalid(kind, r) => (kind, r),
        _ => (CorruptKind::Truncated, "incomplete record"),
    };
    if !may_be_torn {
        return Err(corrupt(kind, format!("{reason} in a sealed segment")));
    }
    if bytes[pos..].iter().all(|&b| b == 0) {
        return Ok((cursor, ScanEnd::Clean));
    }
    match torn_tail::classify(bytes, base, pos, cursor.next_seq) {
        TailVerdict::Torn => Ok((cursor, ScanEnd::Torn { reason })),
        TailVerdict::Corrupt {
            evidence_offset,
            evidence_seq,
        } => Err(corrupt(
            kind,
            format!(
                "{reason}, but record {evidence_seq} at byte {evidence_offset} was \
                 written after these bytes were durable, so this is not a torn tail"
            ),
        )),
    }
}

/// Reads records from `bytes` (the file's bytes from `cursor.offset` on),
/// checking CRC, sequence, chain and payload of each, and hands each to
/// `visit` in order. Returns the cursor after the last valid record.
///
/// A bad record is a torn tail only if `may_be_torn` (the newest segment)
/// and the torn-tail rule says so; otherwise it is [`Error::Corrupt`].
/// Payloads are decoded as the segment's format `version` wrote them.
pub fn scan(
    bytes: &[u8],
    mut cursor: Cursor,
    file: &Path,
    may_be_torn: bool,
    version: u32,
    mut visit: impl FnMut(Visited<'_>) -> Result<()>,
) -> Result<(Cursor, ScanEnd)> {
    let base = cursor.offset;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let offset = base + pos as u64;
        let corrupt = |kind: CorruptKind, reason: String| {
            Error::corrupt(file, offset, Some(cursor.next_seq), kind, reason)
        };
        let rec = match record::parse(&bytes[pos..]) {
            Parsed::Record(rec) => rec,
            unparsed => {
                let at = (base, pos);
                return unparsed_end(unparsed, bytes, at, cursor, may_be_torn, &corrupt);
            }
        };
        let h = rec.header;
        if h.seq != cursor.next_seq {
            return Err(corrupt(
                CorruptKind::Sequence,
                format!("sequence {} where {} was expected", h.seq, cursor.next_seq),
            ));
        }
        if chain::next(&cursor.chain, h.seq, h.time_ms, rec.payload) != h.chain {
            return Err(corrupt(
                CorruptKind::Chain,
                "chain value does not match the record (edited history?)".into(),
            ));
        }
        let payload = Payload::decode_version(rec.payload, version)
            .map_err(|r| corrupt(CorruptKind::Decode, r))?;
        let next_seq = match &payload.op {
            Op::Gap { last_lost, .. } if *last_lost >= h.seq => last_lost.checked_add(1),
            Op::Gap { .. } => {
                return Err(corrupt(
                    CorruptKind::Sequence,
                    "gap record ends before it starts".into(),
                ));
            }
            _ => h.seq.checked_add(1),
        }
        .ok_or_else(|| corrupt(CorruptKind::Header, "sequence number at its maximum".into()))?;
        let next = Cursor {
            offset: offset + rec.frame_len() as u64,
            next_seq,
            chain: h.chain,
        };
        visit(Visited {
            offset,
            header: h,
            payload,
            raw_payload: rec.payload,
            next,
        })?;
        pos += rec.frame_len();
        cursor = next;
    }
    Ok((cursor, ScanEnd::Clean))
}
