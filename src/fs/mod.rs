//! The small file-system layer every byte of the engine goes through.
//!
//! Keeping it to one trait lets tests substitute a fault-injecting file
//! system (dropped unsynced data, failing fsyncs, lost renames) without
//! touching the engine. [`StdFs`] is the real implementation.

mod atomic;
mod std_fs;

pub use atomic::{TEMP_SUFFIX, publish_file};
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
    /// Names of the entries of `dir`, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
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

    /// Takes an exclusive advisory lock on `path` (creating the file),
    /// without waiting: `Ok(None)` if someone else holds it. The lock lasts
    /// as long as the returned guard, and ends with the process.
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>>;
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
