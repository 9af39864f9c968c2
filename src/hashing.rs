//! Hashing files and streams at the speed of the hardware.
//!
//! Every function here is the same plain loop: one `read` into a reused
//! buffer, one SHA-256 update over the bytes read, (for a copy) one
//! `write_all` of the same bytes, one progress call. `sha2` picks the SHA-NI
//! instructions at run time where the CPU has them, so a warm-cache file
//! hashes at about the speed of SHA-256 itself (about 2 GB/s on one core of
//! the reference machine, at or above `openssl dgst -sha256`).
//!
//! Reading and hashing are not overlapped on a second thread. On the
//! reference machine the disk delivers ~3.8 GB/s and a warm `read` is a
//! page-cache copy, so reading costs 5–10 % of the time of hashing the same
//! bytes. A reader thread hid that (5 % warm, 9 % cold, in minimum time) but
//! needs a second core to do it, came out slower in median when the machine
//! was busy, and [`hash_files`] already puts every core to work on its own
//! file. See [`HASH_BUFFER_SIZE`] for the numbers.
//!
//! [`verify_digest`] turns a computed digest and an expected one into the
//! pass / warn / fail outcome that a verification records.

use crate::digest::Digest;
use crate::entry::VerifyResult;
use crate::error::{Error, Result};
use crate::fs::{ForeignFile, ForeignPath};
use sha2::Digest as _;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Size of the read buffer used when hashing (and copying) a file or stream.
///
/// Chosen by measurement: a 1 GiB file of random bytes, read in chunks of
/// this size and hashed with `sha2` (SHA-NI), on an AMD EPYC with 2 cores
/// (L2 1 MiB per core), every variant run in turn in each round. The machine
/// was shared with other builds (load average 2–3), so minimums are the
/// cleaner signal. Page cache warm, 7 rounds:
///
/// | variant | median s | min s | GB/s (median) |
/// |---|---|---|---|
/// | in memory, no reads (`Sha256::digest`) | 0.526 | 0.517 | 2.04 |
/// | 16 KiB reads  | 0.584 | 0.582 | 1.84 |
/// | 64 KiB reads  | 0.562 | 0.558 | 1.91 |
/// | 128 KiB reads | 0.561 | 0.556 | 1.91 |
/// | **256 KiB reads** | **0.557** | **0.553** | **1.93** |
/// | 512 KiB reads | 0.558 | 0.551 | 1.92 |
/// | 1 MiB reads   | 0.561 | 0.552 | 1.91 |
/// | 4 MiB reads   | 0.564 | 0.557 | 1.91 |
/// | 256 KiB, reader thread + hashing thread | 0.553 | 0.545 | 1.94 |
/// | 1 MiB, reader thread + hashing thread   | 0.528 | 0.521 | 2.03 |
/// | `openssl dgst -sha256` (process, 8 KiB reads) | 0.638 | 0.631 | 1.68 |
///
/// File evicted from the page cache before each run (`dd iflag=nocache`),
/// 3 rounds, min s: 64 KiB 0.584, 256 KiB 0.583, 1 MiB 0.581, 4 MiB 0.570,
/// 1 MiB with a reader thread 0.529, openssl 0.665.
///
/// Everything from 64 KiB up is within noise of each other; below that the
/// per-`read` cost shows. 256 KiB stays inside L2 next to the hash state and
/// keeps [`hash_files`]'s per-thread memory small. A reader thread (1–4 MiB
/// buffers) gained 5 % (warm) to 9 % (cold) in minimum time, but in a
/// busier 9-round run its median was *worse* than the single loop (0.639 s
/// vs 0.590 s at 1 MiB) because it needs the second core; it is not used.
pub const HASH_BUFFER_SIZE: usize = 256 * 1024;

/// The smallest buffer [`hash_file`] allocates for a small file.
const MIN_BUFFER_SIZE: usize = 16 * 1024;

/// Result of hashing one file or stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// SHA-256 of every byte read.
    pub digest: Digest,
    /// How many bytes were read (and hashed).
    pub bytes: u64,
}

/// Hashes a whole file with large buffered reads.
///
/// `progress` is called with the number of bytes processed since its
/// previous call (a delta) after every read, that is at least every
/// [`HASH_BUFFER_SIZE`] bytes, so callers can drive a progress bar; the
/// deltas add up to [`FileDigest::bytes`]. It is not called for an empty
/// file.
///
/// The file is read until end of file, whatever its size was when it was
/// opened.
///
/// # Errors
///
/// [`Error::Io`] naming `path` if the file cannot be opened or read (a
/// directory, for example, fails on the first read).
///
/// # Example
///
/// ```
/// # fn main() -> catalog_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// use catalog_core::{Digest, hash_file};
///
/// let path = dir.path().join("model.gguf");
/// std::fs::write(&path, b"abc").unwrap();
///
/// let mut seen = 0;
/// let hashed = hash_file(&path, &mut |delta| seen += delta)?;
/// assert_eq!(hashed.digest, Digest::of_bytes(b"abc"));
/// assert_eq!(
///     hashed.digest.to_string(),
///     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// assert_eq!((hashed.bytes, seen), (3, 3));
/// # Ok(()) }
/// ```
pub fn hash_file(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<FileDigest> {
    let mut buf = Vec::new();
    hash_path(&StdOpener, path, &mut buf, progress).map(|read| read.digest)
}

/// Hashes everything `reader` yields, until it reports end of input.
///
/// `progress` gets a byte delta after every read that returned data.
/// Reads interrupted by a signal (`ErrorKind::Interrupted`) are retried.
///
/// # Errors
///
/// The first other error `reader` returns, or an `InvalidData` error if it
/// claims to have read more bytes than the buffer it was given.
pub fn hash_reader(reader: &mut dyn Read, progress: &mut dyn FnMut(u64)) -> io::Result<FileDigest> {
    let mut buf = vec![0u8; HASH_BUFFER_SIZE];
    hash_loop(reader, &mut buf, None, progress)
}

/// Copies `src` to `dst` while hashing the bytes copied (one read, one hash
/// update, one write per chunk), so a store can check the digest of what it
/// wrote without reading the file twice.
///
/// The returned digest and byte count are those of the bytes written to
/// `dst`. `dst` is flushed at the end (a no-op for a plain `File`); making
/// the bytes durable (`sync_data`) is the caller's job. `progress` gets a
/// byte delta after every chunk written.
///
/// # Errors
///
/// The first error from reading `src`, writing `dst` or flushing `dst`. On
/// error, `dst` may hold a prefix of the input.
pub fn copy_and_hash(
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<FileDigest> {
    let mut buf = vec![0u8; HASH_BUFFER_SIZE];
    hash_loop(src, &mut buf, Some(dst), progress)
}

/// Hashes several files in parallel on up to `threads` threads
/// (0 = [`std::thread::available_parallelism`]), largest files first so the
/// cores stay busy; results in the order of `paths`.
///
/// The calling thread is one of the workers; never more threads than files
/// are used. If the OS refuses to start a thread, the work is shared among
/// those that did start (at least the calling one). `progress` gets byte
/// deltas from all threads, so it is called concurrently.
///
/// Each file's outcome is independent: a file that cannot be read yields an
/// [`Error::Io`] naming it at its position, and the others are still hashed.
///
/// # Panics
///
/// Only if `progress` panics (the panic is passed on once every thread has
/// stopped).
pub fn hash_files(
    paths: &[PathBuf],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileDigest>> {
    hash_files_via(&StdOpener, paths, threads, progress)
        .into_iter()
        .map(|r| r.map(|read| read.digest))
        .collect()
}

/// Where the hashing functions get their bytes: the real file system, or
/// the catalog's [`crate::fs::Fs`] (so verification goes through the same
/// layer as everything else, and tests can inject faults).
pub(crate) trait Opener: Sync {
    /// Opens `path` by handle (a regular file only, never blocking on a
    /// FIFO; a final symlink is followed: the caller named the path).
    fn open(&self, path: &Path) -> io::Result<Box<dyn ForeignFile>>;
    /// The size of `path`, if known (to read the largest files first).
    fn size(&self, path: &Path) -> Option<u64>;
    /// The length `path` must have, if the caller knows it: a file of
    /// another length is refused before a byte is read (a sparse file of
    /// terabytes in place of a model file is not hashed for hours).
    fn expected_len(&self, path: &Path) -> Option<u64> {
        let _ = path;
        None
    }
}

/// Opens each file as its caller described it: inside a tree (a model
/// registered in place: no symlink may lead out of it), or as named; with
/// the length it must have.
pub(crate) struct TargetOpener<'a> {
    /// The catalog's file system.
    pub fs: &'a dyn crate::fs::Fs,
    /// Per path: the tree it must be reached in, and its length (0:
    /// unknown).
    pub files: std::collections::HashMap<PathBuf, (Option<PathBuf>, u64)>,
}

impl Opener for TargetOpener<'_> {
    fn open(&self, path: &Path) -> io::Result<Box<dyn ForeignFile>> {
        let at = match self.files.get(path) {
            Some((Some(tree), _)) => match path.strip_prefix(tree) {
                Ok(rel) if !rel.as_os_str().is_empty() => ForeignPath::inside(tree, rel),
                _ => ForeignPath::named(path),
            },
            _ => ForeignPath::named(path),
        };
        self.fs.open_foreign(at)
    }
    fn size(&self, path: &Path) -> Option<u64> {
        self.files.get(path).map(|f| f.1)
    }
    fn expected_len(&self, path: &Path) -> Option<u64> {
        self.files.get(path).map(|f| f.1).filter(|&n| n > 0)
    }
}

struct StdOpener;

impl Opener for StdOpener {
    fn open(&self, path: &Path) -> io::Result<Box<dyn ForeignFile>> {
        crate::fs::Fs::open_foreign(&crate::fs::StdFs, ForeignPath::named(path))
    }
    fn size(&self, path: &Path) -> Option<u64> {
        std::fs::metadata(path).ok().map(|m| m.len())
    }
}

/// Reads through the catalog's file-system layer.
pub(crate) struct FsOpener<'a>(pub &'a dyn crate::fs::Fs);

impl Opener for FsOpener<'_> {
    fn open(&self, path: &Path) -> io::Result<Box<dyn ForeignFile>> {
        self.0.open_foreign(ForeignPath::named(path))
    }
    fn size(&self, path: &Path) -> Option<u64> {
        self.0.metadata(path, true).ok().flatten().map(|m| m.len)
    }
}

/// One file hashed by [`hash_files_via`]: its digest, and its fingerprint
/// from the descriptor before the first byte was read (the same after the
/// last, or the read failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileRead {
    /// What its bytes hash to.
    pub digest: FileDigest,
    /// The state of the file those bytes are.
    pub read_as: crate::fs::Meta,
}

/// [`hash_files`] reading through `opener`, with each file's fingerprint;
/// a file that changed while it was read is an [`Error::SourceChanged`].
pub(crate) fn hash_files_via(
    opener: &(dyn Opener + '_),
    paths: &[PathBuf],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileRead>> {
    if paths.is_empty() {
        return Vec::new();
    }
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        threads
    }
    .clamp(1, paths.len());

    // Largest first; a file whose size cannot be read counts as empty (it
    // will fail quickly when opened). Ties keep the caller's order.
    let mut order: Vec<(usize, Option<u64>)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (i, opener.size(p)))
        .collect();
    order.sort_by(|a, b| b.1.unwrap_or(0).cmp(&a.1.unwrap_or(0)).then(a.0.cmp(&b.0)));

    let next = AtomicUsize::new(0);
    let worker = || {
        let mut buf = Vec::new();
        let mut done = Vec::new();
        while let Some(&(i, _)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            if let Some(path) = paths.get(i) {
                done.push((i, hash_path(opener, path, &mut buf, &mut |n| progress(n))));
            }
        }
        done
    };

    let mut slots: Vec<Option<Result<FileRead>>> = paths.iter().map(|_| None).collect();
    let mut place = |done: Vec<(usize, Result<FileRead>)>| {
        for (i, result) in done {
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(result);
            }
        }
    };
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads - 1);
        for t in 1..threads {
            match std::thread::Builder::new()
                .name(format!("hash-files-{t}"))
                .spawn_scoped(scope, worker)
            {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    tracing::warn!(error = %e, threads = t, "cannot start more hashing threads");
                    break;
                }
            }
        }
        place(worker());
        for handle in handles {
            match handle.join() {
                Ok(done) => place(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });

    slots
        .into_iter()
        .zip(paths)
        .map(|(slot, path)| {
            // Every index is claimed by some worker and the calling thread
            // works until none is left, so a slot is never empty; if one
            // were, say so instead of inventing a digest.
            slot.unwrap_or_else(|| {
                Err(Error::io(
                    path,
                    io::Error::other("file was not hashed (internal error)"),
                ))
            })
        })
        .collect()
}

/// What comparing a computed digest with an expected one found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestCheck {
    /// The digests are equal.
    Pass,
    /// There was nothing to compare with.
    Warn {
        /// Why this is only a warning (`no expected digest`).
        reason: String,
    },
    /// The digests differ.
    Fail {
        /// What differed (`digest mismatch: expected X, got Y`).
        reason: String,
    },
}

impl DigestCheck {
    /// The outcome class, as recorded in a [`crate::Verification`].
    pub fn result(&self) -> VerifyResult {
        match self {
            DigestCheck::Pass => VerifyResult::Pass,
            DigestCheck::Warn { .. } => VerifyResult::Warn,
            DigestCheck::Fail { .. } => VerifyResult::Fail,
        }
    }

    /// Why, in words: `digest matches` for a pass, else the variant's reason.
    pub fn reason(&self) -> &str {
        match self {
            DigestCheck::Pass => "digest matches",
            DigestCheck::Warn { reason } | DigestCheck::Fail { reason } => reason,
        }
    }
}

/// Compares `actual` with `expected`: pass if equal; warn (`no expected
/// digest`) if none is expected; fail (`digest mismatch: expected X, got Y`)
/// otherwise.
///
/// ```
/// use catalog_core::{Digest, DigestCheck, VerifyResult, verify_digest};
///
/// let actual = Digest::of_bytes(b"weights");
/// assert_eq!(verify_digest(&actual, Some(&actual)), DigestCheck::Pass);
///
/// let check = verify_digest(&actual, None);
/// assert_eq!(check.result(), VerifyResult::Warn);
/// assert_eq!(check.reason(), "no expected digest");
///
/// let other = Digest::of_bytes(b"other weights");
/// let check = verify_digest(&actual, Some(&other));
/// assert_eq!(check.result(), VerifyResult::Fail);
/// assert_eq!(check.reason(), format!("digest mismatch: expected {other}, got {actual}"));
/// ```
pub fn verify_digest(actual: &Digest, expected: Option<&Digest>) -> DigestCheck {
    match expected {
        Some(expected) if expected == actual => DigestCheck::Pass,
        Some(expected) => DigestCheck::Fail {
            reason: format!("digest mismatch: expected {expected}, got {actual}"),
        },
        None => DigestCheck::Warn {
            reason: "no expected digest".to_string(),
        },
    }
}

/// Opens and hashes `path` by handle, growing `buf` to the size the file
/// needs (up to [`HASH_BUFFER_SIZE`]), its fingerprint taken before and
/// compared after.
fn hash_path(
    opener: &(dyn Opener + '_),
    path: &Path,
    buf: &mut Vec<u8>,
    progress: &mut dyn FnMut(u64),
) -> Result<FileRead> {
    let failed = |e: io::Error| {
        if crate::fs::is_changed(&e) {
            Error::SourceChanged {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        } else {
            Error::io(path, e)
        }
    };
    let file = opener.open(path).map_err(failed)?;
    let before = file.meta().map_err(failed)?;
    if let Some(want) = opener.expected_len(path)
        && before.len != want
    {
        return Err(Error::SourceChanged {
            path: path.to_path_buf(),
            reason: format!(
                "it is {} bytes, not the {want} registered; not read",
                before.len
            ),
        });
    }
    // One byte more than the file, so a file that fits is read in one call
    // and end of file is seen by the next.
    let want = usize::try_from(before.len.saturating_add(1))
        .unwrap_or(usize::MAX)
        .clamp(MIN_BUFFER_SIZE, HASH_BUFFER_SIZE);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let digest = hash_loop(&mut file.reader(), buf, None, progress).map_err(failed)?;
    read_whole(&*file, &before, digest.bytes).map_err(failed)?;
    Ok(FileRead {
        digest,
        read_as: before,
    })
}

/// The one loop: read, hash, (write), report, until end of input.
/// What one read of a file computed: its SHA-256, and its git blob id when
/// one was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hashed {
    /// SHA-256 and the bytes read.
    pub file: FileDigest,
    /// `sha1("blob <len>\0" + bytes)`, with `len` the length declared
    /// before reading; `None` if not asked for, or if the bytes read were
    /// not that many (then the file is not the blob its name says).
    pub git: Option<Digest>,
}

/// Hashes everything `reader` yields with SHA-256 and, when `git_len` is
/// given, as a git blob of that declared length, in the same read; copies
/// the bytes to `dst` too if given. One read of the source for all.
pub(crate) fn hash_both(
    reader: &mut dyn Read,
    git_len: Option<u64>,
    dst: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Hashed> {
    use sha1::Digest as _;
    let mut git = git_len.map(|len| {
        let mut h = sha1::Sha1::new();
        h.update(format!("blob {len}\0").as_bytes());
        h
    });
    let mut buf = vec![0u8; HASH_BUFFER_SIZE];
    let file = hash_loop_with(reader, &mut buf, dst, progress, &mut |chunk| {
        if let Some(h) = git.as_mut() {
            h.update(chunk);
        }
    })?;
    let git = match (git, git_len) {
        (Some(h), Some(len)) if len == file.bytes => Some(Digest::git_sha1(h.finalize().into())),
        _ => None,
    };
    Ok(Hashed { file, git })
}

/// Reads the foreign file `file` whole through [`hash_both`] (copying the
/// bytes to `dst` too if given), and proves it did not change meanwhile:
/// its fingerprint from the descriptor before the first byte and after the
/// last (length, mtime, ctime, inode) must agree, and as many bytes must
/// have been read as it had. Otherwise the read fails with
/// [`crate::fs::is_changed`]. Returns what was hashed and the fingerprint
/// taken before: the state of the file the digest is about.
pub(crate) fn hash_foreign(
    file: &dyn crate::fs::ForeignFile,
    git_len: Option<u64>,
    dst: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(Hashed, crate::fs::Meta)> {
    let before = file.meta()?;
    let hashed = hash_both(&mut file.reader(), git_len, dst, progress)?;
    read_whole(file, &before, hashed.file.bytes)?;
    Ok((hashed, before))
}

/// Fails ([`crate::fs::is_changed`]) unless `file`, read from its first
/// byte to its end (`bytes` of them) after it looked like `before`, still
/// looks like it and had that many bytes.
fn read_whole(file: &dyn ForeignFile, before: &crate::fs::Meta, bytes: u64) -> io::Result<()> {
    if !file.meta()?.unchanged_since(before) || bytes != before.len {
        return Err(crate::fs::changed("it changed while it was being read"));
    }
    Ok(())
}

fn hash_loop(
    reader: &mut dyn Read,
    buf: &mut [u8],
    dst: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<FileDigest> {
    hash_loop_with(reader, buf, dst, progress, &mut |_| {})
}

/// [`hash_loop`], handing every chunk to `also` as well.
fn hash_loop_with(
    reader: &mut dyn Read,
    buf: &mut [u8],
    mut dst: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
    also: &mut dyn FnMut(&[u8]),
) -> io::Result<FileDigest> {
    let mut hasher = sha2::Sha256::new();
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get(..n).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "reader claimed {n} bytes read into a {}-byte buffer",
                    buf.len()
                ),
            )
        })?;
        hasher.update(chunk);
        also(chunk);
        if let Some(dst) = dst.as_deref_mut() {
            dst.write_all(chunk)?;
        }
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        total = total.saturating_add(n);
        progress(n);
    }
    if let Some(dst) = dst {
        dst.flush()?;
    }
    Ok(FileDigest {
        digest: Digest::sha256(hasher.finalize().into()),
        bytes: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields `data` in pieces of at most `step` bytes and is
    /// interrupted before every piece.
    struct Choppy<'a> {
        data: &'a [u8],
        step: usize,
        interrupt_next: bool,
    }

    impl Read for Choppy<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.interrupt_next, false) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.interrupt_next = true;
            let n = self.step.min(buf.len()).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            buf[..n].copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    #[test]
    fn interrupted_and_short_reads_still_hash_every_byte() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = Choppy {
            data: &data,
            step: 777,
            interrupt_next: true,
        };
        let mut deltas = Vec::new();
        let got = hash_reader(&mut reader, &mut |n| deltas.push(n)).expect("hashes");
        assert_eq!(got.digest, Digest::of_bytes(&data), "digest of all bytes");
        assert_eq!(got.bytes, 100_000, "byte count");
        assert_eq!(deltas.iter().sum::<u64>(), 100_000, "progress adds up");
        assert!(
            deltas.iter().all(|&d| d > 0 && d <= 777),
            "one progress delta per read, never zero: {deltas:?}"
        );
    }

    /// A reader that lies about how much it read.
    struct Liar;

    impl Read for Liar {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Ok(buf.len() + 1)
        }
    }

    #[test]
    fn a_reader_claiming_too_many_bytes_is_an_error_not_a_panic() {
        let err = hash_reader(&mut Liar, &mut |_| {}).expect_err("must be refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }

    /// A writer that accepts `room` bytes, then fails.
    struct Full {
        room: usize,
        written: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            let n = buf.len().min(self.room);
            self.written.extend_from_slice(&buf[..n]);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_write_fails_the_copy() {
        let data = vec![7u8; HASH_BUFFER_SIZE * 2];
        let mut dst = Full {
            room: 1000,
            written: Vec::new(),
        };
        let err = copy_and_hash(&mut &data[..], &mut dst, &mut |_| {}).expect_err("disk full");
        assert_eq!(err.kind(), io::ErrorKind::StorageFull, "{err}");
        assert_eq!(dst.written.len(), 1000, "only what fitted was written");
    }

    #[test]
    fn a_directory_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = hash_file(dir.path(), &mut |_| {}).expect_err("a directory has no bytes");
        assert!(
            matches!(&err, Error::Io { path, .. } if path == dir.path()),
            "{err:?}"
        );
    }

    #[test]
    fn hash_files_of_nothing_is_nothing() {
        assert!(
            hash_files(&[], 0, &|_| {}).is_empty(),
            "no paths, no results"
        );
    }

    #[test]
    fn pass_reason_is_stable() {
        assert_eq!(DigestCheck::Pass.reason(), "digest matches");
        assert_eq!(DigestCheck::Pass.result(), VerifyResult::Pass);
    }

    #[test]
    fn one_read_gives_the_sha256_and_the_git_blob_id() {
        let data = b"{\n  \"architectures\": [\"LlamaForCausalLM\"]\n}\n".repeat(3000);
        let mut copy = Vec::new();
        let mut seen = 0;
        let hashed = hash_both(
            &mut &data[..],
            Some(data.len() as u64),
            Some(&mut copy),
            &mut |n| seen += n,
        )
        .unwrap();
        assert_eq!(hashed.file.digest, Digest::of_bytes(&data));
        assert_eq!(hashed.git, Some(Digest::git_blob_of_bytes(&data)));
        assert_eq!((copy.as_slice(), seen), (&data[..], data.len() as u64));
        // A declared length that is not the file's gives no git id.
        let short = hash_both(&mut &data[..], Some(1), None, &mut |_| {}).unwrap();
        assert_eq!(short.git, None);
        assert_eq!(
            hash_both(&mut &data[..], None, None, &mut |_| {})
                .unwrap()
                .git,
            None
        );
    }
}
