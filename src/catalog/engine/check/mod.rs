//! Tamper evidence and health: walk the whole retained journal and every
//! snapshot, verify every CRC and the SHA-256 chain, every snapshot against
//! the checkpoint record that bound it (or, for a format-1 snapshot, against
//! a replay), that the history is complete (no gap, no missing segment that
//! no pruning record explains), that the catalog opens, and — given a head
//! pinned elsewhere — that the journal still holds it. With `deep`, also
//! replay the journal against every snapshot and hash every stored file.
//!
//! The check changes nothing and takes no lock, so it runs beside a writer
//! and on a catalog that refuses to open. It looks at a file by its
//! metadata before it reads it, and never opens one that is not a regular
//! file (a FIFO's open blocks): such a file is a problem named by what it
//! is (`found`, `special_files`).

mod found;
mod journal;
mod snapshots;
mod special_files;
mod store;

use super::identity::Identity;
use super::options::Options;
use super::recovery::list_numbered;
use crate::error::{Error, Result};
use crate::layout::{Layout, SNAPSHOT_SUFFIX};
use std::path::Path;
use std::path::PathBuf;

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

/// Runs the check on the catalog under `root`.
pub(crate) fn check(root: &Path, opts: &Options, copts: &CheckOptions) -> Result<CheckReport> {
    let layout = Layout::new(std::path::absolute(root).map_err(|e| Error::io(root, e))?);
    let fs = &*opts.fs;
    let mut report = CheckReport::default();
    if special_files::found_special_files(&layout, opts, &mut report)? {
        return Ok(report);
    }
    let id_path = layout.identity_file();
    let identity = match fs.read(&id_path) {
        Ok(bytes) => Identity::decode(&bytes, &id_path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NoCatalog {
                root: layout.root().to_path_buf(),
            });
        }
        Err(e) => return Err(Error::io(&id_path, e)),
    };
    let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
    let Some(journal) =
        journal::walk_journal(&layout, opts, &identity, &snapshots, copts, &mut report)?
    else {
        return Ok(report);
    };
    journal::check_history(&journal, &mut report);
    snapshots::check_snapshots(
        &layout,
        opts,
        &identity,
        &snapshots,
        &journal,
        copts,
        &mut report,
    )?;
    if let Some((seq, chain)) = copts.expect_head {
        journal::check_pinned_head(&layout, &journal, seq, &chain, &mut report);
    }
    // The catalog must open (as a reader would); its entries are what the
    // store check examines when no full replay was possible.
    let opened = match super::recovery::recover(&layout, opts, false) {
        Ok(rec) => Some(rec.view.state),
        Err(e) => {
            problem(
                &mut report,
                ProblemKind::Journal,
                layout.meta_dir(),
                0,
                None,
                format!("the catalog does not open: {e}"),
            );
            None
        }
    };
    if let Some(state) = journal.replayed.or(opened) {
        store::check_store(&layout, opts, copts.deep, &state, &mut report)?;
    }
    store::check_moves(&layout, opts, &mut report)?;
    Ok(report)
}
