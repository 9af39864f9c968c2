//! Where each file lives under the catalog root.
//!
//! ```text
//! <root>/catalog/IDENTITY                 catalog id (written once)
//! <root>/catalog/LOCK                     writer lock (OS advisory lock)
//! <root>/catalog/journal/<20 digits>.seg  journal segments, by segment number
//! <root>/catalog/snapshots/<20 digits>.snap  snapshots, by last sequence covered
//! <root>/catalog/recovered/<seg>-<offset>.torn  bytes cut off a torn tail
//! <root>/catalog/repair/{journal,snapshots}/  a repair being staged
//! <root>/catalog/REPAIR                   marker: a staged repair is being swapped in
//! <root>/catalog/quarantine/<time>/       files a repair replaced, kept for inspection
//! ```

use std::path::{Path, PathBuf};

/// Name of the identity file in the catalog directory.
pub const IDENTITY_FILE: &str = "IDENTITY";
/// Name of the repair marker in the catalog directory.
pub const REPAIR_MARKER: &str = "REPAIR";
/// Suffix of journal segment files.
pub const SEGMENT_SUFFIX: &str = ".seg";
/// Suffix of snapshot files.
pub const SNAPSHOT_SUFFIX: &str = ".snap";
const NUMBER_DIGITS: usize = 20;

/// Paths of one catalog root.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    meta: PathBuf,
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let meta = root.join("catalog");
        Layout { root, meta }
    }

    /// The catalog root.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The directory holding the catalog's own files.
    pub fn meta_dir(&self) -> &Path {
        &self.meta
    }
    /// The identity file.
    pub fn identity_file(&self) -> PathBuf {
        self.meta.join(IDENTITY_FILE)
    }
    /// The writer lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.meta.join("LOCK")
    }
    /// The journal directory.
    pub fn journal_dir(&self) -> PathBuf {
        self.meta.join("journal")
    }
    /// The snapshot directory.
    pub fn snapshot_dir(&self) -> PathBuf {
        self.meta.join("snapshots")
    }
    /// Where bytes cut off a torn tail are kept.
    pub fn recovered_dir(&self) -> PathBuf {
        self.meta.join("recovered")
    }
    /// Where a repair stages the new journal and snapshot.
    pub fn repair_staging_dir(&self) -> PathBuf {
        self.meta.join("repair")
    }
    /// The marker saying a staged repair is complete and being swapped in.
    pub fn repair_marker(&self) -> PathBuf {
        self.meta.join(REPAIR_MARKER)
    }
    /// Where a repair moves the files it replaced.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.meta.join("quarantine")
    }
    /// Path of segment `number`.
    pub fn segment_file(&self, number: u64) -> PathBuf {
        self.journal_dir().join(segment_name(number))
    }
    /// Path of the snapshot covering up to `seq`.
    pub fn snapshot_file(&self, seq: u64) -> PathBuf {
        self.snapshot_dir().join(snapshot_name(seq))
    }
}

/// File name of segment `number`.
pub fn segment_name(number: u64) -> String {
    format!("{number:0NUMBER_DIGITS$}{SEGMENT_SUFFIX}")
}

/// File name of the snapshot covering up to `seq`.
pub fn snapshot_name(seq: u64) -> String {
    format!("{seq:0NUMBER_DIGITS$}{SNAPSHOT_SUFFIX}")
}

/// The number in a file name `<20 digits><suffix>`, or `None` for any other name.
pub fn parse_numbered(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != NUMBER_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_round_trip_and_reject_lookalikes() {
        assert_eq!(segment_name(7), "00000000000000000007.seg");
        assert_eq!(parse_numbered(&segment_name(7), SEGMENT_SUFFIX), Some(7));
        assert_eq!(
            parse_numbered(&snapshot_name(u64::MAX), SNAPSHOT_SUFFIX),
            Some(u64::MAX)
        );
        for bad in [
            "7.seg",
            "00000000000000000007.seg.tmp",
            "0000000000000000000x.seg",
            "00000000000000000007.snap",
        ] {
            assert_eq!(parse_numbered(bad, SEGMENT_SUFFIX), None, "{bad}");
        }
    }
}
