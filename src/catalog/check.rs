//! Tamper evidence and health: walk the whole retained journal and every
//! snapshot, verify every CRC and the SHA-256 chain, every snapshot against
//! the checkpoint record that bound it (or, for a format-1 snapshot, against
//! a replay), that the history is complete (no gap, no missing segment that
//! no pruning record explains), that the catalog opens, and — given a head
//! pinned elsewhere — that the journal still holds it. With `deep`, also
//! replay the journal against every snapshot and hash every stored file.
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

/// What the walk over the journal collected.
#[derive(Default)]
struct Journal {
    /// Chain value after each sequence number someone asks about.
    chains_at: BTreeMap<u64, ChainValue>,
    /// Checkpoint records by the snapshot sequence they bind: (entries,
    /// content digest, the record's own sequence number).
    checkpoints: BTreeMap<u64, (u64, [u8; 32], u64)>,
    /// The largest `first_kept` of any pruning record.
    pruned_to: Option<u64>,
    /// Sequence number of the first record only format 2 writes.
    first_v2_record: Option<u64>,
    /// Format version of the oldest retained segment.
    oldest_version: u32,
    /// Replayed states at the sequences of the snapshots (when the journal
    /// starts at sequence 1 and no gap interrupts it).
    states_at: BTreeMap<u64, State>,
    /// The state at the end of that replay.
    replayed: Option<State>,
}

/// Runs the check on the catalog under `root`.
pub(crate) fn check(root: &Path, opts: &Options, copts: &CheckOptions) -> Result<CheckReport> {
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
    let (snapshots, _) = list_numbered(fs, &layout.snapshot_dir(), SNAPSHOT_SUFFIX)?;
    let Some(journal) = walk_journal(&layout, opts, &identity, &snapshots, copts, &mut report)?
    else {
        return Ok(report);
    };
    check_history(&journal, &mut report);
    check_snapshots(
        &layout,
        opts,
        &identity,
        &snapshots,
        &journal,
        copts,
        &mut report,
    )?;
    if let Some((seq, chain)) = copts.expect_head {
        check_pinned_head(&layout, &journal, seq, &chain, &mut report);
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
        check_store(&layout, opts, copts.deep, &state, &mut report)?;
    }
    check_moves(&layout, opts, &mut report)?;
    Ok(report)
}

/// Reads every retained segment: CRCs, sequence, chain, continuity; collects
/// what the other checks need. `None` once a break ends the walk.
fn walk_journal(
    layout: &Layout,
    opts: &Options,
    identity: &Identity,
    snapshots: &[u64],
    copts: &CheckOptions,
    report: &mut CheckReport,
) -> Result<Option<Journal>> {
    let fs = &*opts.fs;
    let (segments, _) = list_numbered(fs, &layout.journal_dir(), SEGMENT_SUFFIX)?;
    let mut wanted: Vec<u64> = snapshots.to_vec();
    wanted.extend(copts.expect_head.map(|(seq, _)| seq));
    wanted.sort_unstable();
    let mut j = Journal::default();
    // Replay from genesis: the state at each snapshot's sequence. Needed for
    // a deep check, and to verify format-1 snapshots (bound by no record).
    let mut replay = Some(State::default());
    let mut prev: Option<Cursor> = None;
    let mut prev_no: Option<u64> = None;
    if segments.is_empty() {
        problem(
            report,
            ProblemKind::Journal,
            &layout.journal_dir(),
            0,
            None,
            "the catalog has no journal segment",
        );
        return Ok(None);
    }
    for (i, &n) in segments.iter().enumerate() {
        let path = layout.segment_file(n);
        report.segments += 1;
        let bytes = fs.read(&path).map_err(|e| Error::io(&path, e))?;
        let h = match SegmentHeader::decode(&bytes, &path) {
            Ok(h) => h,
            Err(e) => {
                problem(report, ProblemKind::Journal, &path, 0, None, e.to_string());
                return Ok(None);
            }
        };
        if h.catalog_id != identity.catalog_id || h.segment_no != n {
            problem(
                report,
                ProblemKind::Journal,
                &path,
                0,
                None,
                "segment header names another catalog or number",
            );
            return Ok(None);
        }
        if let Some(p) = prev_no
            && n != p + 1
        {
            problem(
                report,
                ProblemKind::Journal,
                &path,
                0,
                None,
                format!("segment {} is missing", p + 1),
            );
            return Ok(None);
        }
        match prev {
            None if h.first_seq == 1 && h.prev_chain != chain::genesis(&identity.catalog_id) => {
                problem(
                    report,
                    ProblemKind::Journal,
                    &path,
                    0,
                    Some(1),
                    "the first segment does not start from the genesis chain value",
                );
                return Ok(None);
            }
            None => {
                report.first_seq = h.first_seq;
                j.oldest_version = h.version;
                if h.first_seq != 1 {
                    replay = None;
                }
            }
            Some(p) if p.next_seq != h.first_seq || p.chain != h.prev_chain => {
                problem(
                    report,
                    ProblemKind::Journal,
                    &path,
                    0,
                    Some(h.first_seq),
                    format!(
                        "segment does not continue the one before it (expected first sequence {})",
                        p.next_seq
                    ),
                );
                return Ok(None);
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
        let mut gaps: Vec<(u64, u64, String)> = Vec::new();
        let scanned = reader::scan(body, start, &path, newest, |v| {
            records += 1;
            let seq = v.header.seq;
            if wanted.binary_search(&seq).is_ok() {
                j.chains_at.insert(seq, v.header.chain);
            }
            match &v.payload.op {
                Op::Gap { last_lost, reason } => {
                    // The states after it cannot be rebuilt from the journal.
                    replay = None;
                    gaps.push((seq, *last_lost, reason.clone()));
                }
                Op::Checkpoint {
                    seq: covered,
                    entries,
                    content,
                } => {
                    j.checkpoints.insert(*covered, (*entries, *content, seq));
                    j.first_v2_record.get_or_insert(seq);
                }
                Op::Pruned { first_kept } => {
                    j.pruned_to = j.pruned_to.max(Some(*first_kept));
                    j.first_v2_record.get_or_insert(seq);
                }
                _ => {}
            }
            if let Some(state) = replay.as_mut() {
                let current = v.payload.op.model_id().and_then(|id| state.get(id));
                let change = change_for(current, v.payload.op, seq, v.header.time_ms)
                    .map_err(|reason| Error::corrupt(&path, v.offset, Some(seq), reason))?;
                state.apply(change);
                if snapshots.binary_search(&seq).is_ok() {
                    j.states_at.insert(seq, state.clone());
                }
            }
            Ok(())
        });
        report.records += records;
        for (first, last, reason) in gaps {
            problem(
                report,
                ProblemKind::History,
                &path,
                0,
                Some(first),
                format!("records {first}..={last} were lost and repaired ({reason})"),
            );
        }
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
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        prev_no = Some(n);
    }
    if let Some(end) = prev {
        report.last_seq = end.next_seq - 1;
        report.head_chain = crate::digest::hex(&end.chain);
    }
    j.replayed = replay;
    Ok(Some(j))
}

/// A journal that does not start at sequence 1 must be explained by a
/// pruning record (history retention off) that reaches at least as far.
fn check_history(j: &Journal, report: &mut CheckReport) {
    let first = report.first_seq;
    if first <= 1 {
        return;
    }
    match j.pruned_to {
        Some(kept) if first <= kept => report.notes.push(format!(
            "history before sequence {first} was pruned (retain_history off); it cannot be checked"
        )),
        Some(kept) => report.problems.push(Problem {
            kind: ProblemKind::History,
            file: PathBuf::new(),
            offset: 0,
            seq: Some(first),
            what: format!(
                "the journal starts at sequence {first}, but pruning only removed records \
                 before {kept}: sealed segments are missing"
            ),
        }),
        None if j.oldest_version < 2 => report.notes.push(format!(
            "history before sequence {first} is not in the journal; its oldest segment predates \
             format 2, which records pruning, so whether it was pruned cannot be told"
        )),
        None => report.problems.push(Problem {
            kind: ProblemKind::History,
            file: PathBuf::new(),
            offset: 0,
            seq: Some(first),
            what: format!(
                "the journal starts at sequence {first} and no retained record says history \
                 was pruned (retain_history keeps it by default): sealed segments are missing"
            ),
        }),
    }
}

/// A pinned head must still be in the journal, with its chain value.
fn check_pinned_head(
    layout: &Layout,
    j: &Journal,
    seq: u64,
    chain: &ChainValue,
    report: &mut CheckReport,
) {
    let what = if seq > report.last_seq {
        Some(format!(
            "the pinned head {seq} is past the journal's end {}: acknowledged records were lost \
             (or the pin belongs to another catalog)",
            report.last_seq
        ))
    } else {
        match j.chains_at.get(&seq) {
            Some(c) if c == chain => None,
            Some(c) => Some(format!(
                "record {seq} has chain value {}, not the pinned {}: history was rewritten",
                crate::digest::hex(c),
                crate::digest::hex(chain)
            )),
            None => Some(format!(
                "the pinned head {seq} is not in the retained journal (it starts at {}): it \
                 cannot be verified",
                report.first_seq
            )),
        }
    };
    if let Some(what) = what {
        problem(
            report,
            ProblemKind::History,
            &layout.journal_dir(),
            0,
            Some(seq),
            what,
        );
    }
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
