//! Views: a multi-file model as one directory an engine can load, made of
//! hard links to the model's blobs (`views/<manifest hex>/<path>`).
//!
//! A view is derived data: it can always be rebuilt from the blobs and the
//! manifest, so it is built in a temp directory, renamed into place and the
//! `views/` directory fsynced; if a crash loses part of it, the next
//! [`ensure`] finds it incomplete and builds it again.

use super::confine::{confined, remove_tree};
use super::manifest::manifest_digest;
use super::{Object, Store, VIEWS_DIR};
use crate::entry::{ManifestFile, check_relative_path};
use crate::error::{Error, Result};
use crate::fs::FileKind;
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes sure the view of `files` exists and is complete; returns its
/// catalog-relative path.
pub(crate) fn ensure(store: &Store, files: &[ManifestFile]) -> Result<String> {
    let object = Object::View(manifest_digest(files));
    let rel = object.rel();
    if is_complete(store, &rel, files)? {
        return Ok(rel);
    }
    // Imports run side by side (they share the store lock): builds of
    // views take turns, so one never removes a view another just renamed
    // into place while a third looks at it. One writer per root means no
    // other process builds views.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if is_complete(store, &rel, files)? {
        return Ok(rel);
    }
    let fs = &store.fs;
    static BUILDS: AtomicU64 = AtomicU64::new(0);
    let staging_rel = format!(
        "{rel}.{}-{}-{}.tmp",
        std::process::id(),
        BUILDS.fetch_add(1, Ordering::Relaxed),
        crate::clock::now_ms()
    );
    confined(store, &staging_rel)?;
    remove_tree(store, &staging_rel)?;
    // Built through directory handles: a directory of the view swapped for
    // a symlink meanwhile makes the build fail, never link outside.
    let root = store.root();
    for f in files {
        check_relative_path("files.path", &f.path)?;
        let blob = Object::Blob(f.digest).rel();
        let link = format!("{staging_rel}/{}", f.path);
        if let Some((parent, _)) = link.rsplit_once('/') {
            fs.create_dir_all_beneath(root, parent)
                .map_err(|e| store.error(parent, e))?;
        }
        fs.hard_link_beneath(root, &blob, &link)
            .map_err(|e| store.error(&link, e))?;
    }
    // Another import of the same files may have built it meanwhile.
    if is_complete(store, &rel, files)? {
        remove_tree(store, &staging_rel)?;
        return Ok(rel);
    }
    // An incomplete old view (after a crash) is replaced.
    remove_tree(store, &rel)?;
    if let Err(e) = fs.rename_beneath(root, &staging_rel, &rel) {
        // Lost a race with another build of the same view: fine if it is whole.
        if is_complete(store, &rel, files)? {
            remove_tree(store, &staging_rel)?;
            return Ok(rel);
        }
        return Err(store.error(&rel, e));
    }
    store.sync_dir(VIEWS_DIR)?;
    Ok(rel)
}

/// Whether the view at `rel` has every file, each the very blob (same inode).
pub(crate) fn is_complete(store: &Store, rel: &str, files: &[ManifestFile]) -> Result<bool> {
    let fs = &store.fs;
    for f in files {
        let path = confined(store, &format!("{rel}/{}", f.path))?;
        let blob = store.path(Object::Blob(f.digest));
        let (Some(link), Some(blob)) = (
            fs.metadata(&path, false).map_err(|e| Error::io(&path, e))?,
            fs.metadata(&blob, false).map_err(|e| Error::io(&blob, e))?,
        ) else {
            return Ok(false);
        };
        if link.kind != FileKind::File || link.inode != blob.inode {
            return Ok(false);
        }
    }
    Ok(true)
}
