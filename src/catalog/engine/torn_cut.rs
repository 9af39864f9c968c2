//! What recovery does with a torn tail (the rule deciding *whether* a tail
//! is torn is in `journal::torn_tail`).
//!
//! Default mode, writer: copy the dropped bytes to
//! `catalog/recovered/<segment>-<offset>.torn` (published durably), then
//! truncate the segment at the offset and fsync it. A crash between the two
//! steps repeats both on the next open with the same result. Strict mode:
//! refuse to open. Read-only handle: report, change nothing.

use super::options::{Options, RecoveryMode};
use crate::error::{CorruptKind, Error, Result};
use crate::fs::{Fs, publish_file};
use crate::layout::Layout;
use std::path::PathBuf;

/// A torn tail found (and, for a writer in the default mode, cut) at open.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TornTail {
    /// The segment.
    pub segment: PathBuf,
    /// Offset of the first bad byte; the segment now ends here.
    pub offset: u64,
    /// Sequence number the first dropped record would have had.
    pub seq: u64,
    /// How many bytes were cut (not counting preallocated zeros after them).
    pub dropped_bytes: u64,
    /// Why the first bad record was bad.
    pub reason: String,
    /// Where the cut bytes were kept (`None` for a read-only handle, which
    /// changes nothing).
    pub saved_to: Option<PathBuf>,
}

/// Applies the recovery mode to a torn tail at `offset` of segment
/// `segment_no`, whose whole contents are `bytes`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cut_torn_tail(
    fs: &dyn Fs,
    layout: &Layout,
    opts: &Options,
    writable: bool,
    segment_no: u64,
    bytes: &[u8],
    offset: u64,
    seq: u64,
    reason: &str,
) -> Result<TornTail> {
    let path = layout.segment_file(segment_no);
    let tail = usize::try_from(offset)
        .ok()
        .and_then(|o| bytes.get(o..))
        .unwrap_or_default();
    // Preallocated zeros after the torn bytes are not worth keeping.
    let dropped = &tail[..tail.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
    if opts.recovery == RecoveryMode::Strict {
        return Err(Error::corrupt(
            &path,
            offset,
            Some(seq),
            CorruptKind::TornTail,
            format!(
                "torn tail of {} bytes ({reason}); strict recovery changes nothing — \
                 open in the default mode to cut it",
                dropped.len()
            ),
        ));
    }
    let mut torn = TornTail {
        segment: path.clone(),
        offset,
        seq,
        dropped_bytes: dropped.len() as u64,
        reason: reason.to_string(),
        saved_to: None,
    };
    if !writable {
        return Ok(torn);
    }
    let dir = layout.recovered_dir();
    fs.create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let meta = layout.meta_dir();
    fs.sync_dir(meta).map_err(|e| Error::io(meta, e))?;
    let name = side_file_name(fs, &dir, segment_no, offset, dropped)?;
    publish_file(fs, &dir, &name, dropped)?;
    let mut file = fs.open_append(&path).map_err(|e| Error::io(&path, e))?;
    file.set_len(offset).map_err(|e| Error::io(&path, e))?;
    file.sync_data().map_err(|e| Error::io(&path, e))?;
    let saved_to = dir.join(name);
    tracing::warn!(
        segment = %path.display(),
        offset,
        seq,
        dropped_bytes = dropped.len(),
        reason,
        saved_to = %saved_to.display(),
        "cut a torn journal tail (writes that were never acknowledged)"
    );
    torn.saved_to = Some(saved_to);
    Ok(torn)
}

/// `<segment>-<offset>.torn`, or — if a file of that name holds other bytes
/// (an earlier crash cut a different tail at the same offset) —
/// `<segment>-<offset>-<n>.torn`, so no saved tail is ever overwritten. The
/// same bytes reuse their name, which keeps a repeated cut idempotent.
fn side_file_name(
    fs: &dyn Fs,
    dir: &std::path::Path,
    segment_no: u64,
    offset: u64,
    dropped: &[u8],
) -> Result<String> {
    let base = format!("{segment_no:020}-{offset:020}");
    for n in 0u32.. {
        let name = if n == 0 {
            format!("{base}.torn")
        } else {
            format!("{base}-{n}.torn")
        };
        match fs.read(&dir.join(&name)) {
            Ok(existing) if existing == dropped => return Ok(name),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(name),
            Err(e) => return Err(Error::io(dir.join(&name), e)),
        }
    }
    Err(Error::invalid(
        "torn tail",
        "too many different tails saved at one offset",
    ))
}
