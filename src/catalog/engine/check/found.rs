//! What the check finds where a file should be, told from its metadata
//! alone: a regular file, nothing, a symlink to nothing, or something else
//! named by what it is (a FIFO, a socket, a device, a directory). The
//! check never opens such a file: opening a FIFO for reading blocks until
//! a writer comes, and a device may be anything.

use crate::fs::{FileKind, Fs};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// What is at a path.
pub(super) enum Found {
    /// A regular file.
    File,
    /// Nothing.
    Missing,
    /// A symlink whose target is missing (only when links are followed).
    Dangling,
    /// Something that is not a regular file: `a FIFO`, `a directory`, ….
    Other(&'static str),
    /// Its metadata could not be read.
    Unreadable(String),
    /// A view with a link missing or not its blob's (only for views).
    Incomplete,
}

impl Found {
    /// Looks at `path` (following symlinks if `follow`), by its metadata.
    pub(super) fn at(fs: &dyn Fs, path: &Path, follow: bool) -> Found {
        match fs.metadata(path, follow) {
            Ok(Some(m)) if m.kind == FileKind::File => Found::File,
            Ok(Some(m)) => Found::Other(kind_name(path, m.kind, follow)),
            Ok(None) if follow && is_symlink(fs, path) => Found::Dangling,
            Ok(None) => Found::Missing,
            Err(e) => Found::Unreadable(e.to_string()),
        }
    }

    /// Whether nothing is there (or a link leads to nothing).
    pub(super) fn is_gone(&self) -> bool {
        matches!(self, Found::Missing | Found::Dangling)
    }

    /// How it reads after a path: `is missing`, `is a FIFO, not a regular
    /// file`, ….
    pub(super) fn describe(&self) -> String {
        match self {
            Found::File => "is a regular file".into(),
            Found::Missing => "is missing".into(),
            Found::Dangling => "is a symbolic link whose target is missing".into(),
            Found::Other(kind) => format!("is {kind}, not a regular file"),
            Found::Unreadable(e) => format!("cannot be looked at ({e})"),
            Found::Incomplete => "is missing or incomplete".into(),
        }
    }
}

fn is_symlink(fs: &dyn Fs, path: &Path) -> bool {
    fs.metadata(path, false)
        .ok()
        .flatten()
        .is_some_and(|m| m.kind == FileKind::Symlink)
}

/// What a non-regular file is, in words. `FileKind::Other` is named from
/// the file type the disk reports (metadata again, never an open).
fn kind_name(path: &Path, kind: FileKind, follow: bool) -> &'static str {
    match kind {
        FileKind::File => "a regular file",
        FileKind::Dir => "a directory",
        FileKind::Symlink => "a symbolic link",
        FileKind::Other => {
            let meta = if follow {
                std::fs::metadata(path)
            } else {
                std::fs::symlink_metadata(path)
            };
            match meta.map(|m| m.file_type()) {
                Ok(t) if t.is_fifo() => "a FIFO",
                Ok(t) if t.is_socket() => "a socket",
                Ok(t) if t.is_char_device() => "a character device",
                Ok(t) if t.is_block_device() => "a block device",
                _ => "a special file (a FIFO, socket or device)",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;

    #[test]
    fn each_kind_is_named_from_metadata_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("file"), b"x").unwrap();
        std::fs::create_dir(dir.join("dir")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket")).unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.join("device")).unwrap();
        std::os::unix::fs::symlink(dir.join("nothing"), dir.join("dangling")).unwrap();
        let fs = StdFs;
        let seen = |name: &str, follow: bool| Found::at(&fs, &dir.join(name), follow).describe();
        assert_eq!(seen("file", true), "is a regular file");
        assert_eq!(seen("dir", true), "is a directory, not a regular file");
        assert_eq!(seen("socket", true), "is a socket, not a regular file");
        assert_eq!(
            seen("device", true),
            "is a character device, not a regular file"
        );
        assert_eq!(
            seen("device", false),
            "is a symbolic link, not a regular file"
        );
        assert_eq!(
            seen("dangling", true),
            "is a symbolic link whose target is missing"
        );
        assert_eq!(
            seen("dangling", false),
            "is a symbolic link, not a regular file"
        );
        assert_eq!(seen("nothing", true), "is missing");
        assert!(Found::at(&fs, &dir.join("nothing"), false).is_gone());
    }
}
