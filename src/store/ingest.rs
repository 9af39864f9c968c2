//! Bringing one file into the store: stage it under `blobs/tmp/`, hash it
//! (while copying, so it is read once), check the digest, make it durable,
//! then publish it under its digest — or drop it if an identical blob is
//! already there.
//!
//! Order for a copy: write temp → fsync temp → rename to
//! `blobs/sha256/<hex>` → fsync `blobs/sha256/`. A crash leaves a temp file
//! (removed by gc after its grace period) or a complete blob; never a
//! partial blob under a digest name. Nothing is registered until the blob
//! is durable. A moved file goes only to the staging name its import's
//! durable intent recorded, is published by a hard link and keeps that name
//! until its entry is durable (see `put_back`). Every step goes through the
//! file system's `*_beneath` operations.
//!
//! A copy whose size matches a blob the catalog already holds is first
//! hashed where it lies (read only): if the store holds those bytes (the
//! blob is hashed to prove it), nothing is staged or written at all.
//!
//! A source file belongs to someone else: it is opened once, by handle
//! ([`crate::fs::ForeignFile`]), and read, linked, moved or cloned only
//! through that handle. Its fingerprint is taken from the descriptor
//! before it is read and compared after: a file that changed meanwhile is
//! refused ([`Error::SourceChanged`]), never registered. A copy is never
//! more readable than its source (its mode keeps only the source's read
//! bits).

use super::{Object, STAGING_DIR, Store};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fs::{
    DirId, FileKind, ForeignFile, ForeignPath, FsWriter, Meta, TEMP_SUFFIX, is_changed,
    is_not_beneath, is_not_regular,
};
use crate::hashing::{FileDigest, FsOpener, Hashed, hash_files_via, hash_foreign};
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
    /// A reflink: a new file sharing the source's data (nothing copied).
    Reflinked,
    /// The store already held these bytes: the source was only read where
    /// it lies, and nothing was staged or written.
    Present,
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

/// A fresh staging name, `<pid>-<n>-<ms>.tmp`.
pub(crate) fn staging_name() -> String {
    let n = STAGED.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n}-{}.tmp", std::process::id(), crate::clock::now_ms())
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
    /// The source's fingerprint when its bytes were read (the state the
    /// digest is about).
    pub read_as: Meta,
    /// The directory a moved file came from (the path the kernel knows it
    /// by), to make its removal there durable.
    pub source_dir: Option<PathBuf>,
}

/// What a move import's intent recorded of a source before it moved: the
/// file moved must be that inode in that directory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MoveTarget<'a> {
    /// The staging name (in `blobs/tmp/`) the intent gave it.
    pub staged: &'a str,
    /// Its inode when the intent was written.
    pub inode: u64,
    /// Its directory then.
    pub dir: Option<DirId>,
}

/// The error for a source file that could not be opened or used as `e`
/// says: a symlink out of its tree or anything but a regular file is an
/// [`Error::UnsafeSource`], a file that changed an [`Error::SourceChanged`].
pub(crate) fn source_error(path: &Path, e: io::Error) -> Error {
    if is_not_beneath(&e) {
        Error::UnsafeSource {
            path: path.to_path_buf(),
            reason: format!(
                "{e} — a symlink in a source may only lead to a file inside the directory it \
                 belongs to"
            ),
        }
    } else if is_not_regular(&e) {
        Error::UnsafeSource {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    } else if is_changed(&e) {
        Error::SourceChanged {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    } else {
        Error::io(path, e)
    }
}

/// Stages the source file at `at`: copies it (hashing on the way), or
/// hard-links or moves it when asked and possible, then hashes it. The file
/// is opened once and everything goes through that handle. A file reached
/// through a symlink is always copied: linking or moving it would put a
/// symlink in the store, or take a file from another name.
///
/// A move goes only to the staging name its import's durable move intent
/// recorded (`moved`), and only if the file opened is still the inode, in
/// the directory, the intent recorded; without an intent, a move is a copy.
/// The caller fsyncs `blobs/tmp/` and the source's directory after its
/// moves.
///
/// `candidates` are the digests of the stored blobs of the source's size
/// the catalog knows of: a copy then first hashes the source in place and,
/// if the store holds those bytes, stages nothing ([`Method::Present`]). If
/// it does not, the source is copied as usual (read a second time;
/// progress is reported for the first read only).
pub(crate) fn stage_file(
    store: &Store,
    at: ForeignPath<'_>,
    mode: LinkMode,
    moved: Option<MoveTarget<'_>>,
    candidates: &[Digest],
    progress: &mut dyn FnMut(u64),
) -> Result<Staged> {
    let path = at.path();
    let file = store
        .fs
        .open_foreign(at)
        .map_err(|e| source_error(&path, e))?;
    let mode = match (mode, moved) {
        _ if file.via_symlink() => LinkMode::Copy,
        (LinkMode::Move, None) => LinkMode::Copy,
        (LinkMode::Move, Some(target)) => {
            check_move_target(&*file, target).map_err(|e| source_error(&path, e))?;
            LinkMode::Move
        }
        (m, _) => m,
    };
    let mut silent = |_: u64| {};
    let mut progress: &mut dyn FnMut(u64) = progress;
    if mode == LinkMode::Copy && !candidates.is_empty() {
        if let Some(present) = already_stored(store, &*file, candidates, progress)? {
            return Ok(present);
        }
        progress = &mut silent;
    }
    stage(store, &*file, mode, moved.map(|m| m.staged), progress)
}

/// Whether the file opened for a move is the one its intent recorded.
fn check_move_target(file: &dyn ForeignFile, target: MoveTarget<'_>) -> io::Result<()> {
    let inode = file.meta()?.inode;
    let dir = file.dir()?.1;
    if inode != target.inode || target.dir.is_some_and(|d| d != dir) {
        return Err(crate::fs::changed(
            "it is not the file the move intent recorded (replaced since); not moved",
        ));
    }
    Ok(())
}

/// Stages an adopted file: the publisher's bytes at `at` (a regular file,
/// inside the tree its store keeps files in) come in by the cheapest way —
/// a hard link on the same file system, else a reflink where the file
/// system can share data, else a copy — and are read exactly once, for
/// their SHA-256 and, when `git_len` is given, their git blob id of that
/// declared length. Returns the staged file and what the read computed.
pub(crate) fn stage_adopted(
    store: &Store,
    at: ForeignPath<'_>,
    git_len: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Staged, Hashed)> {
    let fs = &store.fs;
    let root = store.root();
    let path = at.path();
    let file = fs.open_foreign(at).map_err(|e| source_error(&path, e))?;
    let tmp = format!("{STAGING_DIR}/{}", staging_name());
    let shared = if file.via_symlink() {
        None
    } else {
        match file.link_in(root, &tmp) {
            Ok(()) => Some(Method::Linked),
            Err(e) if is_not_beneath(&e) => return Err(store.error(&tmp, e)),
            Err(e) if is_changed(&e) => return Err(source_error(&path, e)),
            // Another file system, or links refused (a file we do not own,
            // too many links): try sharing the data instead.
            Err(_) => match file.clone_in(root, &tmp) {
                Ok(()) => Some(Method::Reflinked),
                Err(e) if is_not_beneath(&e) => return Err(store.error(&tmp, e)),
                Err(e) => {
                    tracing::debug!(source = %path.display(), error = %e, "no hard link or reflink; copying");
                    None
                }
            },
        }
    };
    let staged = |method, hashed: &Hashed, read_as| Staged {
        source: path.clone(),
        tmp: tmp.clone(),
        method,
        digest: hashed.file,
        read_as,
        source_dir: None,
    };
    let (staged, hashed) = match shared {
        Some(method) => {
            let read = read_shared(store, &*file, &tmp, method, git_len, progress);
            match read {
                Ok((h, meta)) => (staged(method, &h, meta), h),
                Err(e) => {
                    let _ = fs.remove_tree_beneath(root, &tmp);
                    return Err(source_error(&path, e));
                }
            }
        }
        None => {
            let (h, meta) = copy_in(store, &*file, &tmp, git_len, progress)?;
            (staged(Method::Copied, &h, meta), h)
        }
    };
    // Whatever was linked or cloned must be a regular file of the store's.
    match fs.metadata_beneath(root, &staged.tmp) {
        Ok(Some(m)) if m.kind == FileKind::File => Ok((staged, hashed)),
        Err(e) if is_not_beneath(&e) => {
            staged.undo(store);
            Err(store.error(&tmp, e))
        }
        _ => {
            staged.undo(store);
            Err(Error::UnsafePath {
                path,
                reason: "the staged file is not a regular file".into(),
            })
        }
    }
}

/// Reads a file just linked (the source's own inode: through its handle,
/// fingerprint checked) or reflinked (the store's new file) as `tmp`, and
/// makes its bytes durable. A file shared with the publisher's store is
/// never opened for writing.
fn read_shared(
    store: &Store,
    file: &dyn ForeignFile,
    tmp: &str,
    method: Method,
    git_len: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(Hashed, Meta)> {
    let fs = &store.fs;
    let path = store.root().join(tmp);
    let read = if method == Method::Reflinked {
        let own = fs.open_foreign(ForeignPath::named(&path))?;
        hash_foreign(&*own, git_len, None, progress)?
    } else {
        hash_foreign(file, git_len, None, progress)?
    };
    fs.sync_file_data(&path)?;
    Ok(read)
}

/// Hashes the source where it lies; if the store holds a blob of that
/// digest and size whose bytes hash to it, returns it as a
/// [`Method::Present`] staging (nothing written). `None`: the bytes are not
/// stored (or the stored blob is damaged, and a copy will replace it).
///
/// With one candidate (the usual case: one stored file of that size), its
/// blob is hashed on a second thread while the source is read, so the
/// check costs one pass of wall time on two cores.
fn already_stored(
    store: &Store,
    file: &dyn ForeignFile,
    candidates: &[Digest],
    progress: &mut dyn FnMut(u64),
) -> Result<Option<Staged>> {
    let path = file.path().to_path_buf();
    let read_source = |progress: &mut dyn FnMut(u64)| {
        hash_foreign(file, None, None, progress).map_err(|e| source_error(&path, e))
    };
    let ((hashed, read_as), blob_holds) = match candidates {
        [only] => {
            let blob_rel = Object::Blob(*only).rel();
            std::thread::scope(|scope| {
                let blob = scope.spawn(|| stored_blob_holds(store, &blob_rel, *only));
                let read = read_source(progress);
                let holds = blob.join().unwrap_or(Ok(false));
                read.map(|r| (r, holds))
            })?
        }
        _ => (read_source(progress)?, Ok(false)),
    };
    let digest = hashed.file;
    let blob_rel = Object::Blob(digest.digest).rel();
    let present = if candidates.len() == 1 && candidates[0] == digest.digest {
        blob_holds?
    } else {
        stored_blob_holds(store, &blob_rel, digest.digest)?
    };
    // A blob that hashes to the source's digest holds the source's bytes
    // (and so its length).
    Ok(present.then(|| Staged {
        source: path.clone(),
        tmp: blob_rel,
        method: Method::Present,
        digest,
        read_as,
        source_dir: None,
    }))
}

/// Whether the store's blob `rel` is a regular file whose bytes hash to
/// `digest`. An unsafe path (a symlink in the store) is an error.
fn stored_blob_holds(store: &Store, rel: &str, digest: Digest) -> Result<bool> {
    match store.fs.metadata_beneath(store.root(), rel) {
        Ok(Some(m)) if m.kind == FileKind::File && owned(store, &m) => {
            Ok(holds(store, rel, digest))
        }
        Err(e) if is_not_beneath(&e) => Err(store.error(rel, e)),
        _ => Ok(false),
    }
}

impl Staged {
    /// Drops a staged copy or link. A moved file is left where it is: the
    /// import's move intent names it, and resolving the intent
    /// ([`super::put_back`]) puts it back. A [`Method::Present`] staging
    /// is the store's own blob and is never removed. Best effort: a
    /// failure is logged (gc removes stale copies later).
    pub(crate) fn undo(self, store: &Store) {
        if matches!(self.method, Method::Moved | Method::Present) {
            return;
        }
        if let Err(e) = store.fs.remove_tree_beneath(store.root(), &self.tmp) {
            tracing::warn!(staged = %store.root().join(&self.tmp).display(), error = %e, "could not remove a staged copy");
        }
    }

    /// Publishes the staged file under its digest. If a blob of that name
    /// exists, it is hashed: if it holds the same bytes the staged file is
    /// not needed (deduplicated), otherwise (a damaged blob, or a
    /// hard-linked source edited in place) the verified file replaces it.
    ///
    /// A copy or link is renamed to the blob. A moved file is hard-linked
    /// to it and keeps its staged name (deduplicated, it is simply kept)
    /// until the entry is durable: until then the move intent can still
    /// put it back. The caller fsyncs `blobs/sha256/` after publishing.
    pub(crate) fn publish(self, store: &Store) -> Result<Ingested> {
        let fs = &store.fs;
        let root = store.root();
        let blob_rel = Object::Blob(self.digest.digest).rel();
        if self.method == Method::Present {
            // Already proven to hold the bytes; gc waits for imports.
            let meta = fs
                .metadata_beneath(root, &blob_rel)
                .map_err(|e| store.error(&blob_rel, e))?
                .filter(|m| m.kind == FileKind::File)
                .ok_or_else(|| {
                    Error::io(
                        root.join(&blob_rel),
                        io::Error::from(io::ErrorKind::NotFound),
                    )
                })?;
            return Ok(Ingested {
                digest: self.digest,
                stored: false,
                method: self.method,
                meta,
            });
        }
        let mut stored = true;
        // Twice at most: a concurrent import may publish the same blob
        // between the look and the link.
        for attempt in 0..2 {
            let existing = fs
                .metadata_beneath(root, &blob_rel)
                .map_err(|e| store.error(&blob_rel, e))?;
            // The staged file may be the blob itself (a hard link to the
            // same inode, found again): then it holds the bytes just hashed.
            let same_inode = || {
                fs.metadata_beneath(root, &self.tmp)
                    .ok()
                    .flatten()
                    .zip(existing)
                    .is_some_and(|(staged, blob)| staged.inode == blob.inode)
            };
            // A copy never shares its bytes with a blob someone else can
            // write (a linked source's inode): it replaces that blob name.
            let copy = matches!(self.method, Method::Copied | Method::Reflinked);
            if existing.is_some_and(|m| {
                m.kind == FileKind::File
                    && m.len == self.digest.bytes
                    && (!copy || owned(store, &m))
            }) && (same_inode() || holds(store, &blob_rel, self.digest.digest))
            {
                if self.method != Method::Moved {
                    fs.remove_tree_beneath(root, &self.tmp)
                        .map_err(|e| store.error(&self.tmp, e))?;
                }
                stored = false;
                break;
            }
            let published = match (self.method, existing) {
                (Method::Moved, None) => fs.hard_link_beneath(root, &self.tmp, &blob_rel),
                (Method::Moved, Some(_)) => {
                    // Replace through a second name, keeping the staged one.
                    tracing::warn!(blob = %root.join(&blob_rel).display(), "replacing a stored file whose bytes do not match its name with a verified copy");
                    let second = format!("{}.replace{TEMP_SUFFIX}", self.tmp);
                    fs.remove_tree_beneath(root, &second)
                        .and_then(|_| fs.hard_link_beneath(root, &self.tmp, &second))
                        .and_then(|()| fs.rename_beneath(root, &second, &blob_rel))
                }
                (_, existing) => {
                    if existing.is_some() {
                        tracing::warn!(blob = %root.join(&blob_rel).display(), "replacing a stored file whose bytes do not match its name with a verified copy");
                    }
                    fs.rename_beneath(root, &self.tmp, &blob_rel)
                }
            };
            match published {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt == 0 => continue,
                Err(e) => return Err(store.error(&blob_rel, e)),
            }
        }
        if stored && matches!(self.method, Method::Copied | Method::Reflinked) {
            // Never more readable than the source was.
            fs.set_readonly_beneath(root, &blob_rel, self.read_as.mode)
                .map_err(|e| store.error(&blob_rel, e))?;
        }
        let meta = fs
            .metadata_beneath(root, &blob_rel)
            .map_err(|e| store.error(&blob_rel, e))?
            .ok_or_else(|| {
                Error::io(
                    root.join(&blob_rel),
                    io::Error::from(io::ErrorKind::NotFound),
                )
            })?;
        // A linked or moved blob is the source's inode, which its owner can
        // still write: its fingerprint is the one taken when its bytes were
        // read (our own links since then moved its ctime, so the first
        // `verify --fast` re-hashes it), never one taken after.
        let meta = if stored && matches!(self.method, Method::Linked | Method::Moved) {
            self.read_as
        } else {
            meta
        };
        Ok(Ingested {
            digest: self.digest,
            stored,
            method: self.method,
            meta,
        })
    }

    /// The source path.
    pub(crate) fn source(&self) -> &Path {
        &self.source
    }
}

/// Whether a stored file is the catalog's own: owned by this process's user
/// and writable by no one (the store's copies are `0444` or narrower). A
/// blob that is a linked source's inode usually is not (its owner can still
/// write it, whatever its name in the store): a copy import never
/// deduplicates onto it, and replaces that blob name with its own copy.
fn owned(store: &Store, m: &Meta) -> bool {
    m.is_sealed_for(store.fs.effective_uid())
}

/// Whether the blob `rel` hashes to `digest`.
fn holds(store: &Store, rel: &str, digest: Digest) -> bool {
    let path = store.root().join(rel);
    let hashed = hash_files_via(
        &FsOpener(&*store.fs),
        std::slice::from_ref(&path),
        1,
        &|_| {},
    );
    matches!(hashed.first(), Some(Ok(d)) if d.digest.digest == digest)
}

/// Puts the source's bytes in `blobs/tmp/` (durably), by the cheapest
/// allowed way, and hashes them: a link or a move through the source's
/// handle, then a read of that same handle; else a copy, hashed while it
/// is written.
fn stage(
    store: &Store,
    file: &dyn ForeignFile,
    mode: LinkMode,
    moved_name: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<Staged> {
    let fs = &store.fs;
    let root = store.root();
    let path = file.path().to_path_buf();
    let fresh = format!("{STAGING_DIR}/{}", staging_name());
    let attempt = match (mode, moved_name) {
        (LinkMode::Move, Some(name)) => {
            let tmp = format!("{STAGING_DIR}/{name}");
            Some((file.move_in(root, &tmp), Method::Moved, tmp))
        }
        (LinkMode::HardLink, _) => {
            Some((file.link_in(root, &fresh), Method::Linked, fresh.clone()))
        }
        _ => None,
    };
    let staged = |tmp: String, method, digest, read_as, source_dir| Staged {
        source: path.clone(),
        tmp,
        method,
        digest,
        read_as,
        source_dir,
    };
    match attempt {
        Some((Ok(()), method, tmp)) => {
            let source_dir = if method == Method::Moved {
                file.dir().ok().map(|(dir, _)| dir)
            } else {
                None
            };
            // The source's bytes may never have been synced.
            let read = fs
                .sync_file_data(&root.join(&tmp))
                .and_then(|()| hash_foreign(file, None, None, progress));
            return match read {
                Ok((h, read_as)) => Ok(staged(tmp, method, h.file, read_as, source_dir)),
                Err(e) => {
                    // A moved file stays for its intent to put back.
                    staged(tmp, method, empty_digest(), file_meta_or_zero(file), None).undo(store);
                    Err(source_error(&path, e))
                }
            };
        }
        Some((Err(e), _, _)) if e.kind() == io::ErrorKind::CrossesDevices => {
            tracing::debug!(source = %path.display(), "different file system; copying instead");
        }
        Some((Err(e), _, tmp)) if is_not_beneath(&e) => return Err(store.error(&tmp, e)),
        Some((Err(e), _, _)) => return Err(source_error(&path, e)),
        None => {}
    }
    let (hashed, read_as) = copy_in(store, file, &fresh, None, progress)?;
    Ok(staged(fresh, Method::Copied, hashed.file, read_as, None))
}

/// The digest of no bytes (for a staging that is only being undone).
fn empty_digest() -> FileDigest {
    FileDigest {
        digest: Digest::of_bytes(b""),
        bytes: 0,
    }
}

/// The file's metadata, or an empty one if it cannot be had (for a staging
/// that is only being undone).
fn file_meta_or_zero(file: &dyn ForeignFile) -> Meta {
    file.meta().unwrap_or(Meta {
        kind: FileKind::File,
        len: 0,
        modified_ns: 0,
        changed_ns: 0,
        inode: 0,
        nlink: 0,
        uid: 0,
        mode: 0,
    })
}

/// Copies `file` to the new staging file `tmp` while hashing it (one read;
/// the git blob id too when `git_len` is given; the source's fingerprint
/// checked before and after) and makes the copy durable. On any failure
/// the partial copy is removed; a write failure (a full disk) is reported
/// as the store's, a read failure or a change as the source's.
fn copy_in(
    store: &Store,
    file: &dyn ForeignFile,
    tmp: &str,
    git_len: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Hashed, Meta)> {
    let (fs, root) = (&store.fs, store.root());
    let mut out = fs
        .create_new_beneath(root, tmp)
        .map_err(|e| store.error(tmp, e))?;
    let mut writer = FsWriter(&mut *out);
    let mut failed_write = WriteErrorSide::default();
    let copied = hash_foreign(
        file,
        git_len,
        Some(&mut failed_write.watch(&mut writer)),
        progress,
    );
    let hashed = copied.map_err(|e| {
        let _ = fs.remove_tree_beneath(root, tmp);
        if failed_write.hit {
            store.error(tmp, e)
        } else {
            source_error(file.path(), e)
        }
    })?;
    if let Err(e) = out.sync_data() {
        let _ = fs.remove_tree_beneath(root, tmp);
        return Err(store.error(tmp, e));
    }
    Ok(hashed)
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
