//! Which segment and snapshot files a catalog has: the numbered-file
//! listing and the segment-header checks that opening, compaction, history,
//! repair and the check all start from.

use super::segment::{self, SegmentHeader};
use crate::error::{CorruptKind, Error, Result};
use crate::fs::{Fs, TEMP_SUFFIX};
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX, parse_numbered};
use std::io;
use std::path::{Path, PathBuf};

/// Numbers of the files `<20 digits><suffix>` in `dir`, ascending, and the
/// paths of temp files (`*.tmp`) left there by interrupted writes.
pub(crate) fn list_numbered(
    fs: &dyn Fs,
    dir: &Path,
    suffix: &str,
) -> Result<(Vec<u64>, Vec<PathBuf>)> {
    let names = match fs.list(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut numbers = Vec::new();
    let mut temps = Vec::new();
    for name in names {
        if let Some(n) = parse_numbered(&name, suffix) {
            numbers.push(n);
        } else if name.ends_with(TEMP_SUFFIX) {
            temps.push(dir.join(&name));
        }
    }
    numbers.sort_unstable();
    Ok((numbers, temps))
}

/// The segment and snapshot numbers present now (to tell whether a writer
/// changed the files while they were read).
pub(crate) fn listing(fs: &dyn Fs, layout: &Layout) -> Result<(Vec<u64>, Vec<u64>)> {
    Ok((
        list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?.0,
        list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?.0,
    ))
}

/// Reads and checks every segment header: same catalog, number as named,
/// numbers without gaps, first sequence numbers never decreasing.
pub(crate) fn read_headers(
    fs: &dyn Fs,
    layout: &Layout,
    segments: &[u64],
    catalog_id: &[u8; 16],
) -> Result<Vec<SegmentHeader>> {
    let mut headers: Vec<SegmentHeader> = Vec::with_capacity(segments.len());
    for &n in segments {
        let path = layout.segment_file(n);
        if let Some(prev) = headers.last()
            && n != prev.segment_no + 1
        {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                CorruptKind::Missing,
                format!("segment {} is missing before this one", prev.segment_no + 1),
            ));
        }
        let bytes = fs
            .read_head(&path, segment::HEADER_LEN)
            .map_err(|e| Error::io(&path, e))?;
        let h = SegmentHeader::decode(&bytes, &path)?;
        if h.first_seq == 0 || h.segment_no == u64::MAX {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                CorruptKind::Header,
                "segment header: first sequence 0 or segment number at its maximum",
            ));
        }
        if h.catalog_id != *catalog_id {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                CorruptKind::Misplaced,
                "segment belongs to another catalog",
            ));
        }
        if h.segment_no != n {
            return Err(Error::corrupt(
                &path,
                0,
                None,
                CorruptKind::Misplaced,
                format!("header says segment {}, file name says {n}", h.segment_no),
            ));
        }
        if let Some(prev) = headers.last()
            && h.first_seq < prev.first_seq
        {
            return Err(Error::corrupt(
                &path,
                0,
                Some(h.first_seq),
                CorruptKind::Sequence,
                "first sequence number goes backwards",
            ));
        }
        headers.push(h);
    }
    Ok(headers)
}

/// The error for segment `h` (at `path`) whose header does not continue
/// the segment before it, which ended before sequence `expected_seq`.
pub(crate) fn not_continuing(path: &Path, h: &SegmentHeader, expected_seq: u64) -> Error {
    Error::corrupt(
        path,
        0,
        Some(h.first_seq),
        CorruptKind::Sequence,
        format!(
            "segment does not continue the one before it (expected first sequence {expected_seq})"
        ),
    )
}
