//! Tamper evidence and health: walk the whole retained journal and every
//! snapshot, verify every CRC and the SHA-256 chain, and report the first
//! break; with `deep`, also replay the journal against every snapshot and
//! hash every stored file.
//!
//! The check changes nothing and takes no lock, so it runs beside a writer
//! and on a catalog that refuses to open.

use super::identity::Identity;
use super::options::Options;
use super::recovery::list_numbered;
use crate::error::{Error, Result};
use crate::fs::FileKind;
use crate::hashing::{FsOpener, hash_files_via};
use crate::journal::chain::{self, ChainValue};
use crate::journal::op::Op;
use crate::journal::reader::{self, Cursor, ScanEnd};
use crate::journal::segment::{self, SegmentHeader};
use crate::layout::{Layout, SEGMENT_SUFFIX, SNAPSHOT_SUFFIX};
use crate::snapshot;
use crate::state::{State, change_for};
use crate::store::confine::confined;
use crate::store::usage::objects_of;
use crate::store::{BLOBS_DIR, Object, Store, put_back, view};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which part of the catalog a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A journal segment (a record, its chain, the segment sequence).
    Journal,
    /// A snapshot.
    Snapshot,
    /// A stored file (blob or view) an entry uses.
    Store,
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

fn problem(
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
pub(crate) fn check(root: &Path, opts: &Options, deep: bool) -> Result<CheckReport> {
    let layout = Layout::new(std::path::absolute(root).map_err(|e| Error::io(root, e))?);
    let fs = &*opts.fs;
    let mut report = CheckReport::default();
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
    let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
    let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
    let wanted: Vec<u64> = snapshots.clone();
    let mut chains_at: BTreeMap<u64, ChainValue> = BTreeMap::new();
    // Replay from genesis (deep): the state at each snapshot's sequence.
    let mut replay = (deep).then(State::default);
    let mut states_at: BTreeMap<u64, State> = BTreeMap::new();
    let mut prev: Option<Cursor> = None;
    let mut gap_note: Option<String> = None;
    let mut prev_no: Option<u64> = None;
    for (i, &n) in segments.iter().enumerate() {
        let path = layout.segment_file(n);
        report.segments += 1;
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let h = match SegmentHeader::decode(&bytes, &path) {
            Ok(h) => h,
            Err(e) => {
                problem(
                    &mut report,
                    ProblemKind::Journal,
                    &path,
                    0,
                    None,
                    e.to_string(),
                );
                return Ok(report);
            }
        };
        if h.catalog_id != identity.catalog_id || h.segment_no != n {
            problem(
                &mut report,
                ProblemKind::Journal,
                &path,
                0,
                None,
                "segment header names another catalog or number",
            );
            return Ok(report);
        }
        if let Some(p) = prev_no
            && n != p + 1
        {
            problem(
                &mut report,
                ProblemKind::Journal,
                &path,
                0,
                None,
                format!("segment {} is missing", p + 1),
            );
            return Ok(report);
        }
        match prev {
            None if h.first_seq == 1 && h.prev_chain != chain::genesis(&identity.catalog_id) => {
                problem(
                    &mut report,
                    ProblemKind::Journal,
                    &path,
                    0,
                    Some(1),
                    "the first segment does not start from the genesis chain value",
                );
                return Ok(report);
            }
            None => {
                report.first_seq = h.first_seq;
                if h.first_seq != 1 {
                    report.notes.push(format!(
                        "history before sequence {} was pruned (retain_history off); it cannot be checked",
                        h.first_seq
                    ));
                    replay = None;
                }
            }
            Some(p) if p.next_seq != h.first_seq || p.chain != h.prev_chain => {
                problem(
                    &mut report,
                    ProblemKind::Journal,
                    &path,
                    0,
                    Some(h.first_seq),
                    format!(
                        "segment does not continue the one before it (expected first sequence {})",
                        p.next_seq
                    ),
                );
                return Ok(report);
            }
            Some(_) => {}
        }
        let newest = i + 1 == segments.len();
        let start = Cursor {
            offset: segment::HEADER_LEN as u64,
            next_seq: h.first_seq,
            chain: h.prev_chain,
        };
        let body = bytes.get(segment::HEADER_LEN..).unwrap_or_default();
        let mut records = 0u64;
        let scanned = reader::scan(body, start, &path, newest, |v| {
            records += 1;
            let seq = v.header.seq;
            if wanted.binary_search(&seq).is_ok() {
                chains_at.insert(seq, v.header.chain);
            }
            if let Op::Gap { last_lost, .. } = &v.payload.op {
                // Records were lost here (and repaired): the states after it
                // cannot be rebuilt from the journal, so stop comparing.
                if replay.take().is_some() {
                    gap_note = Some(format!(
                        "records {seq}..={last_lost} were lost and repaired; snapshots after them are not compared with a replay"
                    ));
                }
            }
            if let Some(state) = replay.as_mut() {
                let current = v.payload.op.model_id().and_then(|id| state.get(id));
                let change = change_for(current, v.payload.op, seq, v.header.time_ms)
                    .map_err(|reason| Error::corrupt(&path, v.offset, Some(seq), reason))?;
                state.apply(change);
                if wanted.binary_search(&seq).is_ok() {
                    states_at.insert(seq, state.clone());
                }
            }
            Ok(())
        });
        report.records += records;
        report.notes.extend(gap_note.take());
        match scanned {
            Ok((end, ScanEnd::Clean)) => prev = Some(end),
            Ok((end, ScanEnd::Torn { reason })) => {
                report.notes.push(format!(
                    "{} ends in a torn tail at byte {} ({reason}): unacknowledged writes a crash \
                     left; the next writer open cuts them",
                    path.display(),
                    end.offset
                ));
                prev = Some(end);
            }
            Err(Error::Corrupt {
                file,
                offset,
                seq,
                reason,
            }) => {
                report.problems.push(Problem {
                    kind: ProblemKind::Journal,
                    file,
                    offset,
                    seq,
                    what: reason,
                });
                return Ok(report);
            }
            Err(e) => return Err(e),
        }
        prev_no = Some(n);
    }
    if let Some(end) = prev {
        report.last_seq = end.next_seq - 1;
        report.head_chain = crate::digest::hex(&end.chain);
    }
    check_snapshots(
        &layout,
        opts,
        &identity,
        &snapshots,
        &chains_at,
        &states_at,
        &mut report,
    )?;
    // The entries now: the full replay, or what a read-only open recovers.
    let entries = match replay {
        Some(state) => Some(state),
        None => match super::recovery::recover(&layout, opts, false) {
            Ok(rec) => Some(rec.view.state),
            Err(e) => {
                report.notes.push(format!(
                    "the store was not checked: the catalog does not open ({e})"
                ));
                None
            }
        },
    };
    if let Some(state) = entries {
        check_store(&layout, opts, deep, &state, &mut report)?;
    }
    check_moves(&layout, opts, &mut report)?;
    Ok(report)
}

/// Files `--link move` imports took from their sources and did not
/// register: one that recovery could not put back is a problem naming
/// where the bytes are and where they came from; one of an import that is
/// running or was interrupted is a note (the next writer open puts it
/// back). An unreadable intent is a problem.
fn check_moves(layout: &Layout, opts: &Options, report: &mut CheckReport) -> Result<()> {
    let store = Store::new(opts.fs.clone(), layout.root());
    let (pending, errors) = put_back::pending(&store)?;
    for p in pending {
        if p.kept {
            problem(
                report,
                ProblemKind::Store,
                &p.staged,
                0,
                None,
                format!(
                    "the bytes of {} were moved into the store by an import that failed or was \
                     interrupted and could not be put back (the path is taken or its directory \
                     is gone); they are kept here and never deleted: move them where you want \
                     them, or free the path and open the catalog for writing",
                    p.source.display()
                ),
            );
        } else {
            report.notes.push(format!(
                "{}: moved from {} by an import that is running or was interrupted ({}); the \
                 next writer open puts it back if the import did not finish",
                p.staged.display(),
                p.source.display(),
                p.intent.display()
            ));
        }
    }
    for e in errors {
        let (file, offset) = match &e {
            Error::Corrupt { file, offset, .. } => (file.clone(), *offset),
            Error::UnsupportedVersion { file, .. } => (file.clone(), 0),
            _ => (store.staging_dir(), 0),
        };
        problem(
            report,
            ProblemKind::Store,
            &file,
            offset,
            None,
            format!(
                "a move intent cannot be read ({e}); gc removes no staged file while it is there"
            ),
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_snapshots(
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    snapshots: &[u64],
    chains_at: &BTreeMap<u64, ChainValue>,
    states_at: &BTreeMap<u64, State>,
    report: &mut CheckReport,
) -> Result<()> {
    let fs = &*opts.fs;
    for &seq in snapshots {
        let path = layout.snapshot_file(seq);
        report.snapshots += 1;
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let (meta, entries) = match snapshot::decode(&bytes, &path) {
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
        if meta.catalog_id != identity.catalog_id || meta.seq != seq {
            problem(
                report,
                ProblemKind::Snapshot,
                &path,
                0,
                Some(seq),
                "snapshot names another catalog or sequence",
            );
            continue;
        }
        match chains_at.get(&seq) {
            Some(c) if *c != meta.chain => {
                problem(
                    report,
                    ProblemKind::Snapshot,
                    &path,
                    0,
                    Some(seq),
                    "snapshot chain value differs from the journal's at its sequence",
                );
            }
            Some(_) => {}
            None if seq > report.last_seq => {
                problem(
                    report,
                    ProblemKind::Snapshot,
                    &path,
                    0,
                    Some(seq),
                    format!(
                        "snapshot covers {seq}, beyond the journal's end {}",
                        report.last_seq
                    ),
                );
            }
            None => report.notes.push(format!(
                "{}: its records were pruned; chain not checked",
                path.display()
            )),
        }
        if let Some(state) = states_at.get(&seq) {
            let mut snap = State::default();
            for e in entries {
                snap.insert(e);
            }
            if snap != *state {
                problem(
                    report,
                    ProblemKind::Snapshot,
                    &path,
                    0,
                    Some(seq),
                    "snapshot entries differ from a replay of the journal",
                );
            }
        }
    }
    Ok(())
}

/// Every stored file an entry uses must exist (and every view be complete);
/// with `deep`, every blob must hash to its name.
fn check_store(
    layout: &Layout,
    opts: &Options,
    deep: bool,
    state: &State,
    report: &mut CheckReport,
) -> Result<()> {
    let store = Store::new(opts.fs.clone(), layout.root());
    for entry in state.values() {
        for object in objects_of(entry) {
            let rel = object.rel();
            let ok = match object {
                Object::Blob(_) => confined(&store, &rel)
                    .ok()
                    .and_then(|p| opts.fs.metadata(&p, false).ok().flatten())
                    .is_some_and(|m| m.kind == FileKind::File),
                Object::View(_) => view::is_complete(&store, &rel, &entry.files).unwrap_or(false),
            };
            if !ok {
                problem(
                    report,
                    ProblemKind::Store,
                    &store.path(object),
                    0,
                    Some(entry.updated_seq),
                    format!(
                        "model `{}` uses {rel}, which is missing or incomplete",
                        entry.id
                    ),
                );
            }
        }
    }
    if !deep {
        return Ok(());
    }
    let dir = store.blobs_dir();
    let names = match opts.fs.list(&dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    for name in names {
        let Some(Object::Blob(d)) = Object::from_rel(&format!("{BLOBS_DIR}/{name}")) else {
            continue;
        };
        let path = dir.join(&name);
        let fs = FsOpener(&*opts.fs);
        let hashed = hash_files_via(&fs, std::slice::from_ref(&path), 1, &|_| {}).pop();
        match hashed.unwrap_or_else(|| Err(Error::io(&path, std::io::Error::other("not hashed")))) {
            Ok(got) if got.digest == d => report.blobs_hashed += 1,
            Ok(got) => {
                report.blobs_hashed += 1;
                problem(
                    report,
                    ProblemKind::Store,
                    &path,
                    0,
                    None,
                    format!("blob content hashes to {}, not its name", got.digest),
                );
            }
            Err(e) => problem(report, ProblemKind::Store, &path, 0, None, e.to_string()),
        }
    }
    Ok(())
}
