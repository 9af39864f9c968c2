//! The small file-system layer every byte of the engine goes through.
//!
//! Keeping it to one trait lets tests substitute a fault-injecting file
//! system (dropped unsynced data, failing fsyncs, lost renames) without
//! touching the engine. [`StdFs`] is the real implementation.
//!
//! The `*_beneath` operations act on a path relative to a root and never
//! follow a symlink below it, even one swapped in by another process while
//! they run: [`StdFs`] walks from a handle on the root, opening every
//! directory with `O_NOFOLLOW | O_DIRECTORY` and acting relative to the
//! handle of the last one (`openat`, `unlinkat`, `renameat`, `linkat`).
//! The model store creates, publishes and removes its files only through
//! them.

mod atomic;
mod beneath;
mod foreign;
mod meta;
mod std_fs;

pub use atomic::{TEMP_SUFFIX, publish_file};
pub use foreign::{
    DirId, ForeignFile, ForeignPath, Links, changed, is_changed, is_not_regular, not_regular,
    read_regular, resolve_named,
};
pub use std_fs::StdFs;

use std::fmt;
use std::io;
use std::path::Path;

/// A file open for writing at its end.
pub trait FsFile: Send + fmt::Debug {
    /// Writes all of `buf` at the current position (the end, for a file
    /// just opened with [`Fs::open_append`] or created), and moves past it.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Moves the position of the next write to `offset`.
    fn seek_to(&mut self, offset: u64) -> io::Result<()>;
    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Truncates (or extends with zeros) the file to `len` bytes; later
    /// writes go to the new end.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

/// The operations the engine needs from a file system.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Creates `dir` and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Reads the bytes of `path` from `offset` to its end.
    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>>;
    /// Names of the entries of `dir`, in no particular order. A name that
    /// is not UTF-8 comes back converted lossily (see [`Fs::list_os`]).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Names of the entries of `dir` exactly as the operating system has
    /// them, in no particular order: what must tell `x\xfe` from
    /// `x\u{FFFD}`. By default, the names of [`Fs::list`].
    fn list_os(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
        Ok(self.list(dir)?.into_iter().map(Into::into).collect())
    }
    /// Creates `path` (truncating an existing file) for writing.
    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    /// Opens an existing `path` for appending.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    /// Atomically renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a directory and everything in it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes the entries of `dir` (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Length of the file at `path` (or of the directory entry), or `None`
    /// if it does not exist.
    fn len(&self, path: &Path) -> io::Result<Option<u64>>;

    /// Reads the whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_from(path, 0)
    }

    /// Reads at most `len` bytes from the start of the file.
    fn read_head(&self, path: &Path, len: usize) -> io::Result<Vec<u8>>;

    /// Reads at most `len` bytes of `path` from `offset` on (fewer at the
    /// end of the file). By default through [`Fs::read_from`], which reads
    /// to the end; [`StdFs`] reads only the bytes asked for.
    fn read_at(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut bytes = self.read_from(path, offset)?;
        bytes.truncate(len);
        Ok(bytes)
    }

    /// Metadata of `path` (following a final symlink only if
    /// `follow_symlinks`), or `None` if it does not exist.
    fn metadata(&self, path: &Path, follow_symlinks: bool) -> io::Result<Option<Meta>>;
    /// Opens `path` for streaming reads.
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn io::Read + Send>>;
    /// Creates `link` as another name of the file `original`.
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()>;
    /// Removes an empty directory.
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Sets the file's modification time to now.
    fn touch(&self, path: &Path) -> io::Result<()>;
    /// Removes write permission from a file (content-addressed files never change).
    fn set_readonly(&self, path: &Path) -> io::Result<()>;

    /// Makes the bytes of the file at `path` durable (`fdatasync`) without
    /// opening it for writing: a file the catalog shares by a hard link is
    /// never opened writable. By default, through [`Fs::open_append`].
    fn sync_file_data(&self, path: &Path) -> io::Result<()> {
        self.open_append(path)?.sync_data()
    }

    /// Drops the clean cached pages of bytes `[from, from + len)` of the
    /// file at `path` (`posix_fadvise(POSIX_FADV_DONTNEED)`), so the next
    /// read of that range comes from the disk. After a failed `fdatasync`,
    /// Linux keeps the pages it could not write in the cache, readable and
    /// marked clean: this is how a later process reads what the disk really
    /// holds. Advice only: a file system may ignore it.
    fn drop_cached(&self, path: &Path, from: u64, len: u64) -> io::Result<()>;

    /// The user id files this process creates are owned by (its effective
    /// uid): a move intent owned by anyone else is not acted on.
    fn effective_uid(&self) -> u32 {
        rustix::process::geteuid().as_raw()
    }

    /// Takes an exclusive advisory lock on `path` (creating the file),
    /// without waiting: `Ok(None)` if someone else holds it. The lock lasts
    /// as long as the returned guard, and ends with the process.
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>>;

    // Operations beneath a root. `rel` (and `from`, `to`) is a path
    // relative to `root`, `/`-separated, with no empty, `.` or `..`
    // component (anything else fails with `InvalidInput`). No symlink below
    // `root` is followed, even one swapped in meanwhile: meeting one fails
    // with an error for which [`is_not_beneath`] is true. `root` itself may
    // be a symlink.

    /// Metadata of `root/rel` itself (a final symlink is reported as one),
    /// or `None` if it does not exist.
    fn metadata_beneath(&self, root: &Path, rel: &str) -> io::Result<Option<Meta>>;
    /// Creates the directory `root/rel` and its missing parents below `root`.
    fn create_dir_all_beneath(&self, root: &Path, rel: &str) -> io::Result<()>;
    /// Creates the new file `root/rel` for writing, readable and writable
    /// by this process's user only (mode 0600); fails with `AlreadyExists`
    /// if the name exists (a file, a link to one, anything).
    fn create_new_beneath(&self, root: &Path, rel: &str) -> io::Result<Box<dyn FsFile>>;
    /// Atomically renames `root/from` to `root/to`, replacing `to`.
    fn rename_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()>;
    /// Creates `root/to` as another name of the file `root/from`; never
    /// replaces (`AlreadyExists`).
    fn hard_link_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()>;
    /// Opens a file of someone else's once, by handle (see
    /// [`ForeignFile`]): every directory below `at.tree` without following
    /// a symlink, the file without blocking (a FIFO) and without following
    /// a final symlink unless `at.links` allows it, and only a regular file
    /// ([`is_not_regular`] otherwise). Everything done with it afterwards
    /// (read, link, move, reflink) goes through the handle.
    fn open_foreign(&self, at: ForeignPath<'_>) -> io::Result<Box<dyn ForeignFile>>;
    /// Moves `root/from` out to `dest`, never replacing: `AlreadyExists` if
    /// `dest` is taken, `NotFound` if its directory is gone. `dest`'s
    /// directory is reached from `/` one component at a time without
    /// following a symlink ([`is_not_beneath`] if one is met), and, with
    /// `dir`, must be that very directory ([`is_changed`] otherwise).
    fn move_out_beneath(
        &self,
        root: &Path,
        from: &str,
        dest: &Path,
        dir: Option<DirId>,
    ) -> io::Result<()>;
    /// Removes `root/rel`: a file or link, or a directory and everything in
    /// it, through directory handles (a directory swapped for a symlink
    /// meanwhile is never entered; a symlink found is removed as a link).
    /// Returns the number of non-directories removed; 0 if it did not exist.
    fn remove_tree_beneath(&self, root: &Path, rel: &str) -> io::Result<u64>;
    /// Makes the entries of the directory `root/rel` durable (`rel` may be
    /// empty: the root itself).
    fn sync_dir_beneath(&self, root: &Path, rel: &str) -> io::Result<()>;
    /// Sets the mode of the regular file `root/rel` to `readable & 0o444`:
    /// never writable, and readable by no one its source was not readable
    /// by (`readable` is the source's mode).
    fn set_readonly_beneath(&self, root: &Path, rel: &str, readable: u32) -> io::Result<()>;
}

/// The payload of the error a `*_beneath` operation returns when the path
/// would leave the root: a symlink (or a `..`) on the way.
#[derive(Debug)]
struct NotBeneath(String);

impl fmt::Display for NotBeneath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a symlink (or leads out of the root); not followed",
            self.0
        )
    }
}

impl std::error::Error for NotBeneath {}

/// The error a `*_beneath` operation returns when `what` (a path relative
/// to the root) is a symlink it will not follow.
///
/// ```
/// use catalog_core::fs::{is_not_beneath, not_beneath};
/// assert!(is_not_beneath(&not_beneath("views/x")));
/// assert!(!is_not_beneath(&std::io::Error::other("x")));
/// ```
pub fn not_beneath(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, NotBeneath(what.to_string()))
}

/// Whether `err` is a `*_beneath` operation's refusal to leave its root.
pub fn is_not_beneath(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<NotBeneath>())
}

/// The components of a root-relative path, checked: not absolute, no
/// empty, `.` or `..` component. The empty path has no components.
pub(crate) fn components(rel: &str) -> io::Result<Vec<&str>> {
    if rel.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\0'))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{rel}` is not a plain relative path"),
        ));
    }
    Ok(parts)
}

/// What a directory entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only reported without following).
    Symlink,
    /// Anything else (socket, device, fifo).
    Other,
}

/// The parts of a file's metadata the store uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// What it is.
    pub kind: FileKind,
    /// Length in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch. A rename or a
    /// hard link keeps it, and anyone who can write the file can set it.
    pub modified_ns: u64,
    /// Inode change time (`ctime`), nanoseconds since the Unix epoch: set
    /// by the kernel whenever the file's data or its links change (a
    /// rename, a new hard link), and never settable to the past. gc's
    /// grace period counts from the later of the two times.
    pub changed_ns: u64,
    /// Inode number.
    pub inode: u64,
    /// Number of hard links.
    pub nlink: u64,
    /// Owner (user id).
    pub uid: u32,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

impl Meta {
    /// Whether a file that looked like `before` still has the same bytes,
    /// as far as its metadata can tell: the same inode and length, and
    /// neither its modification time nor its change time moved. The change
    /// time is set by the kernel on every write, link, rename and `utimes`
    /// and cannot be set back, so an mtime put back after a rewrite is
    /// still seen.
    pub fn unchanged_since(&self, before: &Meta) -> bool {
        self.inode == before.inode
            && self.len == before.len
            && self.modified_ns == before.modified_ns
            && self.changed_ns == before.changed_ns
    }

    /// Whether the file is the catalog's own and nobody can write it:
    /// owned by `euid` (the catalog's user) with no write bit, as the
    /// store's copies are. Whoever can write a file can change its bytes
    /// without moving its ctime (through a shared mapping), so only such a
    /// file's metadata is trusted for its bytes.
    pub fn is_sealed_for(&self, euid: u32) -> bool {
        self.uid == euid && self.mode & 0o222 == 0
    }
}

/// Adapts an [`FsFile`] to [`io::Write`] (each `write` appends all of it).
pub struct FsWriter<'a>(pub &'a mut dyn FsFile);

impl io::Write for FsWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Holds a lock taken with [`Fs::try_lock`] until dropped.
pub struct LockGuard(pub Box<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}
