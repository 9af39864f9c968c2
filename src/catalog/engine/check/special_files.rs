//! Before the check reads any of the catalog's own files — `IDENTITY`,
//! the journal segments, the snapshots, the move intents in `blobs/tmp/` —
//! each is looked at by its metadata: one that is not a regular file (a
//! FIFO planted where a segment was, a directory, a device) is a problem
//! named by what it is, and then nothing more is read, because reading
//! (or opening the catalog, which reads them too) would open it, and
//! opening a FIFO blocks until a writer comes.

use super::super::options::Options;
use super::found::Found;
use super::report::{CheckReport, ProblemKind, problem};
use crate::error::Result;
use crate::journal::listing::list_numbered;
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use crate::store::STAGING_DIR;
use crate::store::intent::is_intent_name;
use std::path::PathBuf;

/// Reports each of the catalog's own files that is there but not a
/// regular file; `true` if there was one (the check then reads nothing).
pub(super) fn found_special_files(
    layout: &Layout,
    opts: &Options,
    report: &mut CheckReport,
) -> Result<bool> {
    let fs = &*opts.fs;
    let mut files: Vec<(PathBuf, ProblemKind)> =
        vec![(layout.identity_file(), ProblemKind::Journal)];
    for n in list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?.0 {
        files.push((layout.segment_file(n), ProblemKind::Journal));
    }
    for seq in list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?.0 {
        files.push((layout.snapshot_file(seq), ProblemKind::Snapshot));
    }
    let staging = layout.root().join(STAGING_DIR);
    for name in fs.list(&staging).unwrap_or_default() {
        if is_intent_name(&name) {
            files.push((staging.join(name), ProblemKind::Store));
        }
    }
    let mut found_one = false;
    for (path, kind) in files {
        let found = Found::at(fs, &path, false);
        if matches!(found, Found::File) || found.is_gone() {
            continue;
        }
        found_one = true;
        let what = format!(
            "this file of the catalog's {}; it is not read (nor is the rest of the catalog \
             while it is there: opening it could block) — remove it, put the real file back (from \
             a backup), and check again",
            found.describe()
        );
        problem(report, kind, &path, 0, None, what);
    }
    Ok(found_one)
}
