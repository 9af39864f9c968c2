//! The move intent: before a `--link move` import moves the first source
//! file into `blobs/tmp/`, it records where each staged file comes from,
//! durably, so that whatever happens next (an error, a kill, a power loss)
//! the bytes can be put back ([`super::put_back`]).
//!
//! ```text
//! offset  size        field
//! 0       8           magic        MAGIC
//! 8       4           version      FORMAT_VERSION; any other is refused
//! 12      4           flags        0
//! 16      8           head_seq     the journal's last sequence number when
//!                                  the import started
//! 24      2           id_len       ≤ MAX_ID_LEN
//! 26      id_len      id           the model id being imported (UTF-8)
//! …       4           count        number of files, ≤ MAX_MANIFEST_FILES
//! then `count` times:
//!         2           staged_len   ≤ MAX_STAGED_NAME_LEN
//!         staged_len  staged       its name in blobs/tmp/ (ASCII, `*.tmp`)
//!         2           rel_len      ≤ MAX_PATH_LEN
//!         rel_len     rel          its path in the model (UTF-8; empty for
//!                                  a one-file model)
//!         4           source_len   1 ..= MAX_SOURCE_LEN
//!         source_len  source       the absolute source path, raw bytes
//!         8           inode        the source file's inode number before
//!                                  the move: only that very file is ever
//!                                  put back
//!         8           dir_dev      (version 2) the device and inode
//!         8           dir_inode    numbers of the source's directory when
//!                                  the file was opened (0, 0: none — it
//!                                  was reached through a symlink and is
//!                                  only copied, never moved)
//! end−4   4           crc          CRC-32 of every byte before it
//! ```
//!
//! Version 2 records `source` as the path the kernel knows the file's
//! directory by (taken from its open handle: no symlink in it) joined with
//! its name, and that directory's identity: a file is put back only into
//! that very directory, reached from `/` without following a symlink.
//! Version 1 intents (no directory identity) are still read and acted on
//! with the same walk, without the identity check.
//! All integers are little-endian. The file is published with temp, fsync,
//! rename, fsync of `blobs/tmp/` as `<stem>.intent`; recovery renames one
//! whose files could not all be put back to `<stem>.kept`.

use super::{STAGING_DIR, Store};
use crate::bytes::{u32_at, u64_at};
use crate::entry::{MAX_ID_LEN, MAX_MANIFEST_FILES, MAX_PATH_LEN, check_id, check_relative_path};
use crate::error::{CorruptKind, Error, Result};
use crate::preamble;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// First bytes of an intent file.
pub const MAGIC: [u8; 8] = *b"\x89CCMOVE\n";
/// The intent format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest intent format still read.
pub const OLDEST_VERSION: u32 = 1;
const FLAGS_OFFSET: usize = preamble::VERSION_OFFSET + 4;
const HEAD_SEQ_OFFSET: usize = FLAGS_OFFSET + 4;
const ID_LEN_OFFSET: usize = HEAD_SEQ_OFFSET + 8;
const ID_OFFSET: usize = ID_LEN_OFFSET + 2;
const CRC_LEN: usize = 4;
/// Longest source path recorded (Linux's `PATH_MAX`).
pub const MAX_SOURCE_LEN: usize = 4096;
/// Longest staging name recorded (a file name).
pub const MAX_STAGED_NAME_LEN: usize = 255;
/// Largest intent file read: every field at its bound.
pub const MAX_LEN: u64 = (ID_OFFSET + MAX_ID_LEN + 4 + CRC_LEN) as u64
    + MAX_MANIFEST_FILES as u64
        * (2 + MAX_STAGED_NAME_LEN + 2 + MAX_PATH_LEN + 4 + MAX_SOURCE_LEN + 8 + 16) as u64;

/// Suffix of an intent whose import may still be running or was
/// interrupted.
pub const INTENT_SUFFIX: &str = ".intent";
/// Suffix of an intent whose files recovery could not all put back.
pub const KEPT_SUFFIX: &str = ".kept";

/// Where the staged files of one move import came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Intent {
    /// The journal's last sequence number when the import started.
    pub head_seq: u64,
    /// The model id being imported.
    pub id: String,
    /// One per model file.
    pub files: Vec<IntentFile>,
}

/// One file a move import may move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IntentFile {
    /// Its name in `blobs/tmp/` once moved.
    pub staged: String,
    /// Its path in the model (empty for a one-file model).
    pub rel: String,
    /// Where it was (absolute).
    pub source: PathBuf,
    /// Its inode number there, before the move. A staged file with another
    /// inode is not the one moved (someone put it there) and is never put
    /// back.
    pub inode: u64,
    /// Its directory's identity when it was opened (`None`: a version-1
    /// intent, or a file reached through a symlink, which is never moved).
    pub dir: Option<crate::fs::DirId>,
}

impl IntentFile {
    /// The staged file, relative to the root.
    pub(crate) fn staged_rel(&self) -> String {
        format!("{STAGING_DIR}/{}", self.staged)
    }
}

/// A fresh intent file name, `move-<pid>-<n>-<ms>.intent`.
pub(crate) fn new_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "move-{}-{}-{}{INTENT_SUFFIX}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        crate::clock::now_ms()
    )
}

/// Whether `name` (in `blobs/tmp/`) is an intent, live or kept.
pub(crate) fn is_intent_name(name: &str) -> bool {
    name.ends_with(INTENT_SUFFIX) || name.ends_with(KEPT_SUFFIX)
}

/// The kept name of the intent `name`.
pub(crate) fn kept_name(name: &str) -> String {
    let stem = name.strip_suffix(INTENT_SUFFIX).unwrap_or(name);
    format!("{stem}{KEPT_SUFFIX}")
}

/// A staging name an intent may name: one file name ending in `.tmp`.
fn check_staged_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_STAGED_NAME_LEN
        && name.ends_with(crate::fs::TEMP_SUFFIX)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && name != "."
        && name != ".."
}

impl Intent {
    /// The file's bytes. Fails (before anything is written) if a field is
    /// over its bound.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        check_id(&self.id)?;
        if self.files.len() > MAX_MANIFEST_FILES {
            return Err(Error::invalid(
                "files",
                format!("{} files, at most {MAX_MANIFEST_FILES}", self.files.len()),
            ));
        }
        let mut out = preamble::encode(&MAGIC, FORMAT_VERSION).to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.head_seq.to_le_bytes());
        out.extend_from_slice(&(self.id.len() as u16).to_le_bytes());
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&(self.files.len() as u32).to_le_bytes());
        for f in &self.files {
            let source = f.source.as_os_str().as_bytes();
            if !check_staged_name(&f.staged) {
                return Err(Error::invalid("staged", format!("`{}`", f.staged)));
            }
            if !f.rel.is_empty() {
                check_relative_path("files.path", &f.rel)?;
            }
            if source.is_empty() || source.len() > MAX_SOURCE_LEN || !f.source.is_absolute() {
                return Err(Error::invalid(
                    "source",
                    format!(
                        "{}: an absolute path of at most {MAX_SOURCE_LEN} bytes",
                        f.source.display()
                    ),
                ));
            }
            out.extend_from_slice(&(f.staged.len() as u16).to_le_bytes());
            out.extend_from_slice(f.staged.as_bytes());
            out.extend_from_slice(&(f.rel.len() as u16).to_le_bytes());
            out.extend_from_slice(f.rel.as_bytes());
            out.extend_from_slice(&(source.len() as u32).to_le_bytes());
            out.extend_from_slice(source);
            out.extend_from_slice(&f.inode.to_le_bytes());
            let dir = f.dir.unwrap_or(crate::fs::DirId { dev: 0, inode: 0 });
            out.extend_from_slice(&dir.dev.to_le_bytes());
            out.extend_from_slice(&dir.inode.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Decodes and checks an intent file's bytes; `file` names it in errors.
    pub(crate) fn decode(bytes: &[u8], file: &Path) -> Result<Intent> {
        preamble::check(
            bytes,
            &MAGIC,
            OLDEST_VERSION..=FORMAT_VERSION,
            file,
            "move intent",
        )?;
        let version = u32_at(bytes, preamble::VERSION_OFFSET).unwrap_or_default();
        let corrupt = |offset: usize, kind: CorruptKind, reason: &str| {
            let reason = format!("move intent: {reason}");
            Error::corrupt(file, offset as u64, None, kind, reason)
        };
        if bytes.len() < ID_OFFSET + 4 + CRC_LEN || bytes.len() as u64 > MAX_LEN {
            let reason = "impossible length";
            return Err(corrupt(bytes.len(), CorruptKind::Header, reason));
        }
        let body = bytes.len() - CRC_LEN;
        if crc32fast::hash(&bytes[..body]) != u32_at(bytes, body).unwrap_or_default() {
            return Err(corrupt(body, CorruptKind::Checksum, "CRC mismatch"));
        }
        if u32_at(bytes, FLAGS_OFFSET) != Some(0) {
            return Err(corrupt(FLAGS_OFFSET, CorruptKind::Header, "unknown flags"));
        }
        let mut r = Reader {
            bytes,
            pos: ID_LEN_OFFSET,
            end: body,
        };
        let head_seq = u64_at(bytes, HEAD_SEQ_OFFSET).unwrap_or_default();
        let at = r.pos;
        let id = r
            .text(2, MAX_ID_LEN)
            .ok_or_else(|| corrupt(at, CorruptKind::Decode, "bad model id"))?;
        let at = r.pos;
        let count = r.len(4).filter(|&n| n <= MAX_MANIFEST_FILES);
        let count = count.ok_or_else(|| corrupt(at, CorruptKind::Decode, "bad file count"))?;
        let mut files = Vec::with_capacity(count);
        for _ in 0..count {
            files.push(decode_file(&mut r, version, &corrupt)?);
        }
        if r.pos != body {
            let reason = "bytes after the last file";
            return Err(corrupt(r.pos, CorruptKind::Decode, reason));
        }
        Ok(Intent {
            head_seq,
            id,
            files,
        })
    }
}

/// Decodes one file's record of an intent of format `version`.
fn decode_file(
    r: &mut Reader<'_>,
    version: u32,
    corrupt: &impl Fn(usize, CorruptKind, &str) -> Error,
) -> Result<IntentFile> {
    let at = r.pos;
    let staged = r
        .text(2, MAX_STAGED_NAME_LEN)
        .filter(|s| check_staged_name(s))
        .ok_or_else(|| corrupt(at, CorruptKind::Decode, "bad staging name"))?;
    let at = r.pos;
    let rel = r
        .text(2, MAX_PATH_LEN)
        .filter(|p| p.is_empty() || check_relative_path("rel", p).is_ok())
        .ok_or_else(|| corrupt(at, CorruptKind::Decode, "bad model file path"))?;
    let at = r.pos;
    let source = r
        .field(4, MAX_SOURCE_LEN)
        .map(|b| PathBuf::from(std::ffi::OsString::from_vec(b.to_vec())))
        .filter(|p| p.is_absolute())
        .ok_or_else(|| corrupt(at, CorruptKind::Decode, "bad source path"))?;
    let at = r.pos;
    let inode = r
        .field_exact(8)
        .and_then(|b| u64_at(b, 0))
        .ok_or_else(|| corrupt(at, CorruptKind::Truncated, "truncated inode"))?;
    let dir = if version >= 2 {
        let at = r.pos;
        let truncated = || corrupt(at, CorruptKind::Truncated, "truncated directory identity");
        let raw = r.field_exact(16).ok_or_else(truncated)?;
        match (u64_at(raw, 0), u64_at(raw, 8)) {
            (Some(0), Some(0)) => None,
            (Some(dev), Some(inode)) => Some(crate::fs::DirId { dev, inode }),
            _ => return Err(truncated()),
        }
    } else {
        None
    };
    Ok(IntentFile {
        staged,
        rel,
        source,
        inode,
        dir,
    })
}

/// Publishes `intent` as `blobs/tmp/<name>`: temp, fsync, rename, fsync of
/// `blobs/tmp/` — through directory handles. Only once this returns may a
/// file it names be moved.
pub(crate) fn write(store: &Store, name: &str, intent: &Intent) -> Result<()> {
    let bytes = intent.encode()?;
    let fs = &store.fs;
    let root = store.root();
    let rel = format!("{STAGING_DIR}/{name}");
    let tmp = format!("{rel}{}", crate::fs::TEMP_SUFFIX);
    let mut file = fs
        .create_new_beneath(root, &tmp)
        .map_err(|e| store.error(&tmp, e))?;
    file.write_all(&bytes).map_err(|e| store.error(&tmp, e))?;
    file.sync_data().map_err(|e| store.error(&tmp, e))?;
    drop(file);
    fs.rename_beneath(root, &tmp, &rel)
        .map_err(|e| store.error(&rel, e))?;
    store.sync_dir(STAGING_DIR)
}

/// Reads and checks the intent `blobs/tmp/<name>`.
pub(crate) fn read(store: &Store, name: &str) -> Result<Intent> {
    let path = store.staging_dir().join(name);
    let len = store
        .fs
        .metadata(&path, false)
        .map_err(|e| Error::io(&path, e))?
        .map_or(0, |m| m.len);
    if len > MAX_LEN {
        return Err(Error::corrupt(
            &path,
            0,
            None,
            CorruptKind::Header,
            "move intent: impossible length",
        ));
    }
    let bytes = store.fs.read(&path).map_err(|e| Error::io(&path, e))?;
    Intent::decode(&bytes, &path)
}

/// Reads length-prefixed fields up to `end`.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A `width`-byte little-endian length.
    fn len(&mut self, width: usize) -> Option<usize> {
        let raw = self.bytes.get(self.pos..(self.pos + width).min(self.end))?;
        let n = match raw.len() {
            2 => u16::from_le_bytes([raw[0], raw[1]]) as usize,
            4 => u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize,
            _ => return None,
        };
        self.pos += width;
        Some(n)
    }

    /// A field of at most `max` bytes after a `width`-byte length.
    /// The next `n` bytes, if there are that many.
    fn field_exact(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        if self.pos + n > self.end {
            return None;
        }
        self.pos += n;
        Some(out)
    }

    fn field(&mut self, width: usize, max: usize) -> Option<&'a [u8]> {
        let n = self.len(width).filter(|&n| n <= max)?;
        let out = self.bytes.get(self.pos..self.pos + n)?;
        if self.pos + n > self.end {
            return None;
        }
        self.pos += n;
        Some(out)
    }

    fn text(&mut self, width: usize, max: usize) -> Option<String> {
        self.field(width, max)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Intent {
        Intent {
            head_seq: 42,
            id: "llama".into(),
            files: vec![
                IntentFile {
                    staged: "1-2-3.tmp".into(),
                    rel: "config.json".into(),
                    source: PathBuf::from("/data/m/config.json"),
                    inode: 7,
                    dir: Some(crate::fs::DirId {
                        dev: 2049,
                        inode: 9,
                    }),
                },
                IntentFile {
                    staged: "1-3-3.tmp".into(),
                    rel: "w/model.safetensors".into(),
                    source: PathBuf::from(std::ffi::OsString::from_vec(b"/data/\xff/x".to_vec())),
                    inode: u64::MAX,
                    dir: None,
                },
            ],
        }
    }

    /// What version 1 wrote for `intent` (no directory identities).
    fn encode_v1(intent: &Intent) -> Vec<u8> {
        let mut out = preamble::encode(&MAGIC, 1).to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&intent.head_seq.to_le_bytes());
        out.extend_from_slice(&(intent.id.len() as u16).to_le_bytes());
        out.extend_from_slice(intent.id.as_bytes());
        out.extend_from_slice(&(intent.files.len() as u32).to_le_bytes());
        for f in &intent.files {
            let source = f.source.as_os_str().as_bytes();
            out.extend_from_slice(&(f.staged.len() as u16).to_le_bytes());
            out.extend_from_slice(f.staged.as_bytes());
            out.extend_from_slice(&(f.rel.len() as u16).to_le_bytes());
            out.extend_from_slice(f.rel.as_bytes());
            out.extend_from_slice(&(source.len() as u32).to_le_bytes());
            out.extend_from_slice(source);
            out.extend_from_slice(&f.inode.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn a_version_1_intent_is_still_read_without_directory_identities() {
        let mut v1 = sample();
        let bytes = encode_v1(&v1);
        for f in &mut v1.files {
            f.dir = None;
        }
        assert_eq!(Intent::decode(&bytes, Path::new("i")).unwrap(), v1);
    }

    #[test]
    fn an_intent_round_trips_with_raw_source_bytes() {
        let bytes = sample().encode().unwrap();
        assert_eq!(Intent::decode(&bytes, Path::new("i")).unwrap(), sample());
        let single = Intent {
            files: vec![IntentFile {
                rel: String::new(),
                ..sample().files[0].clone()
            }],
            ..sample()
        };
        let bytes = single.encode().unwrap();
        assert_eq!(Intent::decode(&bytes, Path::new("i")).unwrap(), single);
    }

    #[test]
    fn every_damaged_byte_is_refused_and_named_fields_are_checked() {
        let good = sample().encode().unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            assert!(Intent::decode(&bad, Path::new("i")).is_err(), "byte {i}");
        }
        for cut in 0..good.len() {
            assert!(
                Intent::decode(&good[..cut], Path::new("i")).is_err(),
                "cut {cut}"
            );
        }
        let mut newer = good.clone();
        newer[preamble::VERSION_OFFSET] = 3;
        assert!(matches!(
            Intent::decode(&newer, Path::new("i")),
            Err(Error::UnsupportedVersion { got: 3, .. })
        ));
    }

    #[test]
    fn a_staging_name_or_source_that_could_escape_is_never_written_or_read() {
        for staged in ["../x.tmp", "a/b.tmp", "x", "", ".tmp/../.."] {
            let mut i = sample();
            i.files[0].staged = staged.into();
            assert!(i.encode().is_err(), "{staged:?}");
        }
        let mut i = sample();
        i.files[0].source = PathBuf::from("relative/path");
        assert!(i.encode().is_err());
        // A well-formed file whose staging name escapes (CRC recomputed).
        let mut i = sample();
        i.files[0].staged = "1-2-3.tmp".into();
        let mut bytes = i.encode().unwrap();
        let at = bytes.windows(9).position(|w| w == b"1-2-3.tmp").unwrap();
        bytes[at..at + 3].copy_from_slice(b"../");
        let body = bytes.len() - CRC_LEN;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            Intent::decode(&bytes, Path::new("i")),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn names_tell_intents_from_staged_files() {
        let n = new_name();
        assert!(is_intent_name(&n) && n.ends_with(INTENT_SUFFIX));
        assert!(is_intent_name(&kept_name(&n)) && kept_name(&n).ends_with(KEPT_SUFFIX));
        assert!(!is_intent_name("1-2-3.tmp"));
        assert!(
            !is_intent_name(&format!("{n}.tmp")),
            "an unpublished intent is a temp file"
        );
    }
}
