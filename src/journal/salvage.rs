//! Salvage reading: every record in a damaged segment that passes its own
//! checks (frame, CRC, payload), and the byte ranges that do not. Used only
//! by the explicit repair path; normal reading refuses damage instead.

use super::chain::ChainValue;
use super::op::Payload;
use super::record::{self, HEADER_LEN, LEN_OFFSET, MAX_PAYLOAD_LEN, Parsed};
use crate::bytes::u32_at;

/// A record that passed its own checks.
#[derive(Debug)]
pub struct SalvagedRecord {
    /// File offset.
    pub offset: u64,
    /// Sequence number.
    pub seq: u64,
    /// Unix milliseconds.
    pub time_ms: u64,
    /// The chain value stored in the record.
    pub chain: ChainValue,
    /// The decoded payload.
    pub payload: Payload,
    /// The payload bytes.
    pub raw_payload: Vec<u8>,
    /// The format version of the segment it was read from (its payload is
    /// that format's shape, and a copy must stay in a segment of it).
    pub version: u32,
}

/// A byte range that holds no valid record.
#[derive(Debug, PartialEq, Eq)]
pub struct DamagedRange {
    /// File offset of the first bad byte.
    pub offset: u64,
    /// Length of the range.
    pub len: u64,
    /// Why the record at `offset` is bad.
    pub reason: &'static str,
}

/// One piece of a segment, in file order.
#[derive(Debug)]
pub enum Piece {
    /// A record that passed its own checks.
    Record(Box<SalvagedRecord>),
    /// Bytes that are not a record.
    Damaged(DamagedRange),
}

/// Splits `bytes` (the part of a segment of format `version` after its
/// header, which starts at file offset `base`) into valid records and
/// damaged ranges.
pub fn salvage(bytes: &[u8], base: u64, version: u32) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        match valid_at(bytes, pos, base, version) {
            Ok(rec) => {
                pos += HEADER_LEN + rec.raw_payload.len();
                pieces.push(Piece::Record(Box::new(rec)));
            }
            Err(_) if bytes[pos..].iter().all(|&b| b == 0) => {
                // The newest segment's preallocated zeros: not damage.
                break;
            }
            Err(reason) => {
                let next = (pos + 1..bytes.len())
                    .find_map(|q| valid_at(bytes, q, base, version).ok().map(|rec| (q, rec)));
                let end = next.as_ref().map_or(bytes.len(), |(q, _)| *q);
                pieces.push(Piece::Damaged(DamagedRange {
                    offset: base + pos as u64,
                    len: (end - pos) as u64,
                    reason,
                }));
                pos = end;
                if let Some((q, rec)) = next {
                    pos = q + HEADER_LEN + rec.raw_payload.len();
                    pieces.push(Piece::Record(Box::new(rec)));
                }
            }
        }
    }
    pieces
}

fn valid_at(
    bytes: &[u8],
    pos: usize,
    base: u64,
    version: u32,
) -> Result<SalvagedRecord, &'static str> {
    // Cheap filter first: a plausible length that fits.
    match u32_at(bytes, pos + LEN_OFFSET) {
        Some(len) if len != 0 && (len as usize) <= MAX_PAYLOAD_LEN => {}
        Some(_) => return Err("implausible length"),
        None => return Err("incomplete record"),
    }
    let rec = match record::parse(&bytes[pos..]) {
        Parsed::Record(rec) => rec,
        Parsed::Incomplete => return Err("incomplete record"),
        Parsed::Invalid(_, reason) => return Err(reason),
    };
    let payload =
        Payload::decode_version(rec.payload, version).map_err(|_| "payload does not decode")?;
    Ok(SalvagedRecord {
        offset: base + pos as u64,
        seq: rec.header.seq,
        time_ms: rec.header.time_ms,
        chain: rec.header.chain,
        payload,
        raw_payload: rec.payload.to_vec(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::OpContext;
    use crate::journal::op::Op;
    use crate::journal::record::{RecordHeader, encode};

    fn log(n: u64) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut starts = Vec::new();
        for seq in 1..=n {
            starts.push(out.len());
            let payload = Payload {
                op: Op::Delete {
                    id: format!("m{seq}"),
                },
                ctx: OpContext::default(),
            };
            let h = RecordHeader {
                seq,
                time_ms: 0,
                synced_before: 0,
                chain: [0; 32],
            };
            encode(&mut out, &h, &payload.encode().unwrap());
        }
        (out, starts)
    }

    #[test]
    fn a_damaged_record_in_the_middle_is_skipped_and_reported() {
        let (mut bytes, starts) = log(5);
        bytes[starts[2] + HEADER_LEN] ^= 0x10;
        let pieces = salvage(&bytes, 100, super::super::segment::FORMAT_VERSION);
        let seqs: Vec<u64> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Record(r) => Some(r.seq),
                Piece::Damaged(_) => None,
            })
            .collect();
        assert_eq!(seqs, [1, 2, 4, 5], "every other record is kept");
        let damaged: Vec<&DamagedRange> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Damaged(d) => Some(d),
                Piece::Record(_) => None,
            })
            .collect();
        assert_eq!(
            damaged,
            [&DamagedRange {
                offset: 100 + starts[2] as u64,
                len: (starts[3] - starts[2]) as u64,
                reason: "CRC mismatch",
            }]
        );
    }

    #[test]
    fn a_cut_tail_is_one_damaged_range() {
        let (bytes, starts) = log(3);
        let cut = &bytes[..starts[2] + 10];
        let pieces = salvage(cut, 0, super::super::segment::FORMAT_VERSION);
        assert_eq!(pieces.len(), 3);
        assert!(
            matches!(&pieces[2], Piece::Damaged(d) if d.offset == starts[2] as u64 && d.len == 10),
            "{pieces:?}"
        );
    }
}
