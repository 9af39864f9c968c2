//! The preamble every catalog file starts with, and its one check.
//!
//! ```text
//! offset  size  field
//! 0       8     magic     which kind of file this is
//! 8       4     version   the format version; any other than this build's is refused
//! ```
//! The version is checked right after the magic and before any CRC, so a
//! file from a newer build is refused as such even if the rest of its layout
//! changed.

use crate::bytes::u32_at;
use crate::error::{CorruptKind, Error, Result};
use std::path::Path;

/// Length of the magic.
pub(crate) const MAGIC_LEN: usize = 8;
/// Offset of the version field.
pub(crate) const VERSION_OFFSET: usize = MAGIC_LEN;
/// Length of the preamble.
pub(crate) const LEN: usize = VERSION_OFFSET + 4;

/// Checks that `bytes` start with `magic` and `version`. `what` names the
/// kind of file in the error ("segment header", "snapshot", ...).
pub(crate) fn check(
    bytes: &[u8],
    magic: &[u8; MAGIC_LEN],
    versions: std::ops::RangeInclusive<u32>,
    file: &Path,
    what: &str,
) -> Result<u32> {
    if bytes.get(..MAGIC_LEN) != Some(&magic[..]) {
        return Err(Error::corrupt(
            file,
            0,
            None,
            CorruptKind::Magic,
            format!("{what}: bad magic (not a catalog {what})"),
        ));
    }
    let got = u32_at(bytes, VERSION_OFFSET).ok_or_else(|| {
        Error::corrupt(
            file,
            VERSION_OFFSET as u64,
            None,
            CorruptKind::Truncated,
            format!("{what}: truncated"),
        )
    })?;
    if !versions.contains(&got) {
        return Err(Error::UnsupportedVersion {
            file: file.to_path_buf(),
            expected: *versions.end(),
            got,
        });
    }
    Ok(got)
}

pub(crate) fn encode(magic: &[u8; MAGIC_LEN], version: u32) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    out[..MAGIC_LEN].copy_from_slice(magic);
    out[VERSION_OFFSET..].copy_from_slice(&version.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_then_version_then_nothing_else() {
        let ok = encode(b"\x89CCTEST\n", 1);
        assert_eq!(
            check(&ok, b"\x89CCTEST\n", 1..=1, Path::new("f"), "test").unwrap(),
            1
        );
        let err = check(&ok, b"\x89CCOTHR\n", 1..=1, Path::new("f"), "test").unwrap_err();
        assert!(matches!(err, Error::Corrupt { offset: 0, .. }), "{err}");
        let err = check(
            &encode(b"\x89CCTEST\n", 2),
            b"\x89CCTEST\n",
            1..=1,
            Path::new("f"),
            "t",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    expected: 1,
                    got: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = check(&ok[..10], b"\x89CCTEST\n", 1..=1, Path::new("f"), "t").unwrap_err();
        assert!(matches!(err, Error::Corrupt { offset: 8, .. }), "{err}");
        // An older version inside the readable range is read.
        let old = encode(b"\x89CCTEST\n", 1);
        assert_eq!(
            check(&old, b"\x89CCTEST\n", 1..=2, Path::new("f"), "t").unwrap(),
            1
        );
        let err = check(
            &encode(b"\x89CCTEST\n", 0),
            b"\x89CCTEST\n",
            1..=2,
            Path::new("f"),
            "t",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    expected: 2,
                    got: 0,
                    ..
                }
            ),
            "{err}"
        );
    }
}
