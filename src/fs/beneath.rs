//! The `*_beneath` operations of [`StdFs`]: every path below the root is
//! reached by opening one directory at a time, relative to the previous
//! one, with `O_NOFOLLOW | O_DIRECTORY`, and the final step acts relative
//! to the handle of its directory (`openat`, `unlinkat`, `renameat2`,
//! `linkat`, `mkdirat`). A symlink swapped in for a directory at any moment
//! makes the open fail (`ENOTDIR`/`ELOOP`), so no step ever leaves the
//! tree the walk started in. The root itself is opened following symlinks.

use super::foreign::{DirId, open_exact_dir};
use super::meta::meta_of;
use super::std_fs::StdFile;
use super::{FsFile, Meta, StdFs, components, not_beneath};
use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Flags for every directory opened on the way.
const DIR: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Deepest tree [`StdFs::remove_tree_beneath`] descends (one open handle
/// per level); the store's own trees are a few levels deep.
const MAX_DEPTH: usize = 128;

/// How often a removal looks again at an entry that changed kind under it.
const MAX_RETRIES: usize = 8;

fn open_root(root: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        CWD,
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Opens the directory `name` in `dir` without following a symlink; a
/// symlink there is [`not_beneath`] (`shown` names it in the error).
fn open_dir_at(dir: BorrowedFd<'_>, name: &str, shown: &str) -> io::Result<OwnedFd> {
    super::foreign::open_subdir(dir, name.as_ref(), Path::new(shown))
}

/// Opens the directory `root/parts…`.
fn open_dir(root: &Path, parts: &[&str]) -> io::Result<OwnedFd> {
    let mut fd = open_root(root)?;
    for (i, part) in parts.iter().enumerate() {
        fd = open_dir_at(fd.as_fd(), part, &parts[..=i].join("/"))?;
    }
    Ok(fd)
}

/// Opens the directory holding `rel` and returns it with `rel`'s last name.
pub(super) fn open_parent<'a>(root: &Path, rel: &'a str) -> io::Result<(OwnedFd, &'a str)> {
    let parts = components(rel)?;
    let Some((last, dirs)) = parts.split_last() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an empty path names no entry",
        ));
    };
    Ok((open_dir(root, dirs)?, last))
}

/// Names in the directory `dir` (not `.` and `..`), read before any is
/// removed: a directory stream is not stable under removal.
fn names(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    let mut out = Vec::new();
    for entry in Dir::read_from(dir)? {
        let name = entry?.file_name().to_owned();
        if name.as_bytes() != b"." && name.as_bytes() != b".." {
            out.push(name);
        }
    }
    Ok(out)
}

/// Removes the entry `name` of `dir`: a non-directory is unlinked (a
/// symlink as a link), a directory is opened without following, emptied
/// through its handle and removed. Counts non-directories removed.
fn remove_at(dir: BorrowedFd<'_>, name: &CStr, depth: usize) -> io::Result<u64> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other(format!(
            "directory tree deeper than {MAX_DEPTH} levels; not removed"
        )));
    }
    for _ in 0..MAX_RETRIES {
        let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
            match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
                Ok(()) => return Ok(1),
                Err(Errno::NOENT) => return Ok(0),
                // It became a directory meanwhile: look again.
                Err(Errno::ISDIR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let sub = match rustix::fs::openat(dir, name, DIR, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(0),
            // Swapped for a symlink (or a file) meanwhile: look again, and
            // remove whatever is there now as what it is.
            Err(Errno::NOTDIR | Errno::LOOP) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut removed = 0;
        for child in names(sub.as_fd())? {
            removed += remove_at(sub.as_fd(), &child, depth + 1)?;
        }
        match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => return Ok(removed),
            // The name now holds something else (the directory we emptied
            // was exchanged away): remove what is there now.
            Err(Errno::NOTDIR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other(
        "an entry kept changing kind while it was being removed; not removed",
    ))
}

/// `renameat2` with `RENAME_NOREPLACE`; where the file system does not
/// support the flag, `linkat` (which never replaces) then `unlinkat`.
pub(super) fn rename_noreplace(
    from_dir: BorrowedFd<'_>,
    from: &Path,
    to_dir: BorrowedFd<'_>,
    to: &Path,
) -> io::Result<()> {
    match rustix::fs::renameat_with(from_dir, from, to_dir, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::INVAL | Errno::NOSYS) => {
            rustix::fs::linkat(from_dir, from, to_dir, to, AtFlags::empty())?;
            Ok(rustix::fs::unlinkat(from_dir, from, AtFlags::empty())?)
        }
        Err(e) => Err(e.into()),
    }
}

impl StdFs {
    pub(super) fn metadata_beneath_impl(&self, root: &Path, rel: &str) -> io::Result<Option<Meta>> {
        let found = open_parent(root, rel).and_then(|(dir, name)| {
            Ok(rustix::fs::openat(
                &dir,
                name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?)
        });
        match found {
            Ok(fd) => Ok(Some(meta_of(&File::from(fd).metadata()?))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) fn create_dir_all_beneath_impl(&self, root: &Path, rel: &str) -> io::Result<()> {
        let parts = components(rel)?;
        let mut fd = open_root(root)?;
        for (i, part) in parts.iter().enumerate() {
            let shown = parts[..=i].join("/");
            fd = match open_dir_at(fd.as_fd(), part, &shown) {
                Ok(next) => next,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match rustix::fs::mkdirat(&fd, *part, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    open_dir_at(fd.as_fd(), part, &shown)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(())
    }

    pub(super) fn create_new_beneath_impl(
        &self,
        root: &Path,
        rel: &str,
    ) -> io::Result<Box<dyn FsFile>> {
        let (dir, name) = open_parent(root, rel)?;
        // O_EXCL: never an existing file, never through a final symlink.
        // Readable by the catalog's user only: a staged copy of a private
        // source must not be readable while it is staged (its mode is set
        // to the source's read bits when it is published).
        let fd = rustix::fs::openat(
            &dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        Ok(Box::new(StdFile(File::from(fd))))
    }

    pub(super) fn rename_beneath_impl(&self, root: &Path, from: &str, to: &str) -> io::Result<()> {
        let (from_dir, from_name) = open_parent(root, from)?;
        let (to_dir, to_name) = open_parent(root, to)?;
        Ok(rustix::fs::renameat(
            &from_dir, from_name, &to_dir, to_name,
        )?)
    }

    pub(super) fn hard_link_beneath_impl(
        &self,
        root: &Path,
        from: &str,
        to: &str,
    ) -> io::Result<()> {
        let (from_dir, from_name) = open_parent(root, from)?;
        let (to_dir, to_name) = open_parent(root, to)?;
        Ok(rustix::fs::linkat(
            &from_dir,
            from_name,
            &to_dir,
            to_name,
            AtFlags::empty(),
        )?)
    }

    pub(super) fn move_out_beneath_impl(
        &self,
        root: &Path,
        from: &str,
        dest: &Path,
        dir: Option<DirId>,
    ) -> io::Result<()> {
        let (parent, name) = match (dest.parent(), dest.file_name()) {
            (Some(parent), Some(name)) => (parent, name),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} names no file in a directory", dest.display()),
                ));
            }
        };
        let (from_dir, from_name) = open_parent(root, from)?;
        let to_dir = open_exact_dir(parent, dir)?;
        rename_noreplace(
            from_dir.as_fd(),
            Path::new(from_name),
            to_dir.as_fd(),
            Path::new(name),
        )
    }

    pub(super) fn remove_tree_beneath_impl(&self, root: &Path, rel: &str) -> io::Result<u64> {
        let (dir, name) = match open_parent(root, rel) {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let name = CString::new(name).map_err(io::Error::other)?;
        remove_at(dir.as_fd(), &name, 0)
    }

    pub(super) fn sync_dir_beneath_impl(&self, root: &Path, rel: &str) -> io::Result<()> {
        let fd = open_dir(root, &components(rel)?)?;
        Ok(rustix::fs::fsync(&fd)?)
    }

    pub(super) fn set_readonly_beneath_impl(
        &self,
        root: &Path,
        rel: &str,
        readable: u32,
    ) -> io::Result<()> {
        let (dir, name) = open_parent(root, rel)?;
        let fd = match rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(not_beneath(rel)),
            Err(e) => return Err(e.into()),
        };
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{rel} is not a regular file"),
            ));
        }
        Ok(rustix::fs::fchmod(
            &file,
            Mode::from_raw_mode(readable & 0o444),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{FileKind, ForeignPath, Fs, is_not_beneath};
    use std::os::unix::fs::{MetadataExt, symlink};

    fn world() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root");
        let outside = base.path().join("outside");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("victim"), b"v").unwrap();
        symlink(&outside, root.join("a/out")).unwrap();
        (base, root, outside)
    }

    #[test]
    fn no_operation_passes_through_a_symlink_below_the_root() {
        let (_base, root, outside) = world();
        let fs = StdFs;
        let refused = [
            fs.metadata_beneath(&root, "a/out/victim").map(|_| ()),
            fs.create_dir_all_beneath(&root, "a/out/new"),
            fs.create_new_beneath(&root, "a/out/new").map(|_| ()),
            fs.rename_beneath(&root, "a/out/victim", "a/b/x"),
            fs.hard_link_beneath(&root, "a/out/victim", "a/b/x"),
            fs.open_foreign(ForeignPath::named(&outside.join("victim")))
                .and_then(|f| f.move_in(&root, "a/out/x")),
            fs.open_foreign(ForeignPath::named(&outside.join("victim")))
                .and_then(|f| f.link_in(&root, "a/out/x")),
            fs.move_out_beneath(&root, "a/out/victim", &root.join("x"), None),
            fs.remove_tree_beneath(&root, "a/out/victim").map(|_| ()),
            fs.sync_dir_beneath(&root, "a/out"),
            fs.set_readonly_beneath(&root, "a/out/victim", 0o444),
            fs.set_readonly_beneath(&root, "a/out", 0o444),
        ];
        for (i, r) in refused.into_iter().enumerate() {
            let err = r.expect_err("refused");
            assert!(is_not_beneath(&err), "operation {i}: {err}");
        }
        assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"v");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_met_in_a_removed_tree_is_removed_as_a_link() {
        let (_base, root, outside) = world();
        std::fs::write(root.join("a/b/f"), b"f").unwrap();
        assert_eq!(StdFs.remove_tree_beneath(&root, "a").unwrap(), 2);
        assert!(!root.join("a").exists());
        assert!(outside.join("victim").exists(), "the target is untouched");
        assert_eq!(StdFs.remove_tree_beneath(&root, "a").unwrap(), 0);
    }

    #[test]
    fn creation_linking_and_moving_work_below_the_root() {
        let (base, root, _outside) = world();
        let fs = StdFs;
        fs.create_dir_all_beneath(&root, "x/y/z").unwrap();
        let mut f = fs.create_new_beneath(&root, "x/y/z/f").unwrap();
        f.write_all(b"bytes").unwrap();
        f.sync_data().unwrap();
        let err = fs
            .create_new_beneath(&root, "x/y/z/f")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        fs.hard_link_beneath(&root, "x/y/z/f", "a/b/g").unwrap();
        assert_eq!(
            fs.metadata_beneath(&root, "a/b/g").unwrap().unwrap().nlink,
            2
        );
        fs.set_readonly_beneath(&root, "a/b/g", 0o444).unwrap();
        let meta = std::fs::metadata(root.join("x/y/z/f")).unwrap();
        assert!(meta.permissions().readonly());
        fs.rename_beneath(&root, "a/b/g", "x/h").unwrap();
        let src = base.path().join("src");
        std::fs::write(&src, b"s").unwrap();
        fs.open_foreign(ForeignPath::named(&src))
            .unwrap()
            .move_in(&root, "x/s")
            .unwrap();
        assert!(!src.exists());
        let taken = fs
            .open_foreign(ForeignPath::named(&root.join("x/h")))
            .unwrap()
            .move_in(&root, "x/s")
            .unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AlreadyExists);
        std::fs::write(&src, b"new file at the old path").unwrap();
        let taken = fs.move_out_beneath(&root, "x/s", &src, None).unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AlreadyExists, "never replaces");
        assert_eq!(std::fs::read(&src).unwrap(), b"new file at the old path");
        std::fs::remove_file(&src).unwrap();
        fs.move_out_beneath(&root, "x/s", &src, None).unwrap();
        assert_eq!(std::fs::read(&src).unwrap(), b"s");
        let gone = fs.move_out_beneath(&root, "x/h", &base.path().join("no/dir/f"), None);
        assert_eq!(gone.unwrap_err().kind(), io::ErrorKind::NotFound);
        fs.open_foreign(ForeignPath::named(&src))
            .unwrap()
            .link_in(&root, "x/linked")
            .unwrap();
        assert_eq!(std::fs::metadata(&src).unwrap().nlink(), 2);
        assert_eq!(
            fs.metadata_beneath(&root, "a/out").unwrap().unwrap().kind,
            FileKind::Symlink
        );
        assert!(fs.metadata_beneath(&root, "nope/x").unwrap().is_none());
        fs.sync_dir_beneath(&root, "").unwrap();
        for bad in ["", "/x", "x/../y", "./x", "x//y"] {
            let err = fs.remove_tree_beneath(&root, bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
