//! The swap step of a repair (step 3's end): move the old directories to
//! quarantine and the staged ones into place, as the `catalog/REPAIR`
//! marker says. Opening finishes a swap a crash interrupted, so this is all
//! of repair that recovery needs.

use crate::error::{CorruptKind, Error, Result};
use crate::fs::Fs;
use crate::layout::Layout;
use std::io;

/// Finishes a swap whose marker exists, or discards unfinished staging.
/// Only a writer (lock held) calls this.
pub(crate) fn finish_pending(fs: &dyn Fs, layout: &Layout) -> Result<()> {
    let marker = layout.repair_marker();
    let staging = layout.repair_staging_dir();
    let meta = layout.meta_dir();
    let name = match fs.read(&marker) {
        Ok(bytes) => String::from_utf8(bytes)
            .ok()
            .filter(|n| !n.is_empty() && !n.contains('/') && !n.contains(".."))
            .ok_or_else(|| {
                Error::corrupt(
                    &marker,
                    0,
                    None,
                    CorruptKind::Foreign,
                    "repair marker is unreadable",
                )
            })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs
                .len(&staging)
                .map_err(|e| Error::io(&staging, e))?
                .is_some()
            {
                tracing::info!(dir = %staging.display(), "discarding an unfinished repair");
                fs.remove_dir_all(&staging)
                    .map_err(|e| Error::io(&staging, e))?;
                fs.sync_dir(meta).map_err(|e| Error::io(meta, e))?;
            }
            return Ok(());
        }
        Err(e) => return Err(Error::io(&marker, e)),
    };
    let quarantine = layout.quarantine_dir().join(&name);
    fs.create_dir_all(&quarantine)
        .map_err(|e| Error::io(&quarantine, e))?;
    let parent = layout.quarantine_dir();
    for dir in [parent.as_path(), meta] {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    for sub in ["journal", "snapshots"] {
        let staged = staging.join(sub);
        let live = meta.join(sub);
        if fs
            .len(&staged)
            .map_err(|e| Error::io(&staged, e))?
            .is_none()
        {
            continue; // already swapped in
        }
        if fs.len(&live).map_err(|e| Error::io(&live, e))?.is_some() {
            let to = quarantine.join(sub);
            fs.rename(&live, &to).map_err(|e| Error::io(&to, e))?;
        }
        fs.rename(&staged, &live).map_err(|e| Error::io(&live, e))?;
    }
    for dir in [quarantine.as_path(), meta] {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    fs.remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
    if fs
        .len(&staging)
        .map_err(|e| Error::io(&staging, e))?
        .is_some()
    {
        fs.remove_dir_all(&staging)
            .map_err(|e| Error::io(&staging, e))?;
    }
    fs.sync_dir(meta).map_err(|e| Error::io(meta, e))?;
    tracing::info!(quarantine = %quarantine.display(), "repair swapped in");
    Ok(())
}

/// Whether a repair marker exists (a reader refuses to open then).
pub(crate) fn is_pending(fs: &dyn Fs, layout: &Layout) -> Result<bool> {
    let marker = layout.repair_marker();
    Ok(fs
        .len(&marker)
        .map_err(|e| Error::io(&marker, e))?
        .is_some())
}
