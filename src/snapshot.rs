//! Snapshot files: the whole state as of one sequence number.
//!
//! ```text
//! offset  size  field
//! 0       8     magic          MAGIC
//! 8       4     version        1 to 4 (FORMAT_VERSION, written); others refused
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
//!
//! A version 2 snapshot is **bound to the journal**: before it is published,
//! a `Checkpoint` record carrying its [`content_digest`] is made durable, so
//! the hash chain (and with it a pinned head) covers the snapshot's entries.
//! A version 1 snapshot (written before that rule) is bound only by CRCs.

use crate::bytes::{array_at, u32_at, u64_at};
use crate::entry::ModelEntry;
use crate::error::{CorruptKind, Error, Result};
use crate::journal::chain::ChainValue;
use crate::journal::record::MAX_PAYLOAD_LEN;
use crate::preamble;
use std::io::Read;
use std::path::Path;

/// First bytes of a snapshot.
pub const MAGIC: [u8; 8] = *b"\x89CCSNAP\n";
/// Last-but-four bytes of a snapshot.
pub const END_MAGIC: [u8; 8] = *b"CCSNPEND";
/// The snapshot format this build writes (2: bound by a `Checkpoint`
/// record; 3: entries with the fields format 3 added; 4: entries with the
/// signature record, docs/FORMAT.md §10).
pub const FORMAT_VERSION: u32 = 4;
/// The oldest snapshot format this build still reads.
pub const OLDEST_READABLE: u32 = 1;
/// Domain of [`content_digest`].
const CONTENT_DOMAIN: &[u8] = b"catalog-core/snapshot-content/v1";

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

/// What decoding a snapshot found besides its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The header's fields.
    pub meta: SnapshotMeta,
    /// The file's format version (1, 2 or 3).
    pub version: u32,
    /// Number of entries.
    pub entries: u64,
    /// [`content_digest`] of the file.
    pub content: [u8; 32],
}

/// The digest a `Checkpoint` record binds a snapshot with: SHA-256 of
/// `"catalog-core/snapshot-content/v1"` followed by every byte of the file
/// before its trailer (the header — catalog id, sequence, time, chain, entry
/// count — and every entry frame). Any change to what the snapshot makes
/// `open` yield changes it.
pub fn content_digest(encoded: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(CONTENT_DOMAIN);
    h.update(&encoded[..encoded.len().saturating_sub(TRAILER_LEN)]);
    h.finalize().into()
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

/// Reads only the metadata, checking magic, version and header CRC;
/// returns it with the entry count and the format version.
pub fn decode_meta(bytes: &[u8], file: &Path) -> Result<(SnapshotMeta, u64, u32)> {
    let corrupt = |offset: usize, kind: CorruptKind, reason: &str| {
        Error::corrupt(
            file,
            offset as u64,
            None,
            kind,
            format!("snapshot: {reason}"),
        )
    };
    let version = preamble::check(
        bytes,
        &MAGIC,
        OLDEST_READABLE..=FORMAT_VERSION,
        file,
        "snapshot",
    )?;
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| corrupt(bytes.len(), CorruptKind::Truncated, "truncated header"))?;
    if crc32fast::hash(&header[..HEADER_CRC_OFFSET])
        != u32_at(header, HEADER_CRC_OFFSET).unwrap_or_default()
    {
        return Err(corrupt(
            HEADER_CRC_OFFSET,
            CorruptKind::Checksum,
            "header CRC mismatch",
        ));
    }
    if u32_at(header, FLAGS_OFFSET) != Some(0) {
        return Err(corrupt(FLAGS_OFFSET, CorruptKind::Header, "unknown flags"));
    }
    let meta = SnapshotMeta {
        catalog_id: array_at(header, CATALOG_ID_OFFSET).unwrap_or_default(),
        seq: u64_at(header, SEQ_OFFSET).unwrap_or_default(),
        time_ms: u64_at(header, TIME_OFFSET).unwrap_or_default(),
        chain: array_at(header, CHAIN_OFFSET).unwrap_or_default(),
    };
    if meta.seq == 0 || meta.seq == u64::MAX {
        return Err(corrupt(
            SEQ_OFFSET,
            CorruptKind::Header,
            "sequence 0 or at its maximum",
        ));
    }
    Ok((
        meta,
        u64_at(header, COUNT_OFFSET).unwrap_or_default(),
        version,
    ))
}

/// Decodes a whole snapshot, checking every CRC; lengths and the entry count
/// are bounded by the file's size before anything is allocated.
pub fn decode(bytes: &[u8], file: &Path) -> Result<(Decoded, Vec<ModelEntry>)> {
    let mut entries = Vec::new();
    let decoded = decode_each(bytes, file, |e| {
        entries.push(e);
        Ok(())
    })?;
    Ok((decoded, entries))
}

/// Decodes a whole snapshot like [`decode`], handing each entry to `visit`
/// as it is decoded (so a large snapshot is never held twice in memory).
pub fn decode_each(
    bytes: &[u8],
    file: &Path,
    visit: impl FnMut(ModelEntry) -> Result<()>,
) -> Result<Decoded> {
    decode_stream(
        &mut std::io::Cursor::new(bytes),
        bytes.len() as u64,
        file,
        visit,
    )
}

/// Decodes a snapshot of `file_len` bytes read from `reader`, entry by
/// entry: memory stays at one entry's frame whatever the file's size. Every
/// length is bounded (by `file_len` and `MAX_ENTRY_LEN`) before anything is
/// allocated, every entry's CRC is checked before it is decoded, and the
/// whole-file CRC and end marker are checked last: if they fail, the entries
/// already visited must be discarded (the caller gets the error).
pub fn decode_stream(
    reader: &mut dyn Read,
    file_len: u64,
    file: &Path,
    mut visit: impl FnMut(ModelEntry) -> Result<()>,
) -> Result<Decoded> {
    use sha2::Digest as _;
    let mut crc = crc32fast::Hasher::new();
    let mut content = sha2::Sha256::new();
    content.update(CONTENT_DOMAIN);
    let mut header = vec![0u8; HEADER_LEN.min(usize::try_from(file_len).unwrap_or(HEADER_LEN))];
    read_exact(reader, &mut header, file, 0)?;
    let (meta, count, version) = decode_meta(&header, file)?;
    crc.update(&header);
    content.update(&header);
    let corrupt = |offset: u64, kind: CorruptKind, reason: String| {
        snapshot_corrupt(file, offset, meta.seq, kind, reason)
    };
    let Some(body_end) = file_len
        .checked_sub(TRAILER_LEN as u64)
        .filter(|&e| e >= HEADER_LEN as u64)
    else {
        let reason = "truncated (no trailer)".into();
        return Err(corrupt(file_len, CorruptKind::Truncated, reason));
    };
    let max_count = (body_end - HEADER_LEN as u64) / FRAME_HEADER_LEN as u64;
    if count > max_count {
        let reason = format!("entry count {count} cannot fit in the file");
        return Err(corrupt(COUNT_OFFSET as u64, CorruptKind::Header, reason));
    }
    let mut pos = HEADER_LEN as u64;
    let mut body = Vec::new();
    for i in 0..count {
        let at = Frame {
            i,
            pos,
            body_end,
            version,
            seq: meta.seq,
        };
        let (entry, next) = read_entry(reader, file, &at, (&mut crc, &mut content), &mut body)?;
        visit(entry)?;
        pos = next;
    }
    if pos != body_end {
        let reason = "bytes after the last entry".into();
        return Err(corrupt(pos, CorruptKind::Decode, reason));
    }
    let mut trailer = [0u8; TRAILER_LEN];
    read_exact(reader, &mut trailer, file, body_end)?;
    if trailer[..8] != END_MAGIC {
        let reason = "bad end marker (truncated?)".into();
        return Err(corrupt(body_end, CorruptKind::Truncated, reason));
    }
    crc.update(&trailer[..8]);
    if crc.finalize() != u32_at(&trailer, 8).unwrap_or_default() {
        let reason = "file CRC mismatch".into();
        return Err(corrupt(body_end + 8, CorruptKind::Checksum, reason));
    }
    Ok(Decoded {
        meta,
        version,
        entries: count,
        content: content.finalize().into(),
    })
}

/// Where one entry's frame is read.
struct Frame {
    /// The entry's index.
    i: u64,
    /// Offset of its frame.
    pos: u64,
    /// Where the entries end (the trailer starts).
    body_end: u64,
    /// The snapshot's format version.
    version: u32,
    /// The snapshot's sequence number (for errors).
    seq: u64,
}

/// Reads the entry framed at `at.pos` (into `body`), feeding the file's
/// CRC and content digest; checks its length and CRC before decoding it.
/// Returns it and where the next frame starts.
fn read_entry(
    reader: &mut dyn Read,
    file: &Path,
    at: &Frame,
    (crc, content): (&mut crc32fast::Hasher, &mut sha2::Sha256),
    body: &mut Vec<u8>,
) -> Result<(ModelEntry, u64)> {
    use sha2::Digest as _;
    let (i, pos) = (at.i, at.pos);
    let corrupt =
        |kind: CorruptKind, reason: String| snapshot_corrupt(file, pos, at.seq, kind, reason);
    if pos + FRAME_HEADER_LEN as u64 > at.body_end {
        return Err(corrupt(
            CorruptKind::Truncated,
            format!("entry {i} frame truncated"),
        ));
    }
    let mut frame = [0u8; FRAME_HEADER_LEN];
    read_exact(reader, &mut frame, file, pos)?;
    crc.update(&frame);
    content.update(frame);
    let len = u32_at(&frame, 0).unwrap_or_default() as usize;
    let entry_crc = u32_at(&frame, 4).unwrap_or_default();
    let start = pos + FRAME_HEADER_LEN as u64;
    if len > MAX_ENTRY_LEN || start + len as u64 > at.body_end {
        let reason = format!("entry {i} length {len} out of bounds");
        return Err(corrupt(CorruptKind::Header, reason));
    }
    body.resize(len, 0);
    read_exact(reader, body, file, start)?;
    crc.update(body);
    content.update(&body[..]);
    if crc32fast::hash(body) != entry_crc {
        return Err(corrupt(
            CorruptKind::Checksum,
            format!("entry {i} CRC mismatch"),
        ));
    }
    // Formats 1 to 3 wrote entries with fewer fields (see `legacy`).
    match crate::legacy::decode_entry(body, at.version) {
        Ok(entry) => Ok((entry, start + len as u64)),
        Err(_) => Err(corrupt(
            CorruptKind::Decode,
            format!("entry {i} does not decode"),
        )),
    }
}

/// A damaged snapshot at sequence `seq`.
fn snapshot_corrupt(
    file: &Path,
    offset: u64,
    seq: u64,
    kind: CorruptKind,
    reason: String,
) -> Error {
    Error::corrupt(file, offset, Some(seq), kind, format!("snapshot: {reason}"))
}

/// `read_exact`, with a short file reported as a truncated snapshot.
fn read_exact(reader: &mut dyn Read, buf: &mut [u8], file: &Path, offset: u64) -> Result<()> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::corrupt(
            file,
            offset,
            None,
            CorruptKind::Truncated,
            "snapshot: truncated",
        ),
        _ => Error::io(file, e),
    })
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
            digest_source: None,
            external: false,
            signature: None,
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
        let (decoded, got) = decode(&bytes, Path::new("s")).unwrap();
        assert_eq!((decoded.meta, got), (meta, entries));
        assert_eq!(decoded.version, FORMAT_VERSION);
        assert_eq!(decoded.entries, 2);
        assert_eq!(
            decoded.content,
            content_digest(&bytes),
            "the reader computes the digest the writer binds"
        );
    }

    #[test]
    fn any_edit_with_recomputed_crcs_changes_the_content_digest() {
        let (meta, mut entries, bytes) = sample();
        entries[1].lifecycle = Lifecycle::Retired;
        let edited = encode(&meta, entries.len(), entries.iter()).unwrap();
        assert_ne!(content_digest(&edited), content_digest(&bytes));
        let later = SnapshotMeta { seq: 10, ..meta };
        let (_, entries, _) = sample();
        let moved = encode(&later, entries.len(), entries.iter()).unwrap();
        assert_ne!(
            content_digest(&moved),
            content_digest(&bytes),
            "the header counts"
        );
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
