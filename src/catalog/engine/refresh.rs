//! Bringing a read-only handle up to date with the writer.
//!
//! The handle continues from its position (segment, offset, sequence,
//! chain): it reads the rest of its segment, applies every complete valid
//! record, and stops at the first incomplete one (the writer may be in the
//! middle of a `write`). It moves to the next segment only if that segment
//! existed *before* it read the current one, which proves the current one
//! was sealed and complete. If its segment was deleted by retention, it
//! reopens from the newest snapshot.

use super::identity::Identity;
use super::options::Options;
use super::recovery;
use super::view::{self, View};
use crate::error::{CorruptKind, Error, Result};
use crate::fs::Fs;
use crate::journal::reader::{self, Cursor, ScanEnd, Visited};
use crate::journal::record::{self, Parsed};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::Layout;
use crate::state::change_for;
use std::io;
use std::path::Path;
use std::sync::RwLock;

/// Applies what the writer appended since the last refresh; returns the
/// number of records applied.
pub(crate) fn refresh(
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    view: &RwLock<View>,
) -> Result<u64> {
    let fs = &*opts.fs;
    let mut applied = 0u64;
    loop {
        let (segment_no, from, tail) = {
            let v = view::read(view);
            (v.segment_no, v.cursor, v.tail)
        };
        let path = layout.segment_file(segment_no);
        let next_path = layout.segment_file(segment_no + 1);
        let sealed = fs
            .len(&next_path)
            .map_err(|e| Error::io(&next_path, e))?
            .is_some();
        let Some(bytes) = unread(fs, &path, from, tail)? else {
            return reload(layout, opts, view).map(|n| applied + n);
        };
        // The segment's format decides how its payloads decode.
        let version = match fs.read_head(&path, segment::HEADER_LEN) {
            Ok(head) => SegmentHeader::decode(&head, &path)?.version,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return reload(layout, opts, view).map(|n| applied + n);
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let mut v = view::write(view);
        if v.segment_no != segment_no || v.cursor != from {
            continue; // another thread refreshed meanwhile
        }
        let (_, end) = reader::scan(&bytes, from, &path, !sealed, version, |rec| {
            apply(&mut v, rec, &path)?;
            applied += 1;
            Ok(())
        })?;
        if matches!(end, ScanEnd::Torn { .. }) || !sealed {
            return Ok(applied);
        }
        next_segment(fs, &next_path, identity, &mut v)?;
    }
}

/// The bytes of `path` from the handle's position on (`from`, and the last
/// record it applied, at `tail`); `None` if the handle must reload: the
/// segment is gone, or that last record is no longer there, whole and with
/// its chain value (a writer whose write failed removes the failed records,
/// which this handle may have read from the page cache, and a torn tail may
/// be cut and written over).
fn unread(fs: &dyn Fs, path: &Path, from: Cursor, tail: Option<u64>) -> Result<Option<Vec<u8>>> {
    let mut bytes = match fs.read_from(path, tail.unwrap_or(from.offset)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    if let Some(at) = tail {
        let kept = match record::parse(&bytes) {
            Parsed::Record(rec) => {
                at + rec.frame_len() as u64 == from.offset && rec.header.chain == from.chain
            }
            _ => false,
        };
        if !kept {
            return Ok(None);
        }
        bytes.drain(..(from.offset - at) as usize);
    }
    Ok(Some(bytes))
}

/// Applies one record the writer appended to the handle's view.
fn apply(v: &mut View, rec: Visited<'_>, path: &Path) -> Result<()> {
    let seq = rec.header.seq;
    if rec.payload.op.changes_state() {
        v.state_seq = seq;
    }
    let current = rec.payload.op.model_id().and_then(|id| v.state.get(id));
    let change =
        change_for(current, rec.payload.op, seq, rec.header.time_ms).map_err(|reason| {
            Error::corrupt(path, rec.offset, Some(seq), CorruptKind::Replay, reason)
        })?;
    v.state.apply(change);
    v.seq = rec.next.next_seq - 1;
    v.chain = rec.next.chain;
    v.time_ms = rec.header.time_ms;
    v.cursor = rec.next;
    v.tail = Some(rec.offset);
    Ok(())
}

/// Moves the view to the start of the sealed segment's successor at
/// `next_path`, once its header shows it continues where the view is.
fn next_segment(fs: &dyn Fs, next_path: &Path, identity: &Identity, v: &mut View) -> Result<()> {
    let head = fs
        .read_head(next_path, segment::HEADER_LEN)
        .map_err(|e| Error::io(next_path, e))?;
    let h = SegmentHeader::decode(&head, next_path)?;
    if h.catalog_id != identity.catalog_id
        || h.segment_no != v.segment_no + 1
        || h.first_seq != v.cursor.next_seq
        || h.prev_chain != v.cursor.chain
    {
        return Err(crate::journal::listing::not_continuing(
            next_path,
            &h,
            v.cursor.next_seq,
        ));
    }
    v.segment_no = h.segment_no;
    v.tail = None;
    v.cursor = Cursor {
        offset: segment::HEADER_LEN as u64,
        next_seq: h.first_seq,
        chain: h.prev_chain,
    };
    Ok(())
}

/// Reopens from scratch when the handle's segment is gone.
fn reload(layout: &Layout, opts: &Options, view: &RwLock<View>) -> Result<u64> {
    let rec = recovery::recover_read_only(layout, opts)?;
    let mut v = view::write(view);
    let applied = rec.view.seq.saturating_sub(v.seq);
    *v = rec.view;
    Ok(applied)
}
