//! Reading a candidate's files: each source once, staged into the store
//! (hard link, reflink or copy) and hashed in that one read, or hashed
//! where it is. A model's files are read on every core at once, largest
//! first (a Hugging Face snapshot is a few large shards); one failure
//! stops the others from taking new files.

use super::plan::CandidateFile;
use crate::error::Error;
use crate::hashing::{Hashed, hash_foreign};
use crate::store::Store;
use crate::store::ingest::{Staged, source_error, stage_adopted};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One file read: what it hashed to and, unless read in place, its staging.
pub(super) struct FileRead {
    pub hashed: Hashed,
    /// The file's fingerprint when it was read.
    pub read_as: crate::fs::Meta,
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
        let (hashed, read_as) = store
            .fs
            .open_foreign(f.at())
            .and_then(|file| hash_foreign(&*file, git_len, None, &mut |n| progress(n)))
            .map_err(|e| ReadError::Source(source_error(&f.source, e).to_string()))?;
        return Ok(FileRead {
            hashed,
            read_as,
            staged: None,
        });
    }
    let (staged, hashed) =
        stage_adopted(store, f.at(), git_len, &mut |n| progress(n)).map_err(|e| match &e {
            // The source could not be read (gone or changed since the scan,
            // not a regular file any more): skip the model; anything about
            // the store ends the adoption.
            Error::Io { path, .. }
            | Error::UnsafePath { path, .. }
            | Error::UnsafeSource { path, .. }
            | Error::SourceChanged { path, .. }
                if path == &f.source =>
            {
                ReadError::Source(e.to_string())
            }
            _ => ReadError::Store(e),
        })?;
    Ok(FileRead {
        hashed,
        read_as: staged.read_as,
        staged: Some(staged),
    })
}
