//! The content-addressed model store under the catalog root.
//!
//! ```text
//! <root>/blobs/sha256/<64 hex>   each distinct file, once, read-only
//! <root>/blobs/tmp/<name>.tmp    files being staged by an import
//! <root>/views/<64 hex>/…        a multi-file model as a directory of hard
//!                                links to its blobs, named by the digest of
//!                                its manifest (so identical models share it)
//! ```
//! Every path the store writes or deletes is built by [`Store`] from a
//! digest or checked by [`confine`]: nothing outside the root is touched
//! and no symlink is followed out of it.

pub(crate) mod confine;
pub(crate) mod gc;
pub(crate) mod ingest;
pub(crate) mod manifest;
pub(crate) mod usage;
pub(crate) mod view;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::Fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Directory of blobs, relative to the root.
pub const BLOBS_DIR: &str = "blobs/sha256";
/// Directory of staged files, relative to the root.
pub const STAGING_DIR: &str = "blobs/tmp";
/// Directory of views, relative to the root.
pub const VIEWS_DIR: &str = "views";

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

    /// Creates the store's directories (durably).
    pub(crate) fn create_dirs(&self) -> Result<()> {
        for dir in [self.blobs_dir(), self.staging_dir(), self.views_dir()] {
            if self
                .fs
                .metadata(&dir, false)
                .map_err(|e| Error::io(&dir, e))?
                .is_none()
            {
                self.fs
                    .create_dir_all(&dir)
                    .map_err(|e| Error::io(&dir, e))?;
                let parent = dir.parent().unwrap_or(&self.root);
                self.fs.sync_dir(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        let blobs = self.root.join("blobs");
        self.fs.sync_dir(&blobs).map_err(|e| Error::io(&blobs, e))?;
        Ok(())
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
