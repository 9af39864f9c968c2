//! What the check is asked (`CheckOptions`) and what it reports
//! (`CheckReport`, its `Problem`s), shared by the parts of the check.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Which part of the catalog a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A journal segment (a record, its chain, the segment sequence), or
    /// the catalog does not open.
    Journal,
    /// A snapshot.
    Snapshot,
    /// A stored file (blob or view) an entry uses.
    Store,
    /// The history is incomplete or not the pinned one: records lost (a
    /// gap written by repair), sealed segments missing that no pruning
    /// record explains, or a pinned head the journal no longer holds.
    /// `Catalog::repair` cannot bring such history back.
    History,
}

/// What [`crate::Catalog::check_with`] checks.
///
/// ```
/// use catalog_core::CheckOptions;
/// let pinned = format!("12:{}", "ab".repeat(32));
/// let opts = CheckOptions::default().deep(true).expect_head(&pinned).unwrap();
/// assert_eq!(opts.expect_head.unwrap().0, 12);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Also replay the whole journal against every snapshot and hash every
    /// stored file.
    pub deep: bool,
    /// A head pinned elsewhere (`Catalog::head`): sequence number and chain
    /// value. The journal must still hold that record with that chain
    /// value; otherwise acknowledged records were lost or history was
    /// rewritten (a loss no log can see on its own).
    pub expect_head: Option<(u64, [u8; 32])>,
}

impl CheckOptions {
    /// Sets `deep`.
    pub fn deep(mut self, deep: bool) -> Self {
        self.deep = deep;
        self
    }

    /// Parses a pinned head, `SEQ:CHAIN` (the chain as 64 hex digits, as
    /// `catalog head` prints it).
    pub fn expect_head(mut self, pinned: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "expected head",
                "`SEQ:CHAIN`: a sequence number, a colon and 64 hex digits",
            )
        };
        let (seq, chain) = pinned.trim().split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        let digest: crate::Digest = format!("sha256:{chain}").parse().map_err(|_| bad())?;
        self.expect_head = Some((seq, *digest.as_bytes()));
        Ok(self)
    }
}

/// One thing the check found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Where: journal, snapshot or store (only the first two can be
    /// repaired by `Catalog::repair`).
    pub kind: ProblemKind,
    /// The file.
    pub file: PathBuf,
    /// Byte offset, where it applies.
    pub offset: u64,
    /// Sequence number involved, where known.
    pub seq: Option<u64>,
    /// What is wrong.
    pub what: String,
}

/// What [`crate::Catalog::check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Segments read.
    pub segments: u64,
    /// Records whose CRC and chain value were verified.
    pub records: u64,
    /// First sequence number still in the journal.
    pub first_seq: u64,
    /// Last valid sequence number.
    pub last_seq: u64,
    /// Chain value after it, 64 hex digits (compare with a pinned head).
    pub head_chain: String,
    /// Snapshots checked.
    pub snapshots: u64,
    /// Stored files hashed (deep check).
    pub blobs_hashed: u64,
    /// Problems, in the order found; the first is the first break.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not damage (a torn tail the next writer
    /// open will cut, history pruned by retention).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub(super) fn problem(
    report: &mut CheckReport,
    kind: ProblemKind,
    file: &Path,
    offset: u64,
    seq: Option<u64>,
    what: impl Into<String>,
) {
    report.problems.push(Problem {
        kind,
        file: file.to_path_buf(),
        offset,
        seq,
        what: what.into(),
    });
}
