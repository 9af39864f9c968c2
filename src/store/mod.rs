//! The content-addressed model store under the catalog root.
//!
//! ```text
//! <root>/blobs/sha256/<64 hex>   each distinct file, once, read-only
//! <root>/blobs/tmp/<name>.tmp    files being staged by an import
//! <root>/views/<64 hex>/…        a multi-file model as a directory of hard
//!                                links to its blobs, named by the digest of
//!                                its manifest (so identical models share it)
//! ```
//! Every path the store writes or deletes is relative to the root and goes
//! through the file system's `*_beneath` operations, which open one
//! directory at a time without following symlinks: nothing outside the
//! root is touched, even by a process that swaps a directory for a symlink
//! while the store works. Paths from the journal are checked lexically
//! first ([`confine`]), and every operation starts by refusing a store
//! directory that is a symlink ([`Store::check_layout`]).

pub(crate) mod confine;
pub(crate) mod gc;
pub(crate) mod ingest;
pub(crate) mod intent;
pub(crate) mod kept;
pub(crate) mod manifest;
pub(crate) mod overlap;
pub(crate) mod put_back;
pub(crate) mod root_overlap;
pub(crate) mod usage;
pub(crate) mod view;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::{FileKind, Fs, is_not_beneath};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Directory of blobs, relative to the root.
pub const BLOBS_DIR: &str = "blobs/sha256";
/// Directory of staged files, relative to the root.
pub const STAGING_DIR: &str = "blobs/tmp";
/// Directory of views, relative to the root.
pub const VIEWS_DIR: &str = "views";
/// Parent of the blob and staging directories, relative to the root.
pub const BLOBS_PARENT: &str = "blobs";

/// Every directory of the store layout, parents first.
const LAYOUT: [&str; 4] = [BLOBS_PARENT, BLOBS_DIR, STAGING_DIR, VIEWS_DIR];

/// A file or directory the store owns, recognised from its relative path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Object {
    /// `blobs/sha256/<hex>`
    Blob(Digest),
    /// `views/<hex>`
    View(Digest),
}

impl Object {
    /// The object a catalog-relative path names, if it names one.
    pub(crate) fn from_rel(rel: &str) -> Option<Object> {
        if let Some(hex) = rel.strip_prefix("blobs/sha256/") {
            return parse_hex(hex).map(Object::Blob);
        }
        rel.strip_prefix("views/")
            .and_then(parse_hex)
            .map(Object::View)
    }

    /// The catalog-relative path of the object.
    pub(crate) fn rel(&self) -> String {
        match self {
            Object::Blob(d) => format!("{BLOBS_DIR}/{}", d.hex()),
            Object::View(d) => format!("{VIEWS_DIR}/{}", d.hex()),
        }
    }
}

fn parse_hex(hex: &str) -> Option<Digest> {
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    format!("sha256:{hex}").parse().ok()
}

/// Paths of the store under one root.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub fs: Arc<dyn Fs>,
    root: PathBuf,
}

impl Store {
    pub(crate) fn new(fs: Arc<dyn Fs>, root: &Path) -> Self {
        Store {
            fs,
            root: root.to_path_buf(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path(&self, object: Object) -> PathBuf {
        self.root.join(object.rel())
    }

    pub(crate) fn blobs_dir(&self) -> PathBuf {
        self.root.join(BLOBS_DIR)
    }

    pub(crate) fn staging_dir(&self) -> PathBuf {
        self.root.join(STAGING_DIR)
    }

    pub(crate) fn views_dir(&self) -> PathBuf {
        self.root.join(VIEWS_DIR)
    }

    /// The error for a failed operation on `rel`: a refusal to follow a
    /// symlink is [`Error::UnsafePath`] (nothing was written), anything
    /// else an I/O error on the path.
    pub(crate) fn error(&self, rel: &str, e: io::Error) -> Error {
        let path = self.root.join(rel);
        if is_not_beneath(&e) {
            Error::UnsafePath {
                path,
                reason: format!(
                    "{e}: a symlink inside the catalog root (the store never makes one; it may \
                     lead outside the root)"
                ),
            }
        } else {
            Error::io(path, e)
        }
    }

    /// Refuses (with [`Error::UnsafePath`], before anything is written) a
    /// store whose layout directories (`blobs`, `blobs/sha256`,
    /// `blobs/tmp`, `views`) are symlinks or not directories. Missing ones
    /// are fine. Every operation that writes or removes store files starts
    /// here; the `*_beneath` operations then keep a later swap from
    /// redirecting it.
    pub(crate) fn check_layout(&self) -> Result<()> {
        for rel in LAYOUT {
            let path = self.root.join(rel);
            match self
                .fs
                .metadata(&path, false)
                .map_err(|e| Error::io(&path, e))?
            {
                Some(m) if m.kind == FileKind::Symlink => {
                    return Err(Error::UnsafePath {
                        path,
                        reason: "a store directory is a symlink (the store never makes one; it \
                                 may lead outside the root); replace it with the directory"
                            .into(),
                    });
                }
                Some(m) if m.kind != FileKind::Dir => {
                    return Err(Error::UnsafePath {
                        path,
                        reason: "a store directory is not a directory".into(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Creates the store's directories (durably), after checking the layout.
    pub(crate) fn create_dirs(&self) -> Result<()> {
        self.check_layout()?;
        for rel in LAYOUT {
            let exists = self
                .fs
                .metadata_beneath(&self.root, rel)
                .map_err(|e| self.error(rel, e))?
                .is_some();
            if !exists {
                self.fs
                    .create_dir_all_beneath(&self.root, rel)
                    .map_err(|e| self.error(rel, e))?;
                let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
                self.sync_dir(parent)?;
            }
        }
        self.sync_dir(BLOBS_PARENT)
    }

    /// fsync of the store directory `rel` (`""`: the root).
    pub(crate) fn sync_dir(&self, rel: &str) -> Result<()> {
        self.fs
            .sync_dir_beneath(&self.root, rel)
            .map_err(|e| self.error(rel, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_round_trip_through_their_paths_and_lookalikes_are_not_objects() {
        let d = Digest::of_bytes(b"x");
        for o in [Object::Blob(d), Object::View(d)] {
            assert_eq!(Object::from_rel(&o.rel()), Some(o));
        }
        for bad in [
            "blobs/x".to_string(),
            format!("blobs/sha256/{}", d.hex().to_uppercase()),
            format!("blobs/sha256/{}/x", d.hex()),
            format!("views/{}", &d.hex()[1..]),
            format!("../views/{}", d.hex()),
        ] {
            assert_eq!(Object::from_rel(&bad), None, "{bad}");
        }
    }
}
