//! A source of model files must lie outside the catalog root, and must not
//! contain it: adopting the root registered its live journal segment and
//! `LOCK` as blobs (the next append broke their digest), and an entry
//! registered in place could name a blob that gc later deletes. Adoption
//! (`adopt::settle`) and import (`Catalog::import`) both refuse, before
//! anything is written, a source that is the root, lies beneath it or
//! contains it, and any file to read that lies inside it.
//!
//! Paths are compared resolved (`canonicalize`: no `..`, every symlink
//! followed), and by the root directory's device and inode, so a second
//! path to the root — a symlinked parent, a bind mount — is caught too: a
//! path is inside the root when it, or a directory above it, is the root's
//! inode. A path that cannot be resolved (a catalog on another file-system
//! implementation than the disk's, as in tests) is compared by its
//! absolute form, names alone.

pub use super::overlap::RootOverlap;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Device and inode: what a directory is, whatever the path to it.
type Ident = (u64, u64);

/// The catalog root as sources are compared with it.
pub(crate) struct RootGuard {
    /// The root, resolved (or absolute, if it cannot be).
    root: PathBuf,
    /// The root directory's device and inode, if it could be looked at.
    ident: Option<Ident>,
    /// Directories looked at already: whether each is the root's inode.
    is_root: HashMap<PathBuf, bool>,
}

impl RootGuard {
    /// The guard of the catalog root `root`.
    pub(crate) fn new(root: &Path) -> RootGuard {
        let resolved = resolve(root);
        let ident = ident_of(&resolved);
        RootGuard {
            root: resolved,
            ident,
            is_root: HashMap::new(),
        }
    }

    /// Refuses a source given to read models from (a directory or file)
    /// that is the root, lies beneath it or contains it.
    pub(crate) fn refuse_source(&mut self, path: &Path) -> Result<()> {
        let resolved = resolve(path);
        if let Some(overlap) = self.beneath(&resolved) {
            return Err(self.refusal(path, resolved, overlap));
        }
        if self.contains(&resolved) {
            return Err(self.refusal(path, resolved, RootOverlap::Contains));
        }
        Ok(())
    }

    /// Refuses a file to read (through whatever links lead to it) that
    /// lies inside the root.
    pub(crate) fn refuse_file(&mut self, path: &Path) -> Result<()> {
        let resolved = resolve(path);
        match self.beneath(&resolved) {
            Some(overlap) => Err(self.refusal(path, resolved, overlap)),
            None => Ok(()),
        }
    }

    /// Whether `resolved` is the root or lies beneath it: by name, or by
    /// the inode of it or a directory above it.
    fn beneath(&mut self, resolved: &Path) -> Option<RootOverlap> {
        let hit = if resolved.starts_with(&self.root) {
            Some(self.root.clone())
        } else {
            self.root_at_or_above(resolved)
        };
        hit.map(|dir| {
            if dir == resolved {
                RootOverlap::Root
            } else {
                RootOverlap::Inside
            }
        })
    }

    /// `resolved` or the directory above it that is the root's inode.
    fn root_at_or_above(&mut self, resolved: &Path) -> Option<PathBuf> {
        let ident = self.ident?;
        resolved
            .ancestors()
            .find(|dir| {
                *self
                    .is_root
                    .entry(dir.to_path_buf())
                    .or_insert_with(|| ident_of(dir) == Some(ident))
            })
            .map(Path::to_path_buf)
    }

    /// Whether `resolved` is a directory above the root: by name, or by
    /// its inode being one of the root's parents'.
    fn contains(&self, resolved: &Path) -> bool {
        if self.root.starts_with(resolved) {
            return true;
        }
        let Some(ident) = ident_of(resolved) else {
            return false;
        };
        self.root
            .ancestors()
            .skip(1)
            .any(|dir| ident_of(dir) == Some(ident))
    }

    fn refusal(&self, path: &Path, resolved: PathBuf, overlap: RootOverlap) -> Error {
        Error::CatalogRootOverlap {
            path: path.to_path_buf(),
            resolved,
            root: self.root.clone(),
            overlap,
        }
    }
}

/// `path` resolved by the disk, else its absolute form.
fn resolve(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The device and inode of the directory (or file) at `path`.
fn ident_of(path: &Path) -> Option<Ident> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_the_root_inside_it_or_containing_it_by_name_or_by_inode() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a/root");
        std::fs::create_dir_all(root.join("blobs")).unwrap();
        std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("a"), tmp.path().join("link")).unwrap();
        let mut guard = RootGuard::new(&root);
        let overlap = |g: &mut RootGuard, p: &Path| match g.refuse_source(p) {
            Err(Error::CatalogRootOverlap { overlap, .. }) => Some(overlap),
            Err(e) => panic!("{e}"),
            Ok(()) => None,
        };
        assert_eq!(overlap(&mut guard, &root), Some(RootOverlap::Root));
        assert_eq!(
            overlap(&mut guard, &root.join("blobs")),
            Some(RootOverlap::Inside)
        );
        assert_eq!(
            overlap(&mut guard, &root.join("blobs/../blobs")),
            Some(RootOverlap::Inside)
        );
        assert_eq!(
            overlap(&mut guard, &tmp.path().join("a")),
            Some(RootOverlap::Contains)
        );
        assert_eq!(
            overlap(&mut guard, &tmp.path().join("link/root")),
            Some(RootOverlap::Root)
        );
        assert_eq!(overlap(&mut guard, &tmp.path().join("elsewhere")), None);
        // A sibling whose name starts like the root's is not inside it.
        std::fs::create_dir_all(tmp.path().join("a/rootless")).unwrap();
        assert_eq!(overlap(&mut guard, &tmp.path().join("a/rootless")), None);
    }

    #[test]
    fn paths_that_do_not_resolve_are_compared_by_name() {
        let mut guard = RootGuard::new(Path::new("/no-such-dir-here/cat"));
        assert!(
            guard
                .refuse_file(Path::new("/no-such-dir-here/cat/x"))
                .is_err()
        );
        assert!(guard.refuse_source(Path::new("/no-such-dir-here")).is_err());
        assert!(guard.refuse_file(Path::new("/src/model.gguf")).is_ok());
    }
}
