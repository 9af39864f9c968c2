//! Reading at a known position of a segment: one record at its offset (what
//! an index of record offsets reads back), or the records from a cursor on
//! (what resumes a cursor without reading the segment from its start).

use super::op::Payload;
use super::reader::{self, Cursor, ScanEnd, Visited};
use super::record::{self, HEADER_LEN, Parsed, RecordHeader};
use crate::error::{CorruptKind, Error, Result};
use crate::fs::Fs;
use std::path::Path;

/// Bytes read first for one record: most records fit, a longer one is read
/// again whole.
const FIRST_READ: usize = 4096;

/// One record read back at its offset.
#[derive(Debug)]
pub struct RecordAt {
    /// Header fields.
    pub header: RecordHeader,
    /// The decoded payload.
    pub payload: Payload,
    /// Offset just past the record.
    pub end: u64,
}

/// Reads the record at `offset` of the segment `path` (format `version`):
/// its frame and CRC are checked and its payload decoded. The chain is not
/// checked here (that needs the record before it): callers compare what
/// they know (the sequence number, the chain value they saw when indexing).
pub fn record_at(fs: &dyn Fs, path: &Path, offset: u64, version: u32) -> Result<RecordAt> {
    let corrupt = |kind: CorruptKind, reason: &str| {
        Error::corrupt(path, offset, None, kind, reason.to_string())
    };
    let mut bytes = fs
        .read_at(path, offset, FIRST_READ)
        .map_err(|e| Error::io(path, e))?;
    if let Parsed::Incomplete = record::parse(&bytes)
        && let Some(len) = bytes.get(record::LEN_OFFSET..record::SEQ_OFFSET)
    {
        let len = crate::bytes::u32_at(len, 0).unwrap_or(0) as usize;
        if len <= record::MAX_PAYLOAD_LEN && HEADER_LEN + len > bytes.len() {
            bytes = fs
                .read_at(path, offset, HEADER_LEN + len)
                .map_err(|e| Error::io(path, e))?;
        }
    }
    let rec = match record::parse(&bytes) {
        Parsed::Record(rec) => rec,
        Parsed::Incomplete => {
            return Err(corrupt(
                CorruptKind::Truncated,
                "no complete record at this offset",
            ));
        }
        Parsed::Invalid(kind, reason) => return Err(corrupt(kind, reason)),
    };
    let payload = Payload::decode_version(rec.payload, version)
        .map_err(|r| corrupt(CorruptKind::Decode, &r))?;
    Ok(RecordAt {
        header: rec.header,
        end: offset + rec.frame_len() as u64,
        payload,
    })
}

/// Whether the record at `offset` still ends at `cursor.offset` with the
/// chain value `cursor.chain`: that the bytes a cursor was taken after are
/// still there (a writer that removed records whose sync failed, or a
/// repair, would have changed them). `false` also when nothing readable is
/// there.
pub fn still_ends_at(fs: &dyn Fs, path: &Path, offset: u64, version: u32, cursor: &Cursor) -> bool {
    record_at(fs, path, offset, version)
        .is_ok_and(|r| r.end == cursor.offset && r.header.chain == cursor.chain)
}

/// Bytes of the newest segment read at a time by [`scan_from`].
const WINDOW: usize = 64 << 10;
/// Bytes of a sealed segment read at a time: more than the longest record.
const SEALED_WINDOW: usize = 2 << 20;
const _: () = assert!(SEALED_WINDOW > HEADER_LEN + record::MAX_PAYLOAD_LEN);

/// The length of the frames at the start of `bytes` that lie wholly inside
/// it, judged by their length fields only; all of `bytes` if a length no
/// record can have comes first (reading it reports that frame).
fn complete_frames(bytes: &[u8]) -> usize {
    let mut pos = 0;
    while let Some(len) = crate::bytes::u32_at(bytes, pos + record::LEN_OFFSET) {
        let len = len as usize;
        if len == 0 || len > record::MAX_PAYLOAD_LEN {
            return bytes.len();
        }
        if pos + HEADER_LEN + len > bytes.len() {
            break;
        }
        pos += HEADER_LEN + len;
    }
    pos
}

/// Reads the records of the segment `path` from `cursor` on (the bytes
/// before it are not read), with every check of [`reader::scan`]; a torn
/// tail is allowed only if `newest`.
///
/// A sealed segment is read in windows of whole records (2 MiB at most in
/// memory, not the whole segment). The newest one is read in windows,
/// so that a poll does not read the zeros preallocated after its last
/// record: a window whose records end in at least a record header's worth
/// of zeros ends the scan there (no record starts with zeros: its length
/// is not 0, and the writer writes records one after another). Anything
/// else that stops a window early (a record cut by the window's end, a
/// torn tail) is read again with the rest of the file and judged as
/// [`reader::scan`] judges it.
pub fn scan_from(
    fs: &dyn Fs,
    path: &Path,
    mut cursor: Cursor,
    newest: bool,
    version: u32,
    mut visit: impl FnMut(Visited<'_>) -> Result<()>,
) -> Result<(Cursor, ScanEnd)> {
    let read_rest = |from: u64| fs.read_from(path, from).map_err(|e| Error::io(path, e));
    if !newest {
        return scan_sealed(fs, path, cursor, version, SEALED_WINDOW, visit);
    }
    loop {
        let window = fs
            .read_at(path, cursor.offset, WINDOW)
            .map_err(|e| Error::io(path, e))?;
        if window.len() < WINDOW {
            // The file ends inside this window: every byte is in hand.
            return reader::scan(&window, cursor, path, true, version, &mut visit);
        }
        let (end, _) = reader::scan(&window, cursor, path, true, version, &mut visit)?;
        let rest = &window[(end.offset - cursor.offset) as usize..];
        cursor = end;
        if rest.is_empty() {
            continue; // the window ended on a record boundary
        }
        if rest.len() >= HEADER_LEN && rest.iter().all(|&b| b == 0) {
            return Ok((cursor, ScanEnd::Clean));
        }
        return reader::scan(
            &read_rest(cursor.offset)?,
            cursor,
            path,
            true,
            version,
            visit,
        );
    }
}

/// A sealed segment from `cursor` on, `window` bytes (whole records) at a
/// time, judged as [`reader::scan`] judges the whole rest.
fn scan_sealed(
    fs: &dyn Fs,
    path: &Path,
    mut cursor: Cursor,
    version: u32,
    window: usize,
    mut visit: impl FnMut(Visited<'_>) -> Result<()>,
) -> Result<(Cursor, ScanEnd)> {
    loop {
        let bytes = fs
            .read_at(path, cursor.offset, window)
            .map_err(|e| Error::io(path, e))?;
        let whole = complete_frames(&bytes);
        if bytes.len() < window || whole == 0 {
            // The end of the file (or a frame no record can have).
            return reader::scan(&bytes, cursor, path, false, version, visit);
        }
        cursor = reader::scan(&bytes[..whole], cursor, path, false, version, &mut visit)?.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::OpContext;
    use crate::fs::StdFs;
    use crate::journal::chain;
    use crate::journal::op::Op;

    /// A sealed segment's bytes: a blank header, then `n` chained records
    /// of several lengths.
    fn segment(n: u64) -> (Vec<u8>, Cursor) {
        let start = Cursor {
            offset: crate::journal::segment::HEADER_LEN as u64,
            next_seq: 1,
            chain: [0; 32],
        };
        let mut out = vec![0; start.offset as usize];
        let mut prev = start.chain;
        for seq in 1..=n {
            let id = "m".repeat(1 + (seq as usize * 37) % 150);
            let payload = Payload {
                op: Op::Delete { id },
                ctx: OpContext::default(),
            }
            .encode()
            .unwrap();
            let header = RecordHeader {
                seq,
                time_ms: seq,
                synced_before: 0,
                chain: chain::next(&prev, seq, seq, &payload),
            };
            prev = header.chain;
            record::encode(&mut out, &header, &payload);
        }
        (out, start)
    }

    fn seqs(
        r: impl FnOnce(&mut dyn FnMut(Visited<'_>) -> Result<()>) -> Result<(Cursor, ScanEnd)>,
    ) -> (Vec<u64>, Result<Cursor>) {
        let mut seen = Vec::new();
        let end = r(&mut |v| {
            seen.push(v.header.seq);
            Ok(())
        });
        (seen, end.map(|e| e.0))
    }

    #[test]
    fn a_sealed_segment_read_in_windows_is_read_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let (bytes, start) = segment(60);
        for cut in [bytes.len(), bytes.len() - 5] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let body = &bytes[start.offset as usize..cut];
            let (whole, whole_end) = seqs(|v| reader::scan(body, start, &path, false, 3, v));
            for window in [300, 301, 1000, 4096, 1 << 20] {
                let (windowed, end) = seqs(|v| scan_sealed(&StdFs, &path, start, 3, window, v));
                assert_eq!(windowed, whole, "records, window {window}, cut {cut}");
                assert_eq!(
                    format!("{end:?}"),
                    format!("{whole_end:?}"),
                    "end or error, window {window}, cut {cut}"
                );
            }
            assert_eq!(whole.len(), if cut == bytes.len() { 60 } else { 59 });
            assert_eq!(
                whole_end.is_ok(),
                cut == bytes.len(),
                "a cut record is corrupt"
            );
        }
    }
}
