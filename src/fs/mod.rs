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
    /// Appends all of `buf` at the end of the file.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
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

    /// Takes an exclusive advisory lock on `path` (creating the file),
    /// without waiting: `Ok(None)` if someone else holds it. The lock lasts
    /// as long as the returned guard, and ends with the process.
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>>;
}

/// Holds a lock taken with [`Fs::try_lock`] until dropped.
pub struct LockGuard(pub Box<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}
