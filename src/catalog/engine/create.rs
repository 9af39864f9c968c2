//! Creating a new catalog, durably and so that a crash part-way is harmless.
//!
//! Order: directories → segment 1 (empty, published atomically) → fsync of
//! `catalog/`, the root and its parent → IDENTITY (published atomically). A catalog
//! exists once IDENTITY does. A crash before that leaves at most an empty
//! segment 1, which the next open recognises and replaces; a catalog whose
//! IDENTITY is present but whose journal is missing is corruption, never an
//! empty catalog.

use super::identity::Identity;
use crate::error::{Error, Result};
use crate::fs::{Fs, publish_file};
use crate::journal::chain;
use crate::journal::segment;
use crate::journal::writer::SegmentWriter;
use crate::layout::{IDENTITY_FILE, Layout};

/// Whether the files found without an IDENTITY are what an interrupted
/// creation leaves behind (nothing, or one empty segment 1).
pub(crate) fn is_interrupted_creation(
    fs: &dyn Fs,
    layout: &Layout,
    segments: &[u64],
    snapshots: &[u64],
) -> Result<bool> {
    if !snapshots.is_empty() {
        return Ok(false);
    }
    match segments {
        [] => Ok(true),
        [1] => {
            let path = layout.segment_file(1);
            let len = fs.len(&path).map_err(|e| Error::io(&path, e))?;
            Ok(len == Some(segment::HEADER_LEN as u64))
        }
        _ => Ok(false),
    }
}

/// Creates the catalog's files; the directories already exist.
pub(crate) fn create(fs: &dyn Fs, layout: &Layout, now_ms: u64) -> Result<Identity> {
    let identity = Identity::generate(now_ms);
    let genesis = chain::genesis(&identity.catalog_id);
    SegmentWriter::create_segment(fs, layout, identity.catalog_id, 1, 1, genesis)?;
    // Every directory entry on the way down is durable before IDENTITY
    // says the catalog exists.
    let mut dirs = vec![layout.meta_dir().to_path_buf(), layout.root().to_path_buf()];
    dirs.extend(layout.root().parent().map(std::path::Path::to_path_buf));
    for dir in dirs {
        fs.sync_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    publish_file(fs, layout.meta_dir(), IDENTITY_FILE, &identity.encode())?;
    tracing::info!(root = %layout.root().display(), "created a new catalog");
    Ok(identity)
}
