//! [`Fs`] on the operating system's file system.

use super::foreign::StdForeign;
use super::{DirId, FileKind, ForeignFile, ForeignPath, Fs, FsFile, LockGuard, Meta};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

#[derive(Debug)]
pub(super) struct StdFile(pub(super) File);

impl FsFile for StdFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        self.0.seek(SeekFrom::Start(offset)).map(|_| ())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.seek(SeekFrom::Start(len)).map(|_| ())
    }
}

impl Fs for StdFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        let mut file = open_regular(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(usize::try_from(len.saturating_sub(offset)).unwrap_or(0));
        file.read_to_end(&mut buf)?;
        Ok(buf)
    }

    fn read_at(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let file = open_regular(path)?;
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match file.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }

    fn read_head(&self, path: &Path, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(len);
        open_regular(path)?.take(len as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn list_os(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
        fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect()
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(StdFile(file)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut file = OpenOptions::new().write(true).open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Box::new(StdFile(file)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir_all(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn metadata(&self, path: &Path, follow_symlinks: bool) -> io::Result<Option<Meta>> {
        let meta = if follow_symlinks {
            fs::metadata(path)
        } else {
            fs::symlink_metadata(path)
        };
        let meta = match meta {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(meta_of(&meta)))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(open_regular(path)?))
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        fs::hard_link(original, link)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn touch(&self, path: &Path) -> io::Result<()> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .or_else(|_| File::open(path))?;
        file.set_modified(std::time::SystemTime::now())
    }

    fn set_readonly(&self, path: &Path) -> io::Result<()> {
        let mut perms = fs::metadata(path)?.permissions();
        perms.set_readonly(true);
        fs::set_permissions(path, perms)
    }

    fn drop_cached(&self, path: &Path, from: u64, len: u64) -> io::Result<()> {
        let Some(len) = std::num::NonZeroU64::new(len) else {
            return Ok(()); // zero would mean "to the end of the file"
        };
        let file = File::open(path)?;
        rustix::fs::fadvise(&file, from, Some(len), rustix::fs::Advice::DontNeed)
            .map_err(io::Error::from)
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockGuard(Box::new(HeldLock(file))))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn len(&self, path: &Path) -> io::Result<Option<u64>> {
        match fs::metadata(path) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    // Beneath a root: through directory handles (src/fs/beneath.rs).

    fn metadata_beneath(&self, root: &Path, rel: &str) -> io::Result<Option<Meta>> {
        self.metadata_beneath_impl(root, rel)
    }
    fn create_dir_all_beneath(&self, root: &Path, rel: &str) -> io::Result<()> {
        self.create_dir_all_beneath_impl(root, rel)
    }
    fn create_new_beneath(&self, root: &Path, rel: &str) -> io::Result<Box<dyn FsFile>> {
        self.create_new_beneath_impl(root, rel)
    }
    fn rename_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()> {
        self.rename_beneath_impl(root, from, to)
    }
    fn hard_link_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()> {
        self.hard_link_beneath_impl(root, from, to)
    }
    fn open_foreign(&self, at: ForeignPath<'_>) -> io::Result<Box<dyn ForeignFile>> {
        Ok(Box::new(StdForeign::open(at)?))
    }
    fn sync_file_data(&self, path: &Path) -> io::Result<()> {
        // fdatasync works on a descriptor open for reading.
        std::fs::File::open(path)?.sync_data()
    }
    fn move_out_beneath(
        &self,
        root: &Path,
        from: &str,
        dest: &Path,
        dir: Option<DirId>,
    ) -> io::Result<()> {
        self.move_out_beneath_impl(root, from, dest, dir)
    }
    fn remove_tree_beneath(&self, root: &Path, rel: &str) -> io::Result<u64> {
        self.remove_tree_beneath_impl(root, rel)
    }
    fn sync_dir_beneath(&self, root: &Path, rel: &str) -> io::Result<()> {
        self.sync_dir_beneath_impl(root, rel)
    }
    fn set_readonly_beneath(&self, root: &Path, rel: &str, readable: u32) -> io::Result<()> {
        self.set_readonly_beneath_impl(root, rel, readable)
    }
}

/// Opens `path` for reading without blocking on a FIFO or a device, and
/// only if it is a regular file ([`super::is_not_regular`] otherwise).
fn open_regular(path: &Path) -> io::Result<File> {
    use rustix::fs::{CWD, FileType, Mode, OFlags};
    let fd = rustix::fs::openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let ft = FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode);
    if ft != FileType::RegularFile {
        return Err(super::not_regular(super::foreign::kind_name(ft)));
    }
    Ok(File::from(fd))
}

/// The store's view of an OS file's metadata.
pub(crate) fn meta_of(meta: &fs::Metadata) -> Meta {
    use std::os::unix::fs::MetadataExt;
    let ft = meta.file_type();
    let kind = if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    };
    Meta {
        kind,
        len: meta.len(),
        modified_ns: nanos(meta.mtime(), meta.mtime_nsec()),
        changed_ns: nanos(meta.ctime(), meta.ctime_nsec()),
        inode: meta.ino(),
        nlink: meta.nlink(),
        uid: meta.uid(),
        mode: meta.mode() & 0o7777,
    }
}

fn nanos(secs: i64, nsec: i64) -> u64 {
    u64::try_from(secs)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(nsec).unwrap_or(0))
}

/// The writer lock's file, unlocked explicitly when dropped. Closing the
/// descriptor would not be enough: a child process that another thread is
/// just forking holds a copy of it until it execs, and with it the lock (a
/// `flock` belongs to the open file, not the descriptor). Unlocking
/// releases it for every copy, so a writer opened right after this one is
/// dropped never gets `Busy` from a stranger's fork.
struct HeldLock(File);

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn a_dropped_lock_is_released_even_while_a_copy_of_its_descriptor_lives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("LOCK");
        let guard = StdFs.try_lock(&path).unwrap().expect("free");
        assert!(StdFs.try_lock(&path).unwrap().is_none(), "held");
        // What a process forked at this moment holds: the same open file.
        let held = guard.0.downcast_ref::<HeldLock>().expect("a file lock");
        let forked_copy = held.0.try_clone().unwrap();
        drop(guard);
        assert!(
            StdFs.try_lock(&path).unwrap().is_some(),
            "released although a copy of the descriptor is still open"
        );
        drop(forked_copy);
    }
}
