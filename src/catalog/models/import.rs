//! Import: fetch (locally), stage into the store, verify, register.
//!
//! Every file is hashed while it is copied (or right after it is linked or
//! moved) and published under its digest before the entry is written, so
//! an entry never names a blob that is not durable. Everything that can
//! refuse an import without its bytes (the record sizes, the store layout,
//! a poisoned handle) is checked before the first byte moves; a move import
//! then records a durable intent first and never loses a moved file
//! (see `moves`). Imports of the same id
//! in one process are single-flight: the first does the work, the others
//! wait and get its result. Across processes the writer lock decides.

use super::flights::Boarding;
use super::import_bounds;
use super::moves::{self, MoveIntent};
use crate::catalog::{Catalog, Writer};
use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::{
    DigestSource, EntrySpec, FileFingerprint, ManifestFile, ModelEntry, Verification, check_id,
};
use crate::error::{Error, Result};
use crate::fetch::{FetchedModel, FileFetcher, ModelFetcher};
use crate::hashing::verify_digest;
use crate::metrics::VerifyReason;
use crate::model_ref::ModelRef;
use crate::store::ingest::{Ingested, LinkMode, Method, Staged, stage_file};
use crate::store::manifest::manifest_digest;
use crate::store::root_overlap::RootGuard;
use crate::store::{BLOBS_DIR, Object, STAGING_DIR, Store, view};
use std::collections::BTreeSet;
use std::time::Instant;

/// How to import.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// The id to register under; default: [`ModelRef::default_id`].
    pub id: Option<String>,
    /// The digest the model must have (a single file's SHA-256, or a
    /// directory's manifest digest); a mismatch is refused.
    pub expected: Option<Digest>,
    /// Copy (default), hard-link or move the source files.
    pub link: LinkMode,
    /// Correlation id and actor stored with the records.
    pub context: OpContext,
    /// Where the model came from, recorded as its `model_ref` instead of
    /// the reference it is fetched from (a local file downloaded from
    /// `hf:org/repo@rev`, say); stored redacted like every reference.
    pub origin: Option<ModelRef>,
}

impl ImportOptions {
    /// Records `origin` as where the model came from (its `model_ref`;
    /// also what the default id is made from).
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let src = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, ImportOptions, ModelRef};
    /// let file = src.path().join("qwen2-0_5b-instruct-q4_k_m.gguf");
    /// std::fs::write(&file, b"GGUF...").unwrap();
    /// let catalog = Catalog::open(dir.path())?;
    /// let local = ModelRef::parse(&format!("file:{}", file.display()))?;
    /// let origin = ModelRef::parse("hf:Qwen/Qwen2-0.5B-Instruct-GGUF@main")?;
    /// let report = catalog.import(&local, ImportOptions::default().origin(origin))?;
    /// assert_eq!(report.entry.model_ref, "hf:Qwen/Qwen2-0.5B-Instruct-GGUF@main");
    /// assert_eq!(report.entry.id, "Qwen--Qwen2-0.5B-Instruct-GGUF@main");
    /// # Ok(()) }
    /// ```
    pub fn origin(mut self, origin: ModelRef) -> Self {
        self.origin = Some(origin);
        self
    }
    /// Registers under `id`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// Requires this digest.
    pub fn expected(mut self, digest: Digest) -> Self {
        self.expected = Some(digest);
        self
    }
    /// Sets how files get into the store.
    pub fn link(mut self, mode: LinkMode) -> Self {
        self.link = mode;
        self
    }
    /// Stores `ctx` with the records.
    pub fn context(mut self, ctx: OpContext) -> Self {
        self.context = ctx;
        self
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The registered (and verified) entry.
    pub entry: ModelEntry,
    /// Number of files in the model.
    pub files: u64,
    /// Total size of the model.
    pub bytes: u64,
    /// Bytes newly stored (not already present as identical blobs).
    pub bytes_stored: u64,
    /// Bytes that were already stored (deduplicated).
    pub bytes_deduplicated: u64,
    /// Files hard-linked or moved instead of copied.
    pub files_linked_or_moved: u64,
    /// Wall-clock time, in milliseconds.
    pub duration_ms: u64,
    /// This call waited for a concurrent import of the same id and returns
    /// its result.
    pub joined: bool,
}

impl Catalog {
    /// Imports a local model (a `file:` reference or path) with the default
    /// [`FileFetcher`].
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let src = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, ImportOptions, ModelRef, TrustState};
    /// let file = src.path().join("tiny.gguf");
    /// std::fs::write(&file, b"GGUF...").unwrap();
    /// let catalog = Catalog::open(dir.path())?;
    /// let source = ModelRef::parse(&format!("file:{}", file.display()))?;
    /// let report = catalog.import(&source, ImportOptions::default().id("tiny"))?;
    /// assert_eq!(report.entry.trust, TrustState::Warned, "no expected digest was given");
    /// assert!(catalog.model_path("tiny")?.exists());
    /// # Ok(()) }
    /// ```
    pub fn import(&self, source: &ModelRef, opts: ImportOptions) -> Result<ImportReport> {
        let fetcher = FileFetcher::with_fs(self.inner.opts.fs.clone());
        self.import_with(&fetcher, source, opts, &|_| {})
    }

    /// Imports with a caller's fetcher, reporting hashed bytes to `progress`.
    pub fn import_with(
        &self,
        fetcher: &dyn ModelFetcher,
        source: &ModelRef,
        opts: ImportOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport> {
        let w = self.writer()?;
        // What the entry records as where the model came from.
        let recorded = opts.origin.clone().unwrap_or_else(|| source.clone());
        let id = opts.id.clone().unwrap_or_else(|| recorded.default_id());
        check_id(&id)?;
        if opts.expected.is_some_and(|d| !d.is_sha256()) {
            return Err(Error::invalid(
                "digest",
                "an import checks a SHA-256 (`sha256:<64 hex digits>`)",
            ));
        }
        opts.context.validate()?;
        loop {
            match self.inner.flights.board(&id) {
                Boarding::Leader(_landing) => {
                    return self.import_now(w, fetcher, (source, &recorded), &id, &opts, progress);
                }
                Boarding::Follower(flight) => flight.wait(),
            }
            // The leader's result: the entry, if it registered this source.
            if let Ok(entry) = self.get(&id)
                && entry.model_ref == recorded.canonical()
                && opts.expected.is_none_or(|d| entry.digest == Some(d))
            {
                return Ok(ImportReport {
                    files: entry.files.len().max(1) as u64,
                    bytes: entry.size_bytes,
                    bytes_stored: 0,
                    bytes_deduplicated: 0,
                    files_linked_or_moved: 0,
                    duration_ms: 0,
                    joined: true,
                    entry,
                });
            }
            // The leader failed (or imported something else): try ourselves.
        }
    }

    fn import_now(
        &self,
        w: &Writer,
        fetcher: &dyn ModelFetcher,
        (source, recorded): (&ModelRef, &ModelRef),
        id: &str,
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport> {
        let started = Instant::now();
        // The fetch may take long (a network fetcher) and touches nothing of
        // the store: the store lock is taken only after it.
        let mut fetched: FetchedModel = fetcher.fetch(source)?;
        fetched.check()?;
        refuse_catalog_files(self.root(), source, &fetched)?;
        // Imports share the store; gc and evictions wait for them.
        let _store = w.store_shared();
        let store = &self.inner.store;
        let single = !fetched.is_directory && fetched.files.len() == 1;
        // Every refusal that does not need the bytes comes before the first
        // byte moves: the records must fit, the store layout must be sound.
        import_bounds::records_fit(id, recorded, &fetched, single, opts.expected, &opts.context)?;
        w.committer.check_alive()?;
        store.create_dirs()?;
        for f in &mut fetched.files {
            f.path = std::path::absolute(&f.path).map_err(|e| Error::io(&f.path, e))?;
        }
        // A move first records, durably, where each file comes from.
        let intent = match opts.link {
            LinkMode::Move => Some(MoveIntent::begin(
                store,
                id,
                self.head().seq,
                &fetched.files,
            )?),
            _ => None,
        };
        let mut registered = false;
        let result = self.stage_and_register(
            store,
            &fetched,
            intent.as_ref(),
            Target {
                id,
                source: recorded,
                single,
                started,
            },
            opts,
            progress,
            &mut registered,
        );
        let Some(intent) = intent else {
            return result;
        };
        match result {
            Ok(report) => {
                intent.finish(store);
                Ok(report)
            }
            // Only an entry this import registered may keep moved bytes.
            Err(e) if registered => Err(intent.fail(
                store,
                &|id, after, rel| moves::registered_digest(&self.view().state, id, after, rel),
                e,
            )),
            Err(e) => Err(intent.fail(store, &|_, _, _| None, e)),
        }
    }

    /// Stages (moving only to the intent's names), checks, publishes and
    /// registers; sets `registered` once the `Put` is durable. On failure,
    /// staged copies and links are removed; moved files are left for the
    /// intent to put back.
    #[allow(clippy::too_many_arguments)]
    fn stage_and_register(
        &self,
        store: &Store,
        fetched: &FetchedModel,
        intent: Option<&MoveIntent>,
        target: Target<'_>,
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Sync),
        registered: &mut bool,
    ) -> Result<ImportReport> {
        // 1. Stage and hash every file; nothing is published yet.
        let staged = self.stage_all(store, fetched, intent, opts, progress)?;
        // 2. Check the expected digest before anything is published.
        let (staged, files, actual) = checked(store, staged, target.single, opts.expected)?;
        // 3. Publish every file (a moved file keeps its staged name too).
        let ingested = publish_all(store, staged)?;
        store.sync_dir(BLOBS_DIR)?;
        // 4. Register the entry and its verification.
        let (entry, duration_ms) =
            self.register(store, &target, (files, actual), &ingested, opts, registered)?;
        let stored: u64 = ingested
            .iter()
            .filter(|(_, i)| i.stored)
            .map(|(_, i)| i.digest.bytes)
            .sum();
        let bytes: u64 = ingested.iter().map(|(_, i)| i.digest.bytes).sum();
        Ok(ImportReport {
            entry,
            files: ingested.len() as u64,
            bytes,
            bytes_stored: stored,
            bytes_deduplicated: bytes - stored,
            files_linked_or_moved: ingested
                .iter()
                .filter(|(_, i)| {
                    matches!(i.method, Method::Linked | Method::Moved | Method::Reflinked)
                })
                .count() as u64,
            duration_ms,
            joined: false,
        })
    }

    /// Stages and hashes every file (a file the size of a blob the catalog
    /// holds is hashed in place first); with a move intent, makes the moves
    /// durable (in `blobs/tmp/` and gone from the sources).
    fn stage_all(
        &self,
        store: &Store,
        fetched: &FetchedModel,
        intent: Option<&MoveIntent>,
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<(String, Staged)>> {
        let candidates = self.stored_candidates(fetched);
        let mut staged: Vec<(String, Staged)> = Vec::with_capacity(fetched.files.len());
        for (i, file) in fetched.files.iter().enumerate() {
            let moved = intent.and_then(|m| m.target(i));
            let candidates = candidates.get(&file.size).map_or(&[][..], Vec::as_slice);
            match stage_file(store, file.at(), opts.link, moved, candidates, &mut |n| {
                progress(n)
            }) {
                Ok(s) => staged.push((file.relative_path.clone(), s)),
                Err(e) => {
                    undo_all(store, staged);
                    return Err(e);
                }
            }
        }
        if intent.is_some() {
            let synced = store.sync_dir(STAGING_DIR).and_then(|()| {
                let dirs: BTreeSet<&std::path::Path> = staged
                    .iter()
                    .filter(|(_, s)| s.method == Method::Moved)
                    .filter_map(|(_, s)| s.source_dir.as_deref())
                    .collect();
                for dir in dirs {
                    store.fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
                }
                Ok(())
            });
            if let Err(e) = synced {
                undo_all(store, staged);
                return Err(e);
            }
        }
        Ok(staged)
    }

    /// Registers the published files as the entry `target.id` and records
    /// its verification (against the expected digest, if one was given);
    /// sets `registered` once the `Put` is durable. Returns the entry and
    /// the import's duration as recorded.
    fn register(
        &self,
        store: &Store,
        target: &Target<'_>,
        (files, actual): (Vec<ManifestFile>, Digest),
        ingested: &[(String, Ingested)],
        opts: &ImportOptions,
        registered: &mut bool,
    ) -> Result<(ModelEntry, u64)> {
        let Target {
            id, source, single, ..
        } = *target;
        let bytes: u64 = ingested.iter().map(|(_, i)| i.digest.bytes).sum();
        // The digest is the publisher's if one was expected (and matched),
        // else the one computed now.
        let digest_source = if opts.expected.is_some() {
            DigestSource::Publisher
        } else {
            DigestSource::Import
        };
        let spec = if single {
            EntrySpec::new(id, source.canonical(), Object::Blob(actual).rel())
                .digest_from(actual, digest_source)
                .size_bytes(bytes)
        } else {
            let local = view::ensure(store, &files)?;
            EntrySpec::new(id, source.canonical(), local)
                .digest_from(actual, digest_source)
                .size_bytes(bytes)
                .files(files)
        };
        let check = verify_digest(&actual, opts.expected.as_ref());
        let fingerprints = ingested
            .iter()
            .map(|(_, i)| FileFingerprint::of(Object::Blob(i.digest.digest).rel(), &i.meta))
            .collect();
        let duration_ms = u64::try_from(target.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let registered_entry = self.put_locked(spec, &opts.context)?;
        *registered = true;
        let outcome = Verification {
            result: check.result(),
            reason: check.reason().to_string(),
            actual: Some(actual),
            bytes,
            duration_ms,
            files: fingerprints,
        };
        let reason = VerifyReason::from_result(outcome.result);
        let entry = self.record_verification_with(
            id,
            outcome,
            &opts.context,
            reason,
            Some(&registered_entry),
        )?;
        tracing::info!(
            model_id = id,
            model_ref = %source,
            digest = %actual,
            bytes,
            duration_ms,
            correlation_id = opts.context.correlation_id.as_deref(),
            "model imported"
        );
        Ok((entry, duration_ms))
    }
}

/// What is being imported, and as what.
#[derive(Clone, Copy)]
struct Target<'a> {
    id: &'a str,
    source: &'a ModelRef,
    single: bool,
    started: Instant,
}

/// Refuses ([`Error::CatalogRootOverlap`]) a local source that is the
/// catalog root, lies inside it or contains it, and any file fetched that
/// lies inside it: its bytes are the catalog's own (a journal segment, the
/// lock, a blob), and a move would take them away.
fn refuse_catalog_files(
    root: &std::path::Path,
    source: &ModelRef,
    fetched: &FetchedModel,
) -> Result<()> {
    let mut guard = RootGuard::new(root);
    if let ModelRef::File { path } = source {
        guard.refuse_source(path)?;
    }
    for f in &fetched.files {
        guard.refuse_file(&f.path)?;
    }
    Ok(())
}

/// Drops staged copies and links (moved files are the intent's to put back).
/// The staged files' manifest and digest (the file's own for a single
/// file), refused ([`Error::DigestMismatch`], staging undone) if it is not
/// the one expected.
#[allow(clippy::type_complexity)]
fn checked(
    store: &Store,
    staged: Vec<(String, Staged)>,
    single: bool,
    expected: Option<Digest>,
) -> Result<(Vec<(String, Staged)>, Vec<ManifestFile>, Digest)> {
    let files: Vec<ManifestFile> = staged
        .iter()
        .map(|(path, s)| ManifestFile::new(path.clone(), s.digest.digest, s.digest.bytes))
        .collect();
    let actual = if single {
        files[0].digest
    } else {
        manifest_digest(&files)
    };
    if let Some(expected) = expected
        && expected != actual
    {
        let path = staged
            .first()
            .map(|(_, s)| s.source().to_path_buf())
            .unwrap_or_default();
        undo_all(store, staged);
        return Err(Error::DigestMismatch {
            path,
            expected,
            actual,
        });
    }
    Ok((staged, files, actual))
}

/// Publishes every staged file; on a failure, undoes the ones not yet
/// published.
fn publish_all(store: &Store, staged: Vec<(String, Staged)>) -> Result<Vec<(String, Ingested)>> {
    let mut ingested: Vec<(String, Ingested)> = Vec::with_capacity(staged.len());
    let mut rest = staged.into_iter();
    while let Some((path, s)) = rest.next() {
        match s.publish(store) {
            Ok(i) => ingested.push((path, i)),
            Err(e) => {
                undo_all(store, rest.collect());
                return Err(e);
            }
        }
    }
    Ok(ingested)
}

fn undo_all(store: &Store, staged: Vec<(String, Staged)>) {
    for (_, s) in staged {
        s.undo(store);
    }
}
