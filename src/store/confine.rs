//! Path safety: every path the store writes or deletes stays under the
//! root and never passes through a symlink.
//!
//! Relative paths are checked lexically first (no absolute paths, no `..`,
//! `.` or empty components, no backslashes), then every component below the
//! root is looked up without following symlinks: the store never creates
//! symlinks, so finding one means someone else put it there, and it is
//! refused whether it points inside the root or out of it. The root itself
//! may be a symlink (for example `~/.cache/models` → `/data/models`).
//!
//! That check is for reading and for a typed refusal up front; a symlink
//! swapped in after it is caught by the `*_beneath` file operations every
//! write and removal goes through.

use super::Store;
use crate::entry::check_relative_path;
use crate::error::{Error, Result};
use crate::fs::FileKind;
use std::path::PathBuf;

/// The absolute path of `rel` under the root, after checking that it cannot
/// escape: lexically, and through no symlink on the way.
pub(crate) fn confined(store: &Store, rel: &str) -> Result<PathBuf> {
    check_relative_path("path", rel)
        .map_err(|e| unsafe_path(store.root().join(rel), e.to_string()))?;
    let mut path = store.root().to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        match store
            .fs
            .metadata(&path, false)
            .map_err(|e| Error::io(&path, e))?
        {
            Some(meta) if meta.kind == FileKind::Symlink => {
                return Err(unsafe_path(
                    path,
                    "a symlink inside the catalog root (the store never makes one; it may lead \
                     outside the root)"
                        .into(),
                ));
            }
            Some(_) => {}
            None => {
                // Nothing further exists, so nothing further can be a link.
                return Ok(store.root().join(rel));
            }
        }
    }
    Ok(path)
}

/// Removes `rel` (a file, or a directory and everything in it) without
/// following any symlink: a path through a symlink is refused before
/// anything is removed, and the removal itself goes through directory
/// handles ([`crate::fs::Fs::remove_tree_beneath`]), so a directory swapped
/// for a symlink meanwhile is never entered; a link found inside is removed
/// as a link. Returns the number of files removed.
pub(crate) fn remove_tree(store: &Store, rel: &str) -> Result<u64> {
    confined(store, rel)?;
    store
        .fs
        .remove_tree_beneath(store.root(), rel)
        .map_err(|e| store.error(rel, e))
}

fn unsafe_path(path: PathBuf, reason: String) -> Error {
    Error::UnsafePath { path, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;
    use std::sync::Arc;

    #[test]
    fn escapes_and_symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("views/v")).unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("views/out")).unwrap();
        std::os::unix::fs::symlink(root.join("views/v"), root.join("views/in")).unwrap();
        let store = Store::new(Arc::new(StdFs), &root);
        for bad in [
            "../x",
            "/etc/passwd",
            "views/../../x",
            "views/out/secret",
            "views/in",
            "views/out",
            "a//b",
            "",
        ] {
            let err = confined(&store, bad).unwrap_err();
            assert!(matches!(err, Error::UnsafePath { .. }), "{bad}: {err}");
        }
        assert_eq!(
            confined(&store, "views/v/new").unwrap(),
            root.join("views/v/new")
        );
        // Removing through a symlink is refused and the target survives.
        assert!(remove_tree(&store, "views/out/secret").is_err());
        assert!(outside.path().join("secret").exists());
    }

    #[test]
    fn remove_tree_removes_links_not_their_targets() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"k").unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("views/v/sub")).unwrap();
        std::fs::write(root.join("views/v/sub/a"), b"a").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("views/v/sub/link")).unwrap();
        let store = Store::new(Arc::new(StdFs), &root);
        assert_eq!(remove_tree(&store, "views/v").unwrap(), 2);
        assert!(!root.join("views/v").exists());
        assert!(
            outside.path().join("keep").exists(),
            "the link's target is untouched"
        );
    }
}
