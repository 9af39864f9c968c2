//! One writer per root: an OS advisory lock on `catalog/LOCK`.
//!
//! The kernel releases the lock when the holder exits, even on `kill -9`, so
//! a crashed writer never needs manual cleanup. Readers take no lock and
//! never block the writer.

use crate::error::{Error, Result};
use crate::fs::{Fs, LockGuard};
use crate::layout::Layout;
use std::time::{Duration, Instant};

/// Held for as long as the writer handle lives.
#[derive(Debug)]
pub struct WriterLock {
    _guard: LockGuard,
}

const POLL: Duration = Duration::from_millis(10);

/// Takes the writer lock, failing at once with [`Error::Busy`], or after
/// `wait` if one is given.
pub fn acquire(fs: &dyn Fs, layout: &Layout, wait: Option<Duration>) -> Result<WriterLock> {
    let path = layout.lock_file();
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        match fs.try_lock(&path) {
            Ok(Some(guard)) => return Ok(WriterLock { _guard: guard }),
            Ok(None) => match deadline {
                Some(d) if Instant::now() < d => std::thread::sleep(POLL),
                _ => {
                    return Err(Error::Busy {
                        root: layout.root().to_path_buf(),
                        lock_file: path,
                    });
                }
            },
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
}
