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
mod report;
mod snapshots;
mod special_files;
mod store;

use report::problem;
pub use report::{CheckOptions, CheckReport, Problem, ProblemKind};

use super::identity::Identity;
use super::options::Options;
use crate::error::{Error, Result};
use crate::journal::listing::list_numbered;
use crate::layout::{Layout, SNAPSHOT_SUFFIX};
use std::path::Path;

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
