//! Reading a candidate's files: each source once, staged into the store
//! (hard link, reflink or copy) and hashed in that one read, or hashed
//! where it is. A model's files are read on every core at once, largest
//! first (a Hugging Face snapshot is a few large shards); one failure
//! stops the others from taking new files.

use super::plan::CandidateFile;
use crate::error::Error;
use crate::hashing::{Hashed, hash_both};
use crate::store::Store;
use crate::store::ingest::{Staged, stage_adopted};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One file read: what it hashed to and, unless read in place, its staging.
pub(super) struct FileRead {
    pub hashed: Hashed,
    pub staged: Option<Staged>,
}

/// Why a file could not be read.
pub(super) enum ReadError {
    /// The source could not be read: the model is skipped.
    Source(String),
    /// The store failed: the adoption ends.
    Store(Error),
}

/// Reads `files` (each a different source) on up to every core, largest
/// first. The result is in `files`' order; `None` for a file not attempted
/// because another had failed.
pub(super) fn read_files(
    store: &Store,
    files: &[&CandidateFile],
    in_place: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Option<Result<FileRead, ReadError>>> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].size));
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len())
        .max(1);
    let slots: Vec<Mutex<Option<Result<FileRead, ReadError>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        while !failed.load(Ordering::Relaxed) {
            let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return;
            };
            let read = read_one(store, files[i], in_place, progress);
            if read.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            *slots[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(read);
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// Reads one file: staged and hashed in one read, or hashed in place.
fn read_one(
    store: &Store,
    f: &CandidateFile,
    in_place: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileRead, ReadError> {
    let git_len = f.publisher.filter(|p| !p.is_sha256()).map(|_| f.size);
    if in_place {
        let hashed = store
            .fs
            .open_read(&f.source)
            .and_then(|mut r| hash_both(&mut r, git_len, None, &mut |n| progress(n)))
            .map_err(|e| ReadError::Source(format!("cannot read {}: {e}", f.source.display())))?;
        return Ok(FileRead {
            hashed,
            staged: None,
        });
    }
    let (staged, hashed) =
        stage_adopted(store, &f.source, git_len, &mut |n| progress(n)).map_err(|e| match &e {
            // The source could not be read (gone since the scan): skip the
            // model; anything about the store ends the adoption.
            Error::Io { path, .. } | Error::UnsafePath { path, .. } if path == &f.source => {
                ReadError::Source(e.to_string())
            }
            _ => ReadError::Store(e),
        })?;
    Ok(FileRead {
        hashed,
        staged: Some(staged),
    })
}
