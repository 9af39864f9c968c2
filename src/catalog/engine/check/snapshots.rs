//! Every snapshot: readable, of this catalog, at the chain value of its
//! sequence, and bound — by its checkpoint record (format 2), or compared
//! with a replay of the journal (format 1, and every snapshot if deep).

use super::super::identity::Identity;
use super::super::options::Options;
use super::journal::Journal;
use super::report::{CheckOptions, CheckReport, ProblemKind, problem};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::snapshot;
use crate::state::State;

#[allow(clippy::too_many_arguments)]
pub(super) fn check_snapshots(
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    snapshots: &[u64],
    j: &Journal,
    copts: &CheckOptions,
    report: &mut CheckReport,
) -> Result<()> {
    let fs = &*opts.fs;
    for &seq in snapshots {
        let path = layout.snapshot_file(seq);
        report.snapshots += 1;
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let (decoded, entries) = match snapshot::decode(&bytes, &path) {
            Ok(x) => x,
            Err(Error::Corrupt { offset, reason, .. }) => {
                problem(
                    report,
                    ProblemKind::Snapshot,
                    &path,
                    offset,
                    Some(seq),
                    reason,
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        let meta = decoded.meta;
        let last_seq = report.last_seq;
        let mut found: Vec<String> = Vec::new();
        if meta.catalog_id != identity.catalog_id || meta.seq != seq {
            found.push("snapshot names another catalog or sequence".into());
        } else {
            match j.chains_at.get(&seq) {
                Some(c) if *c != meta.chain => found
                    .push("snapshot chain value differs from the journal's at its sequence".into()),
                Some(_) => {}
                None if seq > last_seq => found.push(format!(
                    "snapshot covers {seq}, beyond the journal's end {last_seq}"
                )),
                None => {}
            }
            let replayed = j.states_at.get(&seq).map(|state| {
                let mut snap = State::default();
                for e in entries {
                    snap.insert(e);
                }
                snap == *state
            });
            match j.checkpoints.get(&seq) {
                Some(&(count, content, at))
                    if count != decoded.entries || content != decoded.content =>
                {
                    found.push(format!(
                        "snapshot contents differ from what checkpoint record {at} bound \
                         (edited after it was written?)"
                    ));
                }
                Some(_) => {}
                None if decoded.version >= 2 => found.push(format!(
                    "a format-{} snapshot with no checkpoint record binding it (not written by \
                     a compaction)",
                    decoded.version
                )),
                None if j.first_v2_record.is_some_and(|f| seq >= f) => found.push(
                    "a format-1 snapshot at a sequence written by format 2 (which writes only \
                     bound snapshots)"
                        .into(),
                ),
                None if replayed.is_none() => report.notes.push(format!(
                    "{}: a format-1 snapshot (bound by no record) whose history is not in the \
                     journal: it cannot be verified",
                    path.display()
                )),
                None => {}
            }
            // Compared with a replay whenever one is at hand: for format 1
            // (nothing else binds it), and for every snapshot if deep.
            if replayed == Some(false) && (copts.deep || decoded.version < 2) {
                found.push("snapshot entries differ from a replay of the journal".into());
            }
        }
        for what in found {
            problem(report, ProblemKind::Snapshot, &path, 0, Some(seq), what);
        }
    }
    Ok(())
}
