//! Bringing one file into the store: stage it under `blobs/tmp/`, hash it
//! (while copying, so it is read once), check the digest, make it durable,
//! then publish it under its digest — or drop it if an identical blob is
//! already there.
//!
//! Order: write temp → fsync temp → rename to `blobs/sha256/<hex>` → fsync
//! `blobs/sha256/`. A crash leaves a temp file (removed by gc after its
//! grace period) or a complete blob; never a partial blob under a digest
//! name. Nothing is registered until the blob is durable.

use super::{BLOBS_DIR, Object, STAGING_DIR, Store};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::{FileKind, FsWriter, Meta, is_not_beneath};
use crate::hashing::{FileDigest, FsOpener, copy_and_hash, hash_files_via, hash_reader};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How an import brings a source file into the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkMode {
    /// Copy the bytes (the default; the source is untouched).
    #[default]
    Copy,
    /// Hard-link the source into the store when it is on the same file
    /// system (no copy; the blob and the source are then one file, so a
    /// later change to the source shows up as a failed verification), else
    /// copy.
    HardLink,
    /// Move the source into the store when it is on the same file system
    /// (the source path disappears), else copy.
    Move,
}

/// How a file actually got into the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Copied,
    Linked,
    Moved,
}

/// One file brought into the store.
#[derive(Clone, Debug)]
pub(crate) struct Ingested {
    pub digest: FileDigest,
    /// `false` if an identical blob was already stored (deduplicated).
    pub stored: bool,
    pub method: Method,
    /// The blob's metadata after publishing.
    pub meta: Meta,
}

static STAGED: AtomicU64 = AtomicU64::new(0);

fn staging_name() -> String {
    let n = STAGED.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}-{n}-{}.tmp",
        std::process::id(),
        crate::catalog::now_ms()
    )
}

/// A source file staged under `blobs/tmp/` and hashed, not yet published.
/// Either [`Staged::publish`] or [`Staged::undo`] it.
#[derive(Debug)]
pub(crate) struct Staged {
    source: PathBuf,
    /// The staged file, relative to the root (`blobs/tmp/<name>`).
    tmp: String,
    pub method: Method,
    pub digest: FileDigest,
}

/// Stages `source`: copies it (hashing on the way), or hard-links or moves
/// it when asked and possible, then hashes it. A symlinked source is always
/// copied (through the link): linking or moving the link itself would put
/// a symlink in the store, or take a file out of the user's cache.
pub(crate) fn stage_file(
    store: &Store,
    source: &Path,
    mode: LinkMode,
    progress: &mut dyn FnMut(u64),
) -> Result<Staged> {
    let fs = &store.fs;
    let own = fs
        .metadata(source, false)
        .map_err(|e| Error::io(source, e))?
        .ok_or_else(|| Error::io(source, io::Error::from(io::ErrorKind::NotFound)))?;
    let mode = if own.kind == FileKind::File {
        mode
    } else {
        LinkMode::Copy
    };
    let tmp = format!("{STAGING_DIR}/{}", staging_name());
    let (method, copied) = stage(store, source, &tmp, mode, progress)?;
    let staged = |digest| Staged {
        source: source.to_path_buf(),
        tmp: tmp.clone(),
        method,
        digest,
    };
    let digest = match copied {
        Some(digest) => digest,
        None => match hash_staged(store, &tmp, progress) {
            Ok(d) => d,
            Err(e) => {
                staged(FileDigest {
                    digest: Digest::of_bytes(b""),
                    bytes: 0,
                })
                .undo(store);
                return Err(e);
            }
        },
    };
    let staged = staged(digest);
    match fs.metadata_beneath(store.root(), &tmp) {
        Ok(Some(m)) if m.kind == FileKind::File => Ok(staged),
        Err(e) if is_not_beneath(&e) => {
            staged.undo(store);
            Err(store.error(&tmp, e))
        }
        _ => {
            let path = staged.source.clone();
            staged.undo(store);
            Err(Error::UnsafePath {
                path,
                reason: "the staged copy is not a regular file".into(),
            })
        }
    }
}

impl Staged {
    /// Puts the source back as it was (a moved file is moved back) and
    /// removes the staged file. Best effort: a failure is logged.
    pub(crate) fn undo(self, store: &Store) {
        let root = store.root();
        let undone = match self.method {
            Method::Moved => store.fs.move_out_beneath(root, &self.tmp, &self.source),
            Method::Copied | Method::Linked => {
                store.fs.remove_tree_beneath(root, &self.tmp).map(|_| ())
            }
        };
        if let Err(e) = undone {
            tracing::warn!(staged = %root.join(&self.tmp).display(), source = %self.source.display(), error = %e, "could not undo a staged import");
        }
    }

    /// Publishes the staged file under its digest: rename, fsync of
    /// `blobs/sha256/`. If a blob of that name exists, it is hashed: if
    /// it holds the same bytes the staged copy is dropped (deduplicated),
    /// otherwise (a damaged blob, or a hard-linked source edited in place)
    /// the verified copy replaces it.
    pub(crate) fn publish(self, store: &Store) -> Result<Ingested> {
        let fs = &store.fs;
        let root = store.root();
        let blob_rel = Object::Blob(self.digest.digest).rel();
        let blob = root.join(&blob_rel);
        let existing = fs
            .metadata_beneath(root, &blob_rel)
            .map_err(|e| store.error(&blob_rel, e))?;
        let same = match existing {
            Some(m) if m.kind == FileKind::File && m.len == self.digest.bytes => {
                let opener = FsOpener(&**fs);
                let hashed = hash_files_via(&opener, std::slice::from_ref(&blob), 1, &|_| {});
                matches!(hashed.first(), Some(Ok(d)) if d.digest == self.digest.digest)
            }
            _ => false,
        };
        let stored = if same {
            fs.remove_tree_beneath(root, &self.tmp)
                .map_err(|e| store.error(&self.tmp, e))?;
            false
        } else {
            if existing.is_some() {
                tracing::warn!(blob = %blob.display(), "replacing a stored file whose bytes do not match its name with a verified copy");
            }
            fs.rename_beneath(root, &self.tmp, &blob_rel)
                .map_err(|e| store.error(&blob_rel, e))?;
            store.sync_dir(BLOBS_DIR)?;
            if self.method == Method::Copied {
                fs.set_readonly_beneath(root, &blob_rel)
                    .map_err(|e| store.error(&blob_rel, e))?;
            }
            true
        };
        let meta = fs
            .metadata_beneath(root, &blob_rel)
            .map_err(|e| store.error(&blob_rel, e))?
            .ok_or_else(|| Error::io(&blob, io::Error::from(io::ErrorKind::NotFound)))?;
        Ok(Ingested {
            digest: self.digest,
            stored,
            method: self.method,
            meta,
        })
    }

    /// After a failed import: a moved source that was already published
    /// gets its name back as a hard link to the blob (best effort).
    pub(crate) fn restore_published(store: &Store, source: &Path, ingested: &Ingested) {
        if ingested.method != Method::Moved {
            return;
        }
        let blob = store.path(Object::Blob(ingested.digest.digest));
        if let Err(e) = store.fs.hard_link(&blob, source) {
            tracing::warn!(source = %source.display(), error = %e, "could not give a moved model file its name back");
        }
    }

    /// The source path.
    pub(crate) fn source(&self) -> &Path {
        &self.source
    }
}

/// Puts the source's bytes at `tmp` (relative to the root; durably), by
/// the cheapest allowed way; a copy also yields the digest, computed on the
/// way.
fn stage(
    store: &Store,
    source: &Path,
    tmp: &str,
    mode: LinkMode,
    progress: &mut dyn FnMut(u64),
) -> Result<(Method, Option<FileDigest>)> {
    let fs = &store.fs;
    let root = store.root();
    let attempt = match mode {
        LinkMode::Copy => None,
        LinkMode::HardLink => Some((fs.link_in_beneath(source, root, tmp), Method::Linked)),
        LinkMode::Move => Some((fs.move_in_beneath(source, root, tmp), Method::Moved)),
    };
    match attempt {
        Some((Ok(()), method)) => {
            // The source's bytes may never have been synced.
            let path = root.join(tmp);
            let mut file = fs.open_append(&path).map_err(|e| Error::io(&path, e))?;
            file.sync_data().map_err(|e| Error::io(&path, e))?;
            return Ok((method, None));
        }
        Some((Err(e), _)) if e.kind() == io::ErrorKind::CrossesDevices => {
            tracing::debug!(source = %source.display(), "different file system; copying instead");
        }
        Some((Err(e), _)) if is_not_beneath(&e) => return Err(store.error(tmp, e)),
        Some((Err(e), _)) => return Err(Error::io(source, e)),
        None => {}
    }
    let mut reader = fs.open_read(source).map_err(|e| Error::io(source, e))?;
    let mut file = fs
        .create_new_beneath(root, tmp)
        .map_err(|e| store.error(tmp, e))?;
    let mut writer = FsWriter(&mut *file);
    let mut failed_write = WriteErrorSide::default();
    let copied = copy_and_hash(&mut reader, &mut failed_write.watch(&mut writer), progress);
    let digest = copied.map_err(|e| {
        let _ = fs.remove_tree_beneath(root, tmp);
        // A write failure (a full disk) is the store's, not the source's.
        if failed_write.hit {
            store.error(tmp, e)
        } else {
            Error::io(source, e)
        }
    })?;
    file.sync_data().map_err(|e| store.error(tmp, e))?;
    Ok((Method::Copied, Some(digest)))
}

fn hash_staged(store: &Store, tmp: &str, progress: &mut dyn FnMut(u64)) -> Result<FileDigest> {
    let path = store.root().join(tmp);
    let mut reader = store.fs.open_read(&path).map_err(|e| Error::io(&path, e))?;
    hash_reader(&mut reader, progress).map_err(|e| Error::io(&path, e))
}

/// Remembers whether a write (rather than a read) failed during a copy.
#[derive(Default)]
struct WriteErrorSide {
    hit: bool,
}

struct Watched<'a, 'w> {
    side: &'a mut WriteErrorSide,
    inner: &'a mut (dyn io::Write + 'w),
}

impl WriteErrorSide {
    fn watch<'a, 'w>(&'a mut self, inner: &'a mut (dyn io::Write + 'w)) -> Watched<'a, 'w> {
        Watched { side: self, inner }
    }
}

impl io::Write for Watched<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.side.hit = true)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.side.hit = true)
    }
}
