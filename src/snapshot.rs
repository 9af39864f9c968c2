//! Snapshot files: the whole state as of one sequence number.
//!
//! ```text
//! offset  size  field
//! 0       8     magic          MAGIC
//! 8       4     version        FORMAT_VERSION; a larger one is refused
//! 12      4     flags          0
//! 16      16    catalog_id
//! 32      8     seq            last sequence number the snapshot covers
//! 40      8     time_ms        timestamp of record `seq`
//! 48      32    chain          chain value after record `seq`
//! 80      8     entry_count
//! 88      4     header_crc     CRC-32 of bytes [0, 88)
//! 92            entry_count frames: len u32 | crc u32 (of the entry bytes) | postcard(ModelEntry)
//! end-12  8     END_MAGIC
//! end-4   4     file_crc       CRC-32 of every byte before it
//! ```
//! Written by [`crate::fs::publish_file`] (temp, fsync, rename, fsync dir).

use crate::bytes::{array_at, u32_at, u64_at};
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::journal::chain::ChainValue;
use crate::journal::record::MAX_PAYLOAD_LEN;
use crate::preamble;
use std::path::Path;

/// First bytes of a snapshot.
pub const MAGIC: [u8; 8] = *b"\x89CCSNAP\n";
/// Last-but-four bytes of a snapshot.
pub const END_MAGIC: [u8; 8] = *b"CCSNPEND";
/// The snapshot format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const VERSION_OFFSET: usize = preamble::VERSION_OFFSET;
const FLAGS_OFFSET: usize = VERSION_OFFSET + 4;
const CATALOG_ID_OFFSET: usize = FLAGS_OFFSET + 4;
const SEQ_OFFSET: usize = CATALOG_ID_OFFSET + 16;
const TIME_OFFSET: usize = SEQ_OFFSET + 8;
const CHAIN_OFFSET: usize = TIME_OFFSET + 8;
const COUNT_OFFSET: usize = CHAIN_OFFSET + 32;
const HEADER_CRC_OFFSET: usize = COUNT_OFFSET + 8;
/// Length of the header; entry frames start here.
pub const HEADER_LEN: usize = HEADER_CRC_OFFSET + 4;
const FRAME_HEADER_LEN: usize = 8;
/// Largest entry frame body. An entry is what a `Put` payload registered
/// (at most `MAX_PAYLOAD_LEN`) plus what one `Verify` payload added (at most
/// `MAX_PAYLOAD_LEN`: a reason, a digest, integers and the file
/// fingerprints) plus a few integers, so it stays under this bound by
/// construction; encoding checks it anyway, so a snapshot is never written
/// that decoding would refuse.
pub const MAX_ENTRY_LEN: usize = 2 * MAX_PAYLOAD_LEN + (64 << 10);
const TRAILER_LEN: usize = 12;

/// What a snapshot says besides its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The catalog it belongs to.
    pub catalog_id: [u8; 16],
    /// Last sequence number covered.
    pub seq: u64,
    /// Timestamp of record `seq`.
    pub time_ms: u64,
    /// Chain value after record `seq`.
    pub chain: ChainValue,
}

/// Encodes a snapshot of `entries`.
pub fn encode<'a>(
    meta: &SnapshotMeta,
    count: usize,
    entries: impl Iterator<Item = &'a ModelEntry>,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER_LEN + count * 128);
    out.extend_from_slice(&preamble::encode(&MAGIC, FORMAT_VERSION));
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&meta.catalog_id);
    out.extend_from_slice(&meta.seq.to_le_bytes());
    out.extend_from_slice(&meta.time_ms.to_le_bytes());
    out.extend_from_slice(&meta.chain);
    out.extend_from_slice(&(count as u64).to_le_bytes());
    let crc = crc32fast::hash(&out[..HEADER_CRC_OFFSET]);
    out.extend_from_slice(&crc.to_le_bytes());
    let mut written = 0usize;
    for entry in entries {
        let start = out.len();
        out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        postcard::to_io(entry, &mut out)
            .map_err(|e| Error::invalid("entry", format!("cannot encode: {e}")))?;
        let body_len = out.len() - start - FRAME_HEADER_LEN;
        if body_len > MAX_ENTRY_LEN {
            return Err(Error::invalid(
                "entry",
                format!(
                    "`{}` encodes to {body_len} bytes, over {MAX_ENTRY_LEN}",
                    entry.id
                ),
            ));
        }
        let crc = crc32fast::hash(&out[start + FRAME_HEADER_LEN..]);
        out[start..start + 4].copy_from_slice(&(body_len as u32).to_le_bytes());
        out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
        written += 1;
    }
    debug_assert_eq!(written, count, "snapshot entry count");
    out.extend_from_slice(&END_MAGIC);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Reads only the metadata, checking magic, version and header CRC.
pub fn decode_meta(bytes: &[u8], file: &Path) -> Result<(SnapshotMeta, u64)> {
    let corrupt = |offset: usize, reason: &str| {
        Error::corrupt(file, offset as u64, None, format!("snapshot: {reason}"))
    };
    preamble::check(bytes, &MAGIC, FORMAT_VERSION, file, "snapshot")?;
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| corrupt(bytes.len(), "truncated header"))?;
    if crc32fast::hash(&header[..HEADER_CRC_OFFSET])
        != u32_at(header, HEADER_CRC_OFFSET).unwrap_or_default()
    {
        return Err(corrupt(HEADER_CRC_OFFSET, "header CRC mismatch"));
    }
    if u32_at(header, FLAGS_OFFSET) != Some(0) {
        return Err(corrupt(FLAGS_OFFSET, "unknown flags"));
    }
    let meta = SnapshotMeta {
        catalog_id: array_at(header, CATALOG_ID_OFFSET).unwrap_or_default(),
        seq: u64_at(header, SEQ_OFFSET).unwrap_or_default(),
        time_ms: u64_at(header, TIME_OFFSET).unwrap_or_default(),
        chain: array_at(header, CHAIN_OFFSET).unwrap_or_default(),
    };
    if meta.seq == 0 || meta.seq == u64::MAX {
        return Err(corrupt(SEQ_OFFSET, "sequence 0 or at its maximum"));
    }
    Ok((meta, u64_at(header, COUNT_OFFSET).unwrap_or_default()))
}

/// Decodes a whole snapshot, checking every CRC; lengths and the entry count
/// are bounded by the file's size before anything is allocated.
pub fn decode(bytes: &[u8], file: &Path) -> Result<(SnapshotMeta, Vec<ModelEntry>)> {
    let mut entries = Vec::new();
    let meta = decode_each(bytes, file, |e| {
        entries.push(e);
        Ok(())
    })?;
    Ok((meta, entries))
}

/// Decodes a whole snapshot like [`decode`], handing each entry to `visit`
/// as it is decoded (so a large snapshot is never held twice in memory).
/// The file CRC is checked before the first entry is visited.
pub fn decode_each(
    bytes: &[u8],
    file: &Path,
    mut visit: impl FnMut(ModelEntry) -> Result<()>,
) -> Result<SnapshotMeta> {
    let (meta, count) = decode_meta(bytes, file)?;
    let corrupt = |offset: usize, reason: String| {
        Error::corrupt(
            file,
            offset as u64,
            Some(meta.seq),
            format!("snapshot: {reason}"),
        )
    };
    let Some(body_end) = bytes
        .len()
        .checked_sub(TRAILER_LEN)
        .filter(|&e| e >= HEADER_LEN)
    else {
        return Err(corrupt(bytes.len(), "truncated (no trailer)".into()));
    };
    if bytes[body_end..body_end + 8] != END_MAGIC {
        return Err(corrupt(body_end, "bad end marker (truncated?)".into()));
    }
    if crc32fast::hash(&bytes[..body_end + 8]) != u32_at(bytes, body_end + 8).unwrap_or_default() {
        return Err(corrupt(body_end + 8, "file CRC mismatch".into()));
    }
    let max_count = ((body_end - HEADER_LEN) / FRAME_HEADER_LEN) as u64;
    if count > max_count {
        return Err(corrupt(
            COUNT_OFFSET,
            format!("entry count {count} cannot fit in the file"),
        ));
    }
    let mut pos = HEADER_LEN;
    for i in 0..count {
        let (Some(len), Some(crc)) = (u32_at(bytes, pos), u32_at(bytes, pos + 4)) else {
            return Err(corrupt(pos, format!("entry {i} frame truncated")));
        };
        let len = len as usize;
        let start = pos + FRAME_HEADER_LEN;
        if len > MAX_ENTRY_LEN || start + len > body_end {
            return Err(corrupt(
                pos,
                format!("entry {i} length {len} out of bounds"),
            ));
        }
        let body = &bytes[start..start + len];
        if crc32fast::hash(body) != crc {
            return Err(corrupt(pos, format!("entry {i} CRC mismatch")));
        }
        let entry: ModelEntry = match postcard::take_from_bytes(body) {
            Ok((entry, [])) => entry,
            _ => return Err(corrupt(pos, format!("entry {i} does not decode"))),
        };
        visit(entry)?;
        pos = start + len;
    }
    if pos != body_end {
        return Err(corrupt(pos, "bytes after the last entry".into()));
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Lifecycle, TrustState};

    fn entry(id: &str) -> ModelEntry {
        ModelEntry {
            id: id.into(),
            model_ref: "hf:o/r".into(),
            local_path: "p".into(),
            lifecycle: Lifecycle::Active,
            trust: TrustState::Unverified,
            digest: None,
            size_bytes: 1,
            files: vec![],
            registered_at_ms: 1,
            updated_at_ms: 2,
            updated_seq: 3,
            last_verified_at_ms: None,
            last_verification: None,
        }
    }

    fn sample() -> (SnapshotMeta, Vec<ModelEntry>, Vec<u8>) {
        let meta = SnapshotMeta {
            catalog_id: [1; 16],
            seq: 9,
            time_ms: 5,
            chain: [7; 32],
        };
        let entries = vec![entry("a"), entry("b")];
        let bytes = encode(&meta, entries.len(), entries.iter()).unwrap();
        (meta, entries, bytes)
    }

    #[test]
    fn snapshot_round_trips() {
        let (meta, entries, bytes) = sample();
        assert_eq!(decode(&bytes, Path::new("s")).unwrap(), (meta, entries));
    }

    #[test]
    fn every_damaged_byte_and_every_truncation_is_refused() {
        let (_, _, bytes) = sample();
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x01;
            let err = decode(&damaged, Path::new("s")).expect_err("flip must be caught");
            assert!(
                matches!(
                    err,
                    Error::Corrupt { .. } | Error::UnsupportedVersion { .. }
                ),
                "byte {i}: {err}"
            );
        }
        for cut in 0..bytes.len() {
            assert!(
                decode(&bytes[..cut], Path::new("s")).is_err(),
                "cut at {cut}"
            );
        }
    }
}
