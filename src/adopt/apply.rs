//! Adopting one candidate: is it unchanged since its last adoption (by
//! names and sizes, nothing read)? Else read each file once — hashing it
//! while it is linked into the store, or in place — compare with its
//! publisher's digest, and register it (or find that the entry already
//! says exactly this, and write nothing).
//!
//! What is registered:
//!
//! | case | entry |
//! |---|---|
//! | every file matched, linked | in the store: blobs by SHA-256, a view for a directory model; `digest_source` publisher (import if some file had no publisher digest); `Verified` (else `Warned`) |
//! | every file matched, `--in-place` | external: `local_path` the snapshot directory (Ollama: `blobs/`; a plain directory or file), files where they are |
//! | a file did not match | external, where it is, whatever the mode (its bytes never enter the store): each file's `publisher_digest` what it should be, `Failed` naming the file |
//!
//! A git blob id is kept as a file's `publisher_digest` (the store names
//! files by SHA-256), so every later `verify` checks the publisher's own
//! digest too.

use super::known::Known;
use super::plan::{Candidate, CandidateFile};
use super::read::{FileRead, ReadError, read_files};
use super::report::{AdoptAction, AdoptedModel, IngestCounts, SkipKind, Skipped};
use super::{AdoptOptions, conflict};
use crate::catalog::{Catalog, StoreSession};
use crate::digest::Digest;
use crate::entry::{
    DigestSource, EntrySpec, FileFingerprint, MAX_REASON_LEN, ManifestFile, ModelEntry,
    Verification, VerifyResult, check_absolute_path,
};
use crate::error::{Error, Result};
use crate::fs::{FileKind, Meta};
use crate::hashing::Hashed;
use crate::metrics::VerifyReason;
use crate::store::ingest::{Ingested, Method, Staged, stage_adopted};
use crate::store::manifest::manifest_digest;
use crate::store::{BLOBS_DIR, Object, Store, view};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One adoption in progress.
pub(super) struct Run<'a> {
    catalog: &'a Catalog,
    store: &'a Store,
    opts: &'a AdoptOptions,
    progress: &'a (dyn Fn(u64) + Sync),
    /// Source files already read in this adoption (a blob several
    /// snapshots share): read once — what it hashed to, the fingerprint to
    /// record for it — and whether it is in the store now.
    read: HashMap<PathBuf, (Hashed, Meta, bool)>,
    /// Sources not read, their digests those of an earlier verification
    /// (`known`).
    carried: BTreeSet<PathBuf>,
    /// What the catalog verified before, by fingerprint (built when first
    /// needed).
    known: Option<Known>,
}

/// One file read (and, linked, staged).
struct Read {
    hashed: Hashed,
    /// The fingerprint to record: the source's when it was read (in place,
    /// or a blob that is the source's inode), else the stored blob's.
    meta: Meta,
    staged: Option<Staged>,
    /// Already read (and, if it matched, published) for another model.
    again: bool,
    /// Already in the store from earlier in this adoption.
    stored: bool,
    /// Not read: verified before with the fingerprint it has now.
    carried: bool,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        catalog: &'a Catalog,
        session: &'a StoreSession<'a>,
        opts: &'a AdoptOptions,
        progress: &'a (dyn Fn(u64) + Sync),
    ) -> Self {
        Run {
            catalog,
            store: session.store,
            opts,
            progress,
            read: HashMap::new(),
            carried: BTreeSet::new(),
            known: None,
        }
    }

    /// Adopts `c`: `Ok(Err)` if it had to be skipped (a file could not be
    /// read, its records would not fit); `Err` for a failure of the store
    /// or the journal, which ends the adoption.
    pub(super) fn adopt_one(
        &mut self,
        c: &Candidate,
    ) -> Result<std::result::Result<AdoptedModel, Skipped>> {
        let started = Instant::now();
        let existing = self.catalog.lookup(&c.id);
        // Settled before the first write; an entry made since (by another
        // thread) is never replaced either.
        if let Some(conflict) = existing.as_deref().and_then(|e| conflict::between(e, c)) {
            return Err(Error::AdoptConflict {
                conflicts: vec![conflict],
            });
        }
        let in_place = self.opts.in_place;
        if let Some(e) = &existing
            && unchanged_by_names(self.store, e, c, in_place)
        {
            return Ok(Ok(self.model(
                c,
                AdoptAction::Unchanged,
                (**e).clone(),
                Tally::default(),
            )));
        }
        if let Err(reason) = records_fit(c, in_place, &self.opts.context) {
            return Ok(Err(skipped(c, SkipKind::Unsupported, reason)));
        }
        // 1–2. Read every file once (staged into the store unless in place),
        // and compare each with the digest its publisher gave it.
        let (reads, mismatch, mut tally) = match self.read_and_compare(c, in_place)? {
            Ok(read) => read,
            Err(skip) => return Ok(Err(skip)),
        };
        // A mismatch never replaces what the entry's publisher said: the
        // entry of this very revision keeps its digests and is marked failed.
        if let (Some(problem), Some(e)) = (&mismatch, &existing)
            && e.model_ref == c.model_ref.canonical()
        {
            undo(self.store, reads);
            return self.fail_in_place(c, e, problem, tally, started).map(Ok);
        }
        // 3. The entry: in the store, or where it is.
        let (spec, fingerprints) = if mismatch.is_none() && !in_place {
            self.publish(c, reads, &mut tally)?
        } else {
            undo(self.store, reads);
            self.in_place_spec(c, mismatch.is_some(), &mut tally)?
        };
        let spec = spec.lifecycle(
            existing
                .as_ref()
                .map_or(Default::default(), |e| e.lifecycle),
        );
        let (result, reason) = judged(c, mismatch.as_deref(), tally.carried);
        let outcome = Verification {
            result,
            reason: fit_reason(reason),
            actual: spec.digest,
            bytes: tally.hashed,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files: fingerprints,
        };
        // 4. Nothing to write if the entry already says all this.
        if let Some(e) = &existing
            && same_entry(e, &spec)
            && e.trust == result.trust()
        {
            return Ok(Ok(self.model(
                c,
                AdoptAction::Unchanged,
                (**e).clone(),
                tally,
            )));
        }
        let action = if existing.is_some() {
            AdoptAction::Updated
        } else {
            AdoptAction::Added
        };
        let entry = self.register(c, action, spec, outcome, &tally)?;
        let mut model = self.model(c, action, entry, tally);
        model.failure = mismatch;
        Ok(Ok(model))
    }

    /// Reads every file of `c` once (staged into the store unless in
    /// place), compares each with its publisher's digest, and counts what
    /// was read: `Ok(Err)` when a source could not be read (skipped).
    #[allow(clippy::type_complexity)]
    fn read_and_compare(
        &mut self,
        c: &Candidate,
        in_place: bool,
    ) -> Result<std::result::Result<(Vec<Read>, Option<String>, Tally), Skipped>> {
        let reads = match self.read_all(c, in_place) {
            Ok(reads) => reads,
            Err(ReadError::Source(reason)) => {
                return Ok(Err(skipped(c, SkipKind::Incomplete, reason)));
            }
            Err(ReadError::Store(e)) => return Err(e),
        };
        let mismatch = c
            .files
            .iter()
            .zip(&reads)
            .find_map(|(f, r)| mismatch(f, &r.hashed));
        let tally = Tally {
            hashed: reads
                .iter()
                .filter(|r| !r.again)
                .map(|r| r.hashed.file.bytes)
                .sum(),
            carried: reads.iter().filter(|r| r.carried).count() as u64,
            ..Tally::default()
        };
        Ok(Ok((reads, mismatch, tally)))
    }

    /// Appends the `Put` of `spec` and the verification `outcome` for `c`.
    fn register(
        &self,
        c: &Candidate,
        action: AdoptAction,
        spec: EntrySpec,
        outcome: Verification,
        tally: &Tally,
    ) -> Result<ModelEntry> {
        let ctx = &self.opts.context;
        let registered = self.catalog.put_locked(spec, ctx)?;
        let reason_metric = match outcome.result {
            VerifyResult::Fail => VerifyReason::Mismatch,
            other => VerifyReason::from_result(other),
        };
        let entry = self.catalog.record_verification_with(
            &c.id,
            outcome,
            ctx,
            reason_metric,
            Some(&registered),
        )?;
        tracing::info!(
            model_id = %c.id,
            model_ref = %c.model_ref,
            action = action.as_str(),
            trust = ?entry.trust,
            in_place = entry.external,
            bytes_hashed = tally.hashed,
            bytes_written = tally.written,
            correlation_id = ctx.correlation_id.as_deref(),
            "model adopted"
        );
        Ok(entry)
    }

    /// Records that the bytes of `e` (the entry of the revision `c` is) no
    /// longer match its publisher's digests: a failed verification naming
    /// the file; the entry, its digests and their source stay as they are.
    fn fail_in_place(
        &self,
        c: &Candidate,
        e: &ModelEntry,
        problem: &str,
        tally: Tally,
        started: Instant,
    ) -> Result<AdoptedModel> {
        let outcome = Verification {
            result: VerifyResult::Fail,
            reason: fit_reason(format!(
                "{problem}; the entry keeps its publisher's digests — download it again, then \
                 adopt"
            )),
            actual: None,
            bytes: tally.hashed,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files: Vec::new(),
        };
        let entry = self.catalog.record_verification_with(
            &c.id,
            outcome,
            &self.opts.context,
            VerifyReason::Mismatch,
            Some(e),
        )?;
        let mut model = self.model(c, AdoptAction::Updated, entry, tally);
        model.failure = Some(problem.to_owned());
        Ok(model)
    }

    /// Reads each of `c`'s files that this adoption has not read yet, once
    /// (`read::read_files`, on every core), and lists a [`Read`] per file in
    /// `c`'s order. On a failure, what was staged is dropped and the first
    /// failure in file order is returned.
    fn read_all(
        &mut self,
        c: &Candidate,
        in_place: bool,
    ) -> std::result::Result<Vec<Read>, ReadError> {
        let mut fresh: Vec<&CandidateFile> = Vec::new();
        let mut seen: BTreeSet<&Path> = BTreeSet::new();
        for f in &c.files {
            if !self.read.contains_key(&f.source) && seen.insert(&f.source) {
                match self.verified_before(f, in_place) {
                    Some(known) => {
                        self.read.insert(f.source.clone(), known);
                        self.carried.insert(f.source.clone());
                    }
                    None => fresh.push(f),
                }
            }
        }
        let results = read_files(self.store, &fresh, in_place, self.progress);
        let mut done: HashMap<&Path, FileRead> = HashMap::new();
        let mut failure = None;
        for (f, r) in fresh.iter().zip(results) {
            match r {
                Some(Ok(read)) => {
                    self.read
                        .insert(f.source.clone(), (read.hashed, read.read_as, false));
                    done.insert(&f.source, read);
                }
                Some(Err(e)) if failure.is_none() => failure = Some(e),
                _ => {}
            }
        }
        if let Some(e) = failure {
            for (_, r) in done {
                if let Some(s) = r.staged {
                    s.undo(self.store);
                }
            }
            return Err(e);
        }
        Ok(c.files
            .iter()
            .map(|f| match done.remove(f.source.as_path()) {
                Some(r) => Read {
                    hashed: r.hashed,
                    meta: r.read_as,
                    staged: r.staged,
                    again: false,
                    stored: false,
                    carried: false,
                },
                None => {
                    let (hashed, meta, stored) = self.read[&f.source];
                    Read {
                        hashed,
                        meta,
                        staged: None,
                        again: true,
                        stored,
                        carried: self.carried.contains(&f.source),
                    }
                }
            })
            .collect())
    }

    /// What `f` hashed to, the fingerprint to record and whether it is in
    /// the store, when the catalog verified it before with the fingerprint
    /// it has now (`Known`) — and, linked, the store's blob is that very
    /// file (one inode): then it is not read again.
    fn verified_before(
        &mut self,
        f: &CandidateFile,
        in_place: bool,
    ) -> Option<(Hashed, Meta, bool)> {
        let catalog = self.catalog;
        let known = self.known.get_or_insert_with(|| Known::of(catalog));
        if known.is_empty() {
            return None;
        }
        let meta = self.store.fs.metadata(&f.source, false).ok()??;
        if meta.kind != FileKind::File {
            return None;
        }
        let hashed = known.get(f, &meta)?;
        if in_place {
            return Some((hashed, meta, false));
        }
        let blob = Object::Blob(hashed.file.digest).rel();
        let stored = self
            .store
            .fs
            .metadata_beneath(self.store.root(), &blob)
            .ok()??;
        (stored.kind == FileKind::File && stored.inode == meta.inode && stored.len == meta.len)
            .then_some((hashed, stored, true))
    }

    /// Publishes every staged file under its digest and builds the view:
    /// the spec of an entry in the store, and each file's fingerprint.
    fn publish(
        &mut self,
        c: &Candidate,
        reads: Vec<Read>,
        tally: &mut Tally,
    ) -> Result<(EntrySpec, Vec<FileFingerprint>)> {
        let store = self.store;
        let mut files = Vec::with_capacity(c.files.len());
        let mut metas = Vec::with_capacity(c.files.len());
        let mut rest = reads.into_iter().zip(&c.files);
        while let Some((r, f)) = rest.next() {
            let meta = match r.staged {
                Some(staged) => match self.publish_staged(f, &r.hashed, &r.meta, staged, tally) {
                    Ok(meta) => meta,
                    Err(e) => {
                        undo(store, rest.map(|(r, _)| r).collect());
                        return Err(e);
                    }
                },
                None if r.stored => {
                    tally.counts.already_stored += 1;
                    r.meta
                }
                None => self.publish_again(f, &r.hashed, tally)?,
            };
            metas.push(meta);
            files.push(ManifestFile {
                path: f.path.clone(),
                digest: r.hashed.file.digest,
                size_bytes: r.hashed.file.bytes,
                media_type: f.media_type.clone(),
                publisher_digest: f.publisher.filter(|p| !p.is_sha256()),
            });
        }
        store.sync_dir(BLOBS_DIR)?;
        let source = c.digest_source();
        let model_ref = c.model_ref.canonical();
        let spec = if c.single {
            let f = files.first().ok_or_else(|| no_file(c))?;
            EntrySpec::new(&c.id, model_ref, Object::Blob(f.digest).rel())
                .digest_from(f.digest, source)
                .size_bytes(f.size_bytes)
        } else {
            let local = view::ensure(store, &files)?;
            let size = files.iter().map(|f| f.size_bytes).sum();
            EntrySpec::new(&c.id, model_ref, local)
                .digest_from(manifest_digest(&files), source)
                .size_bytes(size)
                .files(files)
        };
        let fingerprints = stored_fingerprints(store, c, &spec, metas);
        Ok((spec, fingerprints))
    }

    /// Publishes one staged file under its digest, counting how it came
    /// in (and naming it when another file of the store stands in for it):
    /// the stored blob's metadata.
    fn publish_staged(
        &mut self,
        f: &CandidateFile,
        hashed: &Hashed,
        read_as: &Meta,
        staged: Staged,
        tally: &mut Tally,
    ) -> Result<Meta> {
        let method = staged.method;
        let ingested: Ingested = staged.publish(self.store)?;
        if method == Method::Copied {
            tally.written += ingested.digest.bytes;
        }
        if !ingested.stored
            && matches!(method, Method::Linked | Method::Present)
            && ingested.meta.inode != read_as.inode
        {
            tally.stand_ins.push(format!(
                "{}: the store already holds these bytes as another file (inode {}), which \
                 this entry names and watches instead of {} (inode {})",
                f.path,
                ingested.meta.inode,
                f.source.display(),
                read_as.inode
            ));
        }
        match (ingested.stored, method) {
            (false, _) => tally.counts.already_stored += 1,
            (true, Method::Linked) => tally.counts.hard_linked += 1,
            (true, Method::Reflinked) => tally.counts.reflinked += 1,
            (true, _) => tally.counts.copied += 1,
        }
        self.read
            .insert(f.source.clone(), (*hashed, ingested.meta, true));
        Ok(ingested.meta)
    }

    /// Brings in a file read for another model whose adoption failed: it is
    /// not in the store, and it matched here — so the other model's failure
    /// was another file's. Only if it still hashes to what was read.
    fn publish_again(
        &mut self,
        f: &CandidateFile,
        hashed: &Hashed,
        tally: &mut Tally,
    ) -> Result<Meta> {
        let store = self.store;
        let git_len = f.publisher.filter(|p| !p.is_sha256()).map(|_| f.size);
        let (staged, again) = stage_adopted(store, f.at(), git_len, &mut |_| {})?;
        if again != *hashed {
            staged.undo(store);
            return Err(Error::SourceChanged {
                path: f.source.clone(),
                reason: "it changed between two reads of this adoption".into(),
            });
        }
        let ingested = staged.publish(store)?;
        tally.counts.already_stored += u64::from(!ingested.stored);
        tally.counts.hard_linked += u64::from(ingested.stored);
        self.read
            .insert(f.source.clone(), (*hashed, ingested.meta, true));
        Ok(ingested.meta)
    }

    /// The spec of an entry registered where its files are (`--in-place`,
    /// or a model whose bytes did not match), from what was read.
    fn in_place_spec(
        &mut self,
        c: &Candidate,
        mismatched: bool,
        tally: &mut Tally,
    ) -> Result<(EntrySpec, Vec<FileFingerprint>)> {
        let base = c.base.to_str().ok_or_else(|| Error::NonUtf8Path {
            path: c.base.clone(),
        })?;
        check_absolute_path("local_path", base)?;
        let mut files = Vec::with_capacity(c.files.len());
        let mut metas = Vec::with_capacity(c.files.len());
        let mut seen = BTreeSet::new();
        for f in &c.files {
            let Some((hashed, meta, _)) = self.read.get(&f.source) else {
                continue;
            };
            tally.counts.in_place += 1;
            // Two layers with one digest are one file where it is.
            if !seen.insert(f.in_place.clone()) {
                continue;
            }
            let sha256 = hashed.file.digest;
            metas.push(*meta);
            files.push(ManifestFile {
                path: f.in_place.clone(),
                digest: sha256,
                size_bytes: hashed.file.bytes,
                media_type: f.media_type.clone(),
                // What the publisher named it by, when that is not the
                // SHA-256 of the bytes read: a git blob id, or a mismatch.
                publisher_digest: f.publisher.filter(|p| *p != sha256),
            });
        }
        // The manifest of bytes that did not match is never a publisher's.
        let source = if mismatched {
            DigestSource::Import
        } else {
            c.digest_source()
        };
        let model_ref = c.model_ref.canonical();
        let spec = if c.single {
            let f = files.first().ok_or_else(|| no_file(c))?;
            EntrySpec::new(&c.id, model_ref, base)
                .digest_from(f.digest, source)
                .size_bytes(f.size_bytes)
                .external(true)
        } else {
            let size = files.iter().map(|f| f.size_bytes).sum();
            EntrySpec::new(&c.id, model_ref, base)
                .digest_from(manifest_digest(&files), source)
                .size_bytes(size)
                .files(files)
                .external(true)
        };
        // Each file as it was when its bytes were read (through the links
        // that lead to it), by its path in the model (the file name of a
        // one-file model).
        let fingerprints = if c.single {
            let name = c
                .base
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            metas
                .first()
                .map(|m| FileFingerprint::of(name, m))
                .into_iter()
                .collect()
        } else {
            spec.files
                .iter()
                .zip(&metas)
                .map(|(f, m)| FileFingerprint::of(f.path.clone(), m))
                .collect()
        };
        Ok((spec, fingerprints))
    }

    fn model(
        &self,
        c: &Candidate,
        action: AdoptAction,
        entry: ModelEntry,
        t: Tally,
    ) -> AdoptedModel {
        AdoptedModel {
            id: c.id.clone(),
            model_ref: c.model_ref.canonical(),
            origin: c.origin.clone(),
            action,
            files: c.files.len() as u64,
            bytes: c.bytes(),
            ingest: t.counts,
            bytes_written: t.written,
            bytes_hashed: t.hashed,
            trust: entry.trust,
            failure: None,
            entry: Some(entry),
            refs: c
                .revision
                .as_ref()
                .map(|r| r.refs.clone())
                .unwrap_or_default(),
            stand_ins: t.stand_ins,
        }
    }
}

/// What adopting one model read and wrote.
#[derive(Default)]
struct Tally {
    counts: IngestCounts,
    written: u64,
    hashed: u64,
    /// Files not read: verified before with the fingerprint they have now.
    carried: u64,
    /// Files whose bytes the store holds as another file, which stands in
    /// for this one's.
    stand_ins: Vec<String>,
}

/// Each stored file's fingerprint, by its blob's path. Linking the view
/// moved each blob's change time: the fingerprint is the blob as it is now,
/// if nothing but its links changed since it was read (the same inode,
/// size and modification time as `metas`).
fn stored_fingerprints(
    store: &Store,
    c: &Candidate,
    spec: &EntrySpec,
    mut metas: Vec<Meta>,
) -> Vec<FileFingerprint> {
    let digests: Vec<Digest> = if c.single {
        spec.digest.into_iter().collect()
    } else {
        spec.files.iter().map(|f| f.digest).collect()
    };
    for (d, m) in digests.iter().zip(metas.iter_mut()) {
        if let Ok(Some(now)) = store
            .fs
            .metadata_beneath(store.root(), &Object::Blob(*d).rel())
            && now.inode == m.inode
            && now.len == m.len
            && now.modified_ns == m.modified_ns
        {
            *m = now;
        }
    }
    digests
        .iter()
        .zip(&metas)
        .map(|(d, m)| FileFingerprint::of(Object::Blob(*d).rel(), m))
        .collect()
}

/// A candidate left with no file read (cannot happen: every candidate has
/// one, and every file is read before an entry is made).
fn no_file(c: &Candidate) -> Error {
    Error::invalid("model", format!("`{}` has no file to register", c.id))
}

fn skipped(c: &Candidate, kind: SkipKind, reason: String) -> Skipped {
    Skipped {
        path: c.origin.clone(),
        kind,
        reason,
    }
}

/// Drops staged files (best effort; gc removes what is left).
fn undo(store: &Store, reads: Vec<Read>) {
    for r in reads {
        if let Some(s) = r.staged {
            s.undo(store);
        }
    }
}

/// The verification result adopting `c` records, and its reason: failed on
/// a mismatch, warned for a partial snapshot or without a publisher's
/// digest, else passed (saying how many files were not read again).
fn judged(c: &Candidate, mismatch: Option<&str>, carried: u64) -> (VerifyResult, String) {
    match mismatch {
        Some(problem) => (
            VerifyResult::Fail,
            format!(
                "{problem}; registered where it is (its bytes never enter the store) — \
                 download it again, then adopt"
            ),
        ),
        None if c.partial.is_some() => (
            VerifyResult::Warn,
            format!(
                "every file there matches its publisher's digest, but the snapshot is {}",
                c.partial.as_deref().unwrap_or("partial")
            ),
        ),
        None if c.all_published() => (
            VerifyResult::Pass,
            match carried {
                0 => format!(
                    "all {} files match the digests their store names them by",
                    c.files.len()
                ),
                n => format!(
                    "all {} files match the digests their store names them by ({n} not read \
                     again: the same inode, size and change time as when verified)",
                    c.files.len()
                ),
            },
        ),
        None => (
            VerifyResult::Warn,
            "no publisher's digest to check against: digests computed when adopted".into(),
        ),
    }
}

/// Why the bytes read are not what the publisher named them by, if so.
fn mismatch(f: &CandidateFile, h: &Hashed) -> Option<String> {
    let publisher = f.publisher?;
    let got = if publisher.is_sha256() {
        Some(h.file.digest)
    } else {
        h.git
    };
    match got {
        Some(d) if d == publisher && h.file.bytes == f.size => None,
        Some(d) if d == publisher => Some(format!(
            "{} is {} bytes, not the {} it had when it was found",
            f.path, h.file.bytes, f.size
        )),
        Some(d) => Some(format!(
            "digest mismatch in {}: its publisher's digest is {publisher}, the bytes hash to {d}",
            f.path
        )),
        None => Some(format!(
            "digest mismatch in {}: its publisher's digest is {publisher}, and the bytes are not \
             the {} its blob was when it was found",
            f.path, f.size
        )),
    }
}

/// A reason cut to what a verification record keeps.
fn fit_reason(mut reason: String) -> String {
    if reason.len() > MAX_REASON_LEN {
        let mut end = MAX_REASON_LEN - '…'.len_utf8();
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Whether the entry already says what adopting `c` would register, from
/// names and sizes alone (no byte read): the same reference, the same mode,
/// every file with the same path, size, media type and publisher digest,
/// not failed, and (in the store) every blob still there.
fn unchanged_by_names(store: &Store, e: &ModelEntry, c: &Candidate, in_place: bool) -> bool {
    if e.model_ref != c.model_ref.canonical()
        || e.external != in_place
        || e.trust == crate::entry::TrustState::Failed
        || e.trust == crate::entry::TrustState::Unverified
        || !c.all_published()
        || c.single
        || (in_place && c.base.to_str() != Some(e.local_path.as_str()))
    {
        return false;
    }
    let mut wanted: Vec<(String, u64, Option<String>, Digest)> = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &c.files {
        let path = if in_place { &f.in_place } else { &f.path };
        if in_place && !seen.insert(path.clone()) {
            continue;
        }
        let Some(p) = f.publisher else { return false };
        wanted.push((path.clone(), f.size, f.media_type.clone(), p));
    }
    if wanted.len() != e.files.len() {
        return false;
    }
    let same = wanted
        .iter()
        .zip(&e.files)
        .all(|((path, size, media, p), ef)| {
            let named = if p.is_sha256() {
                ef.digest == *p && ef.publisher_digest.is_none()
            } else {
                ef.publisher_digest == Some(*p)
            };
            *path == ef.path && *size == ef.size_bytes && *media == ef.media_type && named
        });
    if !same {
        return false;
    }
    if in_place {
        return true;
    }
    // In the store: every blob still there, the view whole.
    e.files.iter().all(|f| {
        store
            .fs
            .metadata_beneath(store.root(), &Object::Blob(f.digest).rel())
            .ok()
            .flatten()
            .is_some_and(|m| m.kind == FileKind::File && m.len == f.size_bytes)
    }) && view::is_complete(store, &e.local_path, &e.files).unwrap_or(false)
}

/// What adopting `c` is expected to do, from names alone.
pub(super) fn expected_action(catalog: &Catalog, c: &Candidate, in_place: bool) -> AdoptAction {
    match catalog.lookup(&c.id) {
        None => AdoptAction::Added,
        Some(e) if unchanged_by_names(catalog.store(), &e, c, in_place) => AdoptAction::Unchanged,
        Some(_) => AdoptAction::Updated,
    }
}

/// Whether `e` already is what `spec` would register.
fn same_entry(e: &ModelEntry, spec: &EntrySpec) -> bool {
    e.model_ref == spec.model_ref
        && e.local_path == spec.local_path
        && e.lifecycle == spec.lifecycle
        && e.digest == spec.digest
        && e.size_bytes == spec.size_bytes
        && e.files == spec.files
        && e.digest_source == spec.digest_source
        && e.external == spec.external
}

/// Whether the two records adopting `c` writes fit the journal, with every
/// digest, size and reason at its widest; `Err` says why not.
fn records_fit(
    c: &Candidate,
    in_place: bool,
    ctx: &crate::context::OpContext,
) -> std::result::Result<(), String> {
    let any = Digest::sha256([0xff; 32]);
    let files: Vec<ManifestFile> = if c.single {
        Vec::new()
    } else {
        c.files
            .iter()
            .map(|f| ManifestFile {
                path: if in_place {
                    f.in_place.clone()
                } else {
                    f.path.clone()
                },
                digest: any,
                size_bytes: u64::MAX,
                media_type: f.media_type.clone(),
                publisher_digest: Some(any),
            })
            .collect()
    };
    let local = c.base.to_string_lossy().into_owned();
    let local = if local.len() > Object::View(any).rel().len() {
        local
    } else {
        Object::View(any).rel()
    };
    let mut spec = EntrySpec::new(&c.id, c.model_ref.canonical(), local)
        .digest_from(any, DigestSource::Publisher)
        .size_bytes(u64::MAX)
        .files(files);
    spec.external = true;
    let too_large = |e: Error| {
        format!(
            "{} files: its journal record {e} (too many files, or paths too long)",
            c.files.len()
        )
    };
    let fingerprint = FileFingerprint::widest(
        "x".repeat(
            c.files
                .iter()
                .map(|f| f.in_place.len().max(f.path.len()))
                .max()
                .unwrap_or(1)
                .max(80),
        ),
    );
    let outcome = Verification {
        result: VerifyResult::Fail,
        reason: "r".repeat(MAX_REASON_LEN),
        actual: Some(any),
        bytes: u64::MAX,
        duration_ms: u64::MAX,
        files: vec![fingerprint; c.files.len().max(1)],
    };
    crate::journal::fits::registration_fits(spec, outcome, ctx).map_err(too_large)
}
