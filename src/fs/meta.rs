//! The store's view of an OS file's metadata ([`Meta`]), taken from
//! `std::fs::Metadata`: shared by the path-based, the beneath-the-root and
//! the foreign-file implementations.

use super::{FileKind, Meta};
use std::fs;

/// The store's view of an OS file's metadata.
pub(super) fn meta_of(meta: &fs::Metadata) -> Meta {
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
