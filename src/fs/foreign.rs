//! Files that belong to someone else — a user's model directory, a Hugging
//! Face cache, an Ollama store, a file registered in place — opened once,
//! by handle, and used only through that handle afterwards.
//!
//! [`Fs::open_foreign`](super::Fs::open_foreign) opens the tree's top
//! directory as its caller named it, then every directory below it with
//! `O_NOFOLLOW | O_DIRECTORY`, then the file with `O_NOFOLLOW | O_NONBLOCK`
//! (a FIFO never blocks the open), and `fstat`s the descriptor: a regular
//! file, or a refusal. A final symlink is followed only as its
//! [`Links`] allows: inside the tree (`openat2` with `RESOLVE_BENEATH`), or,
//! for a file its caller named, wherever it leads — and such a file is only
//! ever copied, never linked or moved.
//!
//! Everything after the open works on the handles: its bytes are read with
//! `pread` on the descriptor, a hard link or a move starts from the held
//! directory (`linkat`/`renameat` of the name in it) and is then checked to
//! have taken this very inode (else undone, and refused), and a reflink
//! clones the descriptor. Another process that swaps a directory for a
//! symlink, or a file for another, after the open changes nothing the
//! catalog does.

use super::meta::meta_of;
use super::{Meta, not_beneath};
use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

/// The identity of a directory: its device and inode numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DirId {
    /// Device number (`st_dev`).
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
}

/// Which symlink a [`ForeignPath`] may end in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// One that resolves inside the tree (`RESOLVE_BENEATH`); one that
    /// leads out of it is refused ([`super::is_not_beneath`]).
    Inside,
    /// Any: the caller named this very path. The file reached is only
    /// ever copied.
    Named,
}

/// A file of someone else's: `rel` inside the directory `tree`.
#[derive(Clone, Copy, Debug)]
pub struct ForeignPath<'a> {
    /// The directory the file belongs to, opened as named (symlinks in it
    /// followed: the caller chose it).
    pub tree: &'a Path,
    /// The file's path in it: plain names, no `..`; no directory on the
    /// way may be a symlink.
    pub rel: &'a Path,
    /// Which final symlink may be followed.
    pub links: Links,
}

impl<'a> ForeignPath<'a> {
    /// `rel` inside `tree`; a final symlink must resolve inside `tree`.
    pub fn inside(tree: &'a Path, rel: &'a Path) -> Self {
        ForeignPath {
            tree,
            rel,
            links: Links::Inside,
        }
    }

    /// The file `path` its caller named: its directory as named, its final
    /// name followed if it is a symlink (then only ever copied).
    pub fn named(path: &'a Path) -> Self {
        let (tree, rel) = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => (
                if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                },
                Path::new(name),
            ),
            _ => (path, Path::new("")),
        };
        ForeignPath {
            tree,
            rel,
            links: Links::Named,
        }
    }

    /// The whole path, for messages.
    pub fn path(&self) -> PathBuf {
        self.tree.join(self.rel)
    }
}

/// A foreign file opened by [`Fs::open_foreign`](super::Fs::open_foreign).
pub trait ForeignFile: Send + Sync + fmt::Debug {
    /// The path it was opened by (for messages only: it is never used
    /// again to reach the file).
    fn path(&self) -> &Path;
    /// Its metadata now (`fstat` of the descriptor).
    fn meta(&self) -> io::Result<Meta>;
    /// Its bytes from the first (positioned reads: readers never share an
    /// offset).
    fn reader(&self) -> Box<dyn io::Read + Send + '_>;
    /// Whether it was reached through a final symlink (then it is only
    /// ever copied: [`ForeignFile::link_in`] and [`ForeignFile::move_in`]
    /// refuse).
    fn via_symlink(&self) -> bool;
    /// Its directory: the path the kernel knows it by (no symlink in it)
    /// and its identity, so a move intent can find it again, and only it.
    fn dir(&self) -> io::Result<(PathBuf, DirId)>;
    /// Creates `root/to` (never replacing) as another name of this very
    /// file: a link of its name in the held directory, then checked to be
    /// this inode (else removed, and [`is_changed`]).
    fn link_in(&self, root: &Path, to: &str) -> io::Result<()>;
    /// Moves this very file to `root/to` (never replacing): a rename of its
    /// name in the held directory, then checked to be this inode (else
    /// moved back, and [`is_changed`]). `CrossesDevices` if the store is
    /// on another file system.
    fn move_in(&self, root: &Path, to: &str) -> io::Result<()>;
    /// Creates the new file `root/to` sharing this file's data (a
    /// reflink); fails (leaving no file) where the file system cannot.
    fn clone_in(&self, root: &Path, to: &str) -> io::Result<()> {
        let _ = (root, to);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// The payload of the error for a file that is not a regular file.
#[derive(Debug)]
struct NotRegular(&'static str);

impl fmt::Display for NotRegular {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "is {}, not a regular file; not read", self.0)
    }
}

impl std::error::Error for NotRegular {}

/// The payload of the error for a file that changed under an operation.
#[derive(Debug)]
struct ChangedUnder(&'static str);

impl fmt::Display for ChangedUnder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ChangedUnder {}

/// The error for a file whose kind is `kind` (see [`kind_name`]).
pub fn not_regular(kind: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, NotRegular(kind))
}

/// Whether `err` says a file was not a regular file.
pub fn is_not_regular(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<NotRegular>())
}

/// The error for a file that changed while it was being read, linked or
/// moved.
pub fn changed(what: &'static str) -> io::Error {
    io::Error::other(ChangedUnder(what))
}

/// Whether `err` says a file changed under the operation.
pub fn is_changed(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<ChangedUnder>())
}

/// "a FIFO", "a directory", ... for a file type.
pub fn kind_name(ft: FileType) -> &'static str {
    match ft {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "of an unknown kind",
    }
}

/// Reads at most `max` bytes of the regular file `path` (a small file of
/// someone else's: a manifest, a ref, a file's magic), opened without
/// following a final symlink and without blocking: a FIFO, a device or a
/// directory put in its place is [`is_not_regular`], never waited on.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(CWD, path, FILE, Mode::empty())?;
    let file = File::from(fd);
    let ft = FileType::from_raw_mode(rustix::fs::fstat(&file)?.st_mode);
    if ft != FileType::RegularFile {
        return Err(not_regular(kind_name(ft)));
    }
    let mut out = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(&file, max), &mut out)?;
    Ok(out)
}

/// Flags of every directory opened on the way.
const DIR: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Flags of the file itself: a FIFO or a device never blocks the open, and
/// never becomes the controlling terminal.
const FILE: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

/// The plain names of `rel`, or `InvalidInput`.
fn names(rel: &Path) -> io::Result<Vec<&OsStr>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{}` is not a plain relative path", rel.display()),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an empty path names no file",
        ));
    }
    Ok(out)
}

/// Opens the directory `name` in `dir` without following a symlink.
pub(super) fn open_subdir(dir: BorrowedFd<'_>, name: &OsStr, shown: &Path) -> io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, DIR, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOTDIR | Errno::LOOP)
            if rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink) =>
        {
            Err(not_beneath(&shown.to_string_lossy()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The identity of the directory `fd`.
pub(super) fn dir_id(fd: BorrowedFd<'_>) -> io::Result<DirId> {
    let st = rustix::fs::fstat(fd)?;
    Ok(DirId {
        dev: st.st_dev,
        inode: st.st_ino,
    })
}

/// A foreign file on the real file system.
#[derive(Debug)]
pub(super) struct StdForeign {
    path: PathBuf,
    file: File,
    /// The directory holding `name` (reached without a symlink); `None`
    /// when the file was reached through a final symlink.
    dir: Option<(OwnedFd, std::ffi::OsString)>,
    dev: u64,
    inode: u64,
}

impl StdForeign {
    pub(super) fn open(at: ForeignPath<'_>) -> io::Result<StdForeign> {
        Self::open_at_depth(at, 0)
    }

    fn open_at_depth(at: ForeignPath<'_>, depth: usize) -> io::Result<StdForeign> {
        let parts = names(at.rel)?;
        let (last, dirs) = parts
            .split_last()
            .ok_or_else(|| io::Error::other("no name"))?;
        let tree = open_trusted_dir(at.tree)?;
        let mut dir = tree.try_clone()?;
        let mut shown = PathBuf::new();
        for part in dirs {
            shown.push(part);
            dir = open_subdir(dir.as_fd(), part, &shown)?;
        }
        let (fd, via_symlink) = match rustix::fs::openat(&dir, *last, FILE, Mode::empty()) {
            Ok(fd) => (fd, false),
            Err(Errno::LOOP) => (follow(&tree, &dir, last, at, depth)?, true),
            Err(e) => return Err(e.into()),
        };
        let file = File::from(fd);
        let st = rustix::fs::fstat(&file)?;
        let ft = FileType::from_raw_mode(st.st_mode);
        if ft != FileType::RegularFile {
            return Err(not_regular(kind_name(ft)));
        }
        Ok(StdForeign {
            path: at.path(),
            file,
            dir: (!via_symlink).then(|| (dir, last.to_os_string())),
            dev: st.st_dev,
            inode: st.st_ino,
        })
    }

    fn named_dir(&self) -> io::Result<(BorrowedFd<'_>, &OsStr)> {
        match &self.dir {
            Some((fd, name)) => Ok((fd.as_fd(), name.as_os_str())),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "reached through a symlink: only ever copied",
            )),
        }
    }

    /// Whether `root/to`'s parent `to_dir` holds this very inode as `name`.
    fn is_this(&self, to_dir: BorrowedFd<'_>, name: &str) -> bool {
        rustix::fs::statat(to_dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_ino == self.inode && st.st_dev == self.dev)
    }
}

/// Opens the final symlink `last` (in `dir`) as `at.links` allows.
fn follow(
    tree: &OwnedFd,
    dir: &OwnedFd,
    last: &OsStr,
    at: ForeignPath<'_>,
    depth: usize,
) -> io::Result<OwnedFd> {
    let flags = FILE.difference(OFlags::NOFOLLOW);
    match at.links {
        // Only a link nobody else could have put there, and the file it
        // names reached by the same rules.
        Links::Named => {
            trusted_link(dir.as_fd(), last, &at.path())?;
            if depth >= MAX_LINKS {
                return Err(Errno::LOOP.into());
            }
            let target = PathBuf::from(std::ffi::OsString::from_vec(
                rustix::fs::readlinkat(dir, last, Vec::new())?.into_bytes(),
            ));
            let target = if target.is_absolute() {
                target
            } else {
                kernel_path(dir.as_fd())?.join(target)
            };
            let file = StdForeign::open_at_depth(ForeignPath::named(&target), depth + 1)?;
            Ok(OwnedFd::from(file.file))
        }
        Links::Inside => match rustix::fs::openat2(
            tree,
            at.rel,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => Ok(fd),
            // Out of the tree (EXDEV), a loop, or a kernel without openat2:
            // never followed.
            Err(Errno::XDEV | Errno::LOOP | Errno::NOSYS | Errno::PERM) => {
                Err(not_beneath(&format!(
                    "{} (it leads out of {})",
                    at.rel.display(),
                    at.tree.display()
                )))
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// The path the kernel knows the directory `fd` by.
fn kernel_path(fd: BorrowedFd<'_>) -> io::Result<PathBuf> {
    let path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
    if !path.is_absolute() || path.to_string_lossy().ends_with(" (deleted)") {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the directory has no path any more",
        ));
    }
    Ok(path)
}

/// Refuses the symlink `name` in `dir` unless nobody but root or this
/// process's user could have put it there: it is owned by one of them, in
/// a directory that only they can write, or a sticky one (where only a
/// link's owner may replace it). `shown` names it in the error.
fn trusted_link(dir: BorrowedFd<'_>, name: &OsStr, shown: &Path) -> io::Result<()> {
    let euid = rustix::process::geteuid().as_raw();
    let ours = |uid: u32| uid == 0 || uid == euid;
    let link = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let parent = rustix::fs::fstat(dir)?;
    let parent_mode = parent.st_mode as u32;
    let closed = ours(parent.st_uid) && parent_mode & 0o022 == 0;
    let sticky = parent_mode & 0o1000 != 0;
    if ours(link.st_uid) && (closed || sticky) {
        return Ok(());
    }
    Err(not_beneath(&format!(
        "{} (owned by user {}, in a directory others can write: someone other than root or \
         this process's user could have put it there)",
        shown.display(),
        link.st_uid
    )))
}

/// Opens the directory `path` as its caller named it, from `/` (or the
/// current directory) one component at a time with `O_NOFOLLOW`: a symlink
/// on the way is followed only if [`trusted_link`] allows it (root's
/// `/home -> /data/home` is; a user's `models/m -> /root` is not), so
/// whoever can write a directory on the way cannot redirect the catalog.
pub(super) fn open_trusted_dir(path: &Path) -> io::Result<OwnedFd> {
    let path = std::path::absolute(path)?;
    let mut fd = rustix::fs::openat(CWD, "/", DIR, Mode::empty())?;
    let mut todo: std::collections::VecDeque<std::ffi::OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut shown = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        shown.push(&name);
        match rustix::fs::openat(&fd, &name, DIR, Mode::empty()) {
            Ok(next) => fd = next,
            Err(Errno::NOTDIR | Errno::LOOP)
                if rustix::fs::statat(&fd, &name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink) =>
            {
                trusted_link(fd.as_fd(), &name, &shown)?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::LOOP.into());
                }
                let target = PathBuf::from(std::ffi::OsString::from_vec(
                    rustix::fs::readlinkat(&fd, &name, Vec::new())?.into_bytes(),
                ));
                if target.is_absolute() {
                    fd = rustix::fs::openat(CWD, "/", DIR, Mode::empty())?;
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push_front(n.to_os_string()),
                        Component::ParentDir => todo.push_front("..".into()),
                        _ => {}
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(fd)
}

/// `path` as the catalog resolves a path its caller named: absolute, every
/// directory on the way reached as [`open_trusted_dir`] reaches it (only a
/// symlink nobody but root or this process's user could have put there is
/// followed) and named by the path the kernel knows it by; a final symlink
/// to a directory followed the same way; a final symlink to anything else
/// kept as it is (the file it names is opened, and only ever copied, as
/// [`ForeignPath::named`] says).
pub fn resolve_named(path: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        return kernel_path(open_trusted_dir(&abs)?.as_fd());
    };
    let dir = open_trusted_dir(parent)?;
    let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => kernel_path(open_subdir(dir.as_fd(), name, &abs)?.as_fd()),
        FileType::Symlink => {
            trusted_link(dir.as_fd(), name, &abs)?;
            match open_trusted_dir(&abs) {
                Ok(fd) => kernel_path(fd.as_fd()),
                Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => {
                    Ok(kernel_path(dir.as_fd())?.join(name))
                }
                Err(e) => Err(e),
            }
        }
        _ => Ok(kernel_path(dir.as_fd())?.join(name)),
    }
}

/// Reads a file from its first byte with `pread`.
struct Positioned<'a> {
    file: &'a File,
    at: u64,
}

impl io::Read for Positioned<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl ForeignFile for StdForeign {
    fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&self) -> io::Result<Meta> {
        Ok(meta_of(&self.file.metadata()?))
    }

    fn reader(&self) -> Box<dyn io::Read + Send + '_> {
        Box::new(Positioned {
            file: &self.file,
            at: 0,
        })
    }

    fn via_symlink(&self) -> bool {
        self.dir.is_none()
    }

    fn dir(&self) -> io::Result<(PathBuf, DirId)> {
        let (fd, _) = self.named_dir()?;
        Ok((kernel_path(fd)?, dir_id(fd)?))
    }

    fn link_in(&self, root: &Path, to: &str) -> io::Result<()> {
        let (dir, name) = self.named_dir()?;
        let (to_dir, to_name) = super::beneath::open_parent(root, to)?;
        rustix::fs::linkat(dir, name, &to_dir, to_name, AtFlags::empty())?;
        if self.is_this(to_dir.as_fd(), to_name) {
            return Ok(());
        }
        let _ = rustix::fs::unlinkat(&to_dir, to_name, AtFlags::empty());
        Err(changed(
            "another file was put under its name after it was opened; not linked",
        ))
    }

    fn move_in(&self, root: &Path, to: &str) -> io::Result<()> {
        let (dir, name) = self.named_dir()?;
        let (to_dir, to_name) = super::beneath::open_parent(root, to)?;
        super::beneath::rename_noreplace(dir, Path::new(name), to_dir.as_fd(), Path::new(to_name))?;
        if self.is_this(to_dir.as_fd(), to_name) {
            return Ok(());
        }
        // Not the file opened: it goes back where it was (if that fails, it
        // stays under the intent's staging name, which is never put
        // anywhere but back, and is reported).
        let _ = super::beneath::rename_noreplace(
            to_dir.as_fd(),
            Path::new(to_name),
            dir,
            Path::new(name),
        );
        Err(changed(
            "another file was put under its name after it was opened; not moved",
        ))
    }

    fn clone_in(&self, root: &Path, to: &str) -> io::Result<()> {
        let (dir, name) = super::beneath::open_parent(root, to)?;
        let dst = rustix::fs::openat(
            &dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        // A safe call in rustix (the only `unsafe` is theirs); where the
        // file system cannot share extents (ext4), or across file systems,
        // it fails with EOPNOTSUPP, EXDEV or EINVAL and the new file goes.
        if let Err(e) = rustix::fs::ioctl_ficlone(&dst, &self.file) {
            drop(dst);
            let _ = rustix::fs::unlinkat(&dir, name, AtFlags::empty());
            return Err(e.into());
        }
        Ok(())
    }
}

/// Opens the directory `dir` (absolute) from `/`, one component at a time,
/// never following a symlink; with `expect`, it must be that directory.
pub(super) fn open_exact_dir(dir: &Path, expect: Option<DirId>) -> io::Result<OwnedFd> {
    if !dir.is_absolute() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not an absolute path", dir.display()),
        ));
    }
    let mut fd = rustix::fs::openat(CWD, "/", DIR, Mode::empty())?;
    let mut shown = PathBuf::from("/");
    for c in dir.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(name) => {
                shown.push(name);
                fd = open_subdir(fd.as_fd(), name, &shown)?;
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a plain absolute path", dir.display()),
                ));
            }
        }
    }
    if let Some(want) = expect
        && dir_id(fd.as_fd())? != want
    {
        return Err(changed(
            "another directory is at its directory's path now; not followed",
        ));
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn world() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let base = tempfile::tempdir().unwrap();
        let tree = base.path().join("tree");
        let outside = base.path().join("outside");
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"secret").unwrap();
        std::fs::write(tree.join("sub/a.bin"), b"aaaa").unwrap();
        (base, tree, outside)
    }

    fn read(f: &dyn ForeignFile) -> Vec<u8> {
        let mut out = Vec::new();
        io::Read::read_to_end(&mut f.reader(), &mut out).unwrap();
        out
    }

    #[test]
    fn a_symlink_is_followed_only_inside_the_tree_or_when_named() {
        let (_base, tree, outside) = world();
        symlink(outside.join("secret"), tree.join("abs")).unwrap();
        symlink("../outside/secret", tree.join("rel")).unwrap();
        symlink("sub/a.bin", tree.join("alias")).unwrap();
        symlink(&outside, tree.join("dirlink")).unwrap();
        for rel in ["abs", "rel", "dirlink/secret"] {
            let err = StdForeign::open(ForeignPath::inside(&tree, Path::new(rel))).unwrap_err();
            assert!(super::super::is_not_beneath(&err), "{rel}: {err}");
        }
        let alias = StdForeign::open(ForeignPath::inside(&tree, Path::new("alias"))).unwrap();
        assert!(alias.via_symlink());
        assert_eq!(read(&alias), b"aaaa");
        let named = StdForeign::open(ForeignPath::named(&tree.join("abs"))).unwrap();
        assert_eq!(
            read(&named),
            b"secret",
            "a path its caller named is followed"
        );
        assert!(named.via_symlink());
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("blobs")).unwrap();
        let refused = named.link_in(base.path(), "blobs/x").unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported, "copied only");
    }

    #[test]
    fn a_fifo_or_a_directory_is_refused_without_blocking() {
        let (_base, tree, _outside) = world();
        rustix::fs::mknodat(
            CWD,
            tree.join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let err = StdForeign::open(ForeignPath::inside(&tree, Path::new("fifo"))).unwrap_err();
        assert!(is_not_regular(&err), "{err}");
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = StdForeign::open(ForeignPath::named(&tree.join("sub"))).unwrap_err();
        assert!(is_not_regular(&err), "{err}");
        symlink("/dev/zero", tree.join("zero")).unwrap();
        let err = StdForeign::open(ForeignPath::named(&tree.join("zero"))).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
    }

    #[test]
    fn a_directory_swapped_after_the_open_changes_nothing() {
        let (base, tree, outside) = world();
        let f = StdForeign::open(ForeignPath::inside(&tree, Path::new("sub/a.bin"))).unwrap();
        let (dir, id) = f.dir().unwrap();
        assert_eq!(dir, std::fs::canonicalize(tree.join("sub")).unwrap());
        // The user swaps `sub` for a symlink to another directory holding
        // a file of the same name.
        std::fs::rename(tree.join("sub"), tree.join("sub.real")).unwrap();
        std::fs::write(outside.join("a.bin"), b"victim").unwrap();
        symlink(&outside, tree.join("sub")).unwrap();
        let store = base.path().join("store");
        std::fs::create_dir_all(store.join("tmp")).unwrap();
        f.move_in(&store, "tmp/x").unwrap();
        assert_eq!(std::fs::read(store.join("tmp/x")).unwrap(), b"aaaa");
        assert_eq!(std::fs::read(outside.join("a.bin")).unwrap(), b"victim");
        assert!(
            !tree.join("sub.real/a.bin").exists(),
            "moved from the held directory"
        );
        // Going back: the path now leads through a symlink, or to another
        // directory: refused either way.
        let err = open_exact_dir(&dir, Some(id)).unwrap_err();
        assert!(super::super::is_not_beneath(&err), "{err}");
        std::fs::remove_file(tree.join("sub")).unwrap();
        std::fs::create_dir(tree.join("sub")).unwrap();
        let err = open_exact_dir(&dir, Some(id)).unwrap_err();
        assert!(is_changed(&err), "{err}");
        std::fs::remove_dir(tree.join("sub")).unwrap();
        std::fs::rename(tree.join("sub.real"), tree.join("sub")).unwrap();
        assert!(
            open_exact_dir(&dir, Some(id)).is_ok(),
            "the same directory again"
        );
    }

    #[test]
    fn a_file_swapped_under_its_name_is_not_linked_or_moved() {
        let (base, tree, _outside) = world();
        let f = StdForeign::open(ForeignPath::inside(&tree, Path::new("sub/a.bin"))).unwrap();
        std::fs::rename(tree.join("sub/a.bin"), tree.join("sub/a.old")).unwrap();
        std::fs::write(tree.join("sub/a.bin"), b"other").unwrap();
        let store = base.path().join("store");
        std::fs::create_dir_all(store.join("tmp")).unwrap();
        let err = f.link_in(&store, "tmp/l").unwrap_err();
        assert!(is_changed(&err), "{err}");
        assert!(!store.join("tmp/l").exists(), "the wrong link is removed");
        let err = f.move_in(&store, "tmp/m").unwrap_err();
        assert!(is_changed(&err), "{err}");
        assert!(!store.join("tmp/m").exists());
        assert_eq!(
            std::fs::read(tree.join("sub/a.bin")).unwrap(),
            b"other",
            "moved back"
        );
    }
}
