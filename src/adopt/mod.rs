//! Adoption: registering the models a node already has — a Hugging Face
//! hub cache, an Ollama models directory, a plain directory or GGUF file —
//! without copying a byte, and checked against the digests their stores
//! already name them by.
//!
//! 1. **Scan** ([`AdoptPlan::scan`], [`Catalog::plan_adoption`]): recognise
//!    the layout (`detect`), list one candidate per model (`hf_cache`,
//!    `ollama`, `plain`), and refuse hostile input — a symlink leading out
//!    of a repository's `blobs/`, a manifest digest that is not
//!    `sha256:<64 hex>`, an oversized manifest — with
//!    [`Error::UnsafeSource`](crate::Error::UnsafeSource) before anything is written. Incomplete
//!    downloads are skipped and reported.
//! 2. **Adopt** ([`Catalog::adopt_planned`], `apply`): per model, unless
//!    nothing changed since it was last adopted (then no record is
//!    written), read every file once — hashing it (SHA-256, and the git
//!    blob id where that is its name) while it is hard-linked, reflinked or
//!    copied into the store, or in place with `--in-place` — compare with
//!    its publisher's digest, and register it: `Verified` with digest
//!    source `publisher` when all match; on a mismatch, `Failed`, naming
//!    the file, registered where it is (its bytes never enter the store).
//!
//! An id the catalog already holds for a model from elsewhere (another
//! repository or name, or an entry in place at another path) is never
//! replaced: the whole adoption is refused (`conflict`), and
//! [`AdoptOptions::rename`] adopts the model under another id.
//!
//! Everything is written through the catalog's own surface: the store's
//! `*_beneath` operations, `put` and the verification record, under the
//! store lock imports take.

mod aliases;
mod apply;
mod conflict;
mod conflict_kind;
mod detect;
mod hf_cache;
mod known;
mod ollama;
mod plain;
mod plan;
mod read;
mod rename;
mod report;
mod settle;
mod sync;

pub(crate) use conflict::describe as describe_conflicts;
pub use conflict::{AdoptConflict, ConflictKind};
pub use detect::SourceLayout;
pub use ollama::MAX_MANIFEST_BYTES as MAX_OLLAMA_MANIFEST_BYTES;
pub use report::{
    AdoptAction, AdoptReport, AdoptedModel, IngestCounts, RefMove, SkipKind, Skipped,
};
pub use report::{Vanished, VanishedModel};

use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::entry::TrustState;
use crate::error::Result;
use plan::Candidate;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to adopt.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AdoptOptions {
    /// Register the files where they are instead of linking them into the
    /// store: the entries are external, and `evict`, `delete` and `gc`
    /// never remove or move their bytes.
    pub in_place: bool,
    /// Only say what would be adopted: nothing is hashed or written.
    pub dry_run: bool,
    /// Correlation id and actor stored with the records.
    pub context: OpContext,
    /// Ids to register models under instead of the ones their layout gives
    /// them (found id → id): the way to adopt a model whose id the catalog
    /// holds for a model from elsewhere.
    pub rename: BTreeMap<String, String>,
    /// Adopt a Hugging Face snapshot that lacks files its publisher lists
    /// for its commit (`trees/<commit>.json`) as it is: `warned`, never
    /// `verified`, its digest computed when adopted.
    pub allow_partial: bool,
    /// What to do with the entries adopted from this Hugging Face cache
    /// whose snapshot is gone (`hf cache rm`, `hf cache prune`): ignore
    /// (the default), report, retire or delete them.
    pub vanished: Vanished,
}

impl AdoptOptions {
    /// Registers the files where they are.
    pub fn in_place(mut self, in_place: bool) -> Self {
        self.in_place = in_place;
        self
    }
    /// Only reports.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
    /// Stores `ctx` with the records.
    pub fn context(mut self, ctx: OpContext) -> Self {
        self.context = ctx;
        self
    }
    /// Adopts partial snapshots too (as `warned`).
    pub fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
        self
    }
    /// Reconciles: what to do with entries whose snapshot vanished.
    pub fn vanished(mut self, how: Vanished) -> Self {
        self.vanished = how;
        self
    }
    /// Registers the model found as `found` under `id` instead.
    pub fn rename(mut self, found: impl Into<String>, id: impl Into<String>) -> Self {
        self.rename.insert(found.into(), id.into());
        self
    }
}

/// What a scan of a source found, before anything is hashed or written.
#[derive(Clone, Debug)]
pub struct AdoptPlan {
    layout: SourceLayout,
    source: PathBuf,
    candidates: Vec<Candidate>,
    /// Each candidate's id as the scan found it (before any rename).
    found_ids: Vec<String>,
    /// Ids the catalog holds for models from elsewhere: if there is one,
    /// the adoption is refused.
    conflicts: Vec<AdoptConflict>,
    /// What adopting each candidate is expected to do (by names and sizes;
    /// the bytes decide when it runs).
    actions: Vec<AdoptAction>,
    skipped: Vec<Skipped>,
    /// Partial snapshots (each also in `skipped`), for `allow_partial`.
    partial: Vec<Candidate>,
}

impl AdoptPlan {
    /// Scans `path` without a catalog: recognises the layout, lists the
    /// models, refuses hostile input ([`Error::UnsafeSource`](crate::Error::UnsafeSource)). Every model
    /// is expected to be added.
    pub fn scan(path: &Path) -> Result<AdoptPlan> {
        let (layout, source) = detect::detect(path)?;
        let scan = match layout {
            SourceLayout::HfCache => hf_cache::scan_cache(&source)?,
            SourceLayout::HfRepo => hf_cache::scan_repo(&source)?,
            SourceLayout::Ollama => ollama::scan(&source)?,
            SourceLayout::Directory | SourceLayout::Gguf | SourceLayout::File => {
                plain::scan(&source)?
            }
        };
        Ok(AdoptPlan {
            layout,
            actions: vec![AdoptAction::Added; scan.candidates.len()],
            found_ids: scan.candidates.iter().map(|c| c.id.clone()).collect(),
            conflicts: Vec::new(),
            candidates: scan.candidates,
            skipped: scan.skipped,
            partial: scan.partial,
            source,
        })
    }

    /// Moves the partial snapshots into the models to adopt (`allow_partial`),
    /// out of what is reported skipped.
    fn take_partial(&mut self) {
        for c in std::mem::take(&mut self.partial) {
            if self.found_ids.contains(&c.id) {
                continue;
            }
            self.skipped
                .retain(|s| !(s.kind == SkipKind::Incomplete && s.path == c.origin));
            self.found_ids.push(c.id.clone());
            self.actions.push(AdoptAction::Added);
            self.candidates.push(c);
        }
    }

    /// The layout recognised.
    pub fn layout(&self) -> SourceLayout {
        self.layout
    }

    /// The path scanned (canonical).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of models found.
    pub fn models(&self) -> usize {
        self.candidates.len()
    }

    /// Each model's id and what adopting it is expected to do (a model in
    /// conflict is in [`AdoptPlan::conflicts`] instead).
    pub fn actions(&self) -> impl Iterator<Item = (&str, AdoptAction)> {
        self.candidates
            .iter()
            .map(|c| c.id.as_str())
            .zip(self.actions.iter().copied())
            .filter(|(id, _)| !self.in_conflict(id))
    }

    /// The ids the catalog holds for models from elsewhere (another
    /// repository or name, or an entry in place at another path): adopting
    /// this plan is refused while there is one ([`crate::Error::AdoptConflict`]).
    pub fn conflicts(&self) -> &[AdoptConflict] {
        &self.conflicts
    }

    fn in_conflict(&self, id: &str) -> bool {
        self.conflicts.iter().any(|c| c.id == id)
    }

    /// What was skipped, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Bytes an adoption will read: every file of every model not expected
    /// to be unchanged, each source file once.
    pub fn bytes_to_hash(&self) -> u64 {
        let mut seen = HashSet::new();
        self.candidates
            .iter()
            .zip(&self.actions)
            .filter(|(_, a)| **a != AdoptAction::Unchanged)
            .flat_map(|(c, _)| &c.files)
            .filter(|f| seen.insert(&f.source))
            .map(|f| f.size)
            .sum()
    }

    /// The report of a dry run without a catalog: every model would be
    /// added, under the ids `opts.rename` asks for (nothing hashed or
    /// written). With a catalog, [`Catalog::adopt_planned`] with
    /// `opts.dry_run` says what would be updated, unchanged or in conflict.
    pub fn into_dry_run(mut self, opts: &AdoptOptions) -> Result<AdoptReport> {
        if opts.allow_partial {
            self.take_partial();
        }
        self.apply_renames(&opts.rename)?;
        Ok(self.dry_run_report(opts.in_place, Instant::now()))
    }

    fn dry_run_report(self, in_place: bool, started: Instant) -> AdoptReport {
        let models = self
            .candidates
            .iter()
            .zip(&self.actions)
            .filter(|(c, _)| !self.in_conflict(&c.id))
            .map(|(c, a)| AdoptedModel {
                id: c.id.clone(),
                model_ref: c.model_ref.canonical(),
                origin: c.origin.clone(),
                action: *a,
                files: c.files.len() as u64,
                bytes: c.bytes(),
                ingest: IngestCounts::default(),
                bytes_written: 0,
                bytes_hashed: 0,
                trust: TrustState::Unverified,
                failure: None,
                entry: None,
                refs: c
                    .revision
                    .as_ref()
                    .map(|r| r.refs.clone())
                    .unwrap_or_default(),
                stand_ins: Vec::new(),
            })
            .collect();
        AdoptReport {
            layout: self.layout,
            source: self.source,
            dry_run: true,
            in_place,
            models,
            conflicts: self.conflicts,
            skipped: self.skipped,
            ref_moves: Vec::new(),
            vanished: Vec::new(),
            duration_ms: elapsed_ms(started),
        }
    }
}

impl Catalog {
    /// Scans `path` ([`AdoptPlan::scan`]), gives models the ids
    /// `opts.rename` asks for, and says, for each model, whether adopting
    /// it would add it, update its entry, or find it unchanged — or that
    /// its id belongs to a model from elsewhere ([`AdoptPlan::conflicts`]).
    /// Writes nothing (a read-only handle will do).
    pub fn plan_adoption(&self, path: &Path, opts: &AdoptOptions) -> Result<AdoptPlan> {
        let mut plan = AdoptPlan::scan(path)?;
        settle::settle(self, &mut plan, opts)?;
        Ok(plan)
    }

    /// Adopts what `path` holds: a Hugging Face hub cache (or one
    /// `models--org--name` of it), an Ollama models directory, or a plain
    /// directory or GGUF file. See the module docs of `adopt` and
    /// `docs/FORMAT.md` §11.6. `progress` gets the bytes hashed.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let root = tempfile::tempdir().unwrap();
    /// # let models = tempfile::tempdir().unwrap();
    /// use catalog_core::{AdoptOptions, Catalog, Digest, DigestSource, TrustState};
    /// // An Ollama models directory: a manifest naming each layer's digest.
    /// let layer = b"GGUF tiny weights";
    /// let config = b"{}";
    /// let m = models.path();
    /// std::fs::create_dir_all(m.join("blobs")).unwrap();
    /// for bytes in [&layer[..], &config[..]] {
    ///     let name = format!("sha256-{}", Digest::of_bytes(bytes).hex());
    ///     std::fs::write(m.join("blobs").join(name), bytes).unwrap();
    /// }
    /// let manifest = format!(
    ///     r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{}","size":2}},
    ///        "layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"{}","size":{}}}]}}"#,
    ///     Digest::of_bytes(config), Digest::of_bytes(layer), layer.len()
    /// );
    /// let dir = m.join("manifests/registry.ollama.ai/library/tiny");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("latest"), manifest).unwrap();
    ///
    /// let catalog = Catalog::open(root.path())?;
    /// let report = catalog.adopt(m, AdoptOptions::default(), &|_| {})?;
    /// let entry = catalog.get("tiny:latest")?;
    /// assert_eq!(entry.model_ref, "ollama:registry.ollama.ai/library/tiny:latest");
    /// assert_eq!(entry.trust, TrustState::Verified);
    /// assert_eq!(entry.digest_source, Some(DigestSource::Publisher));
    /// assert_eq!(report.bytes_written(), 0, "hard-linked, nothing copied");
    /// // Again: nothing changed, nothing is written.
    /// let seq = catalog.head().seq;
    /// catalog.adopt(m, AdoptOptions::default(), &|_| {})?;
    /// assert_eq!(catalog.head().seq, seq);
    /// # Ok(()) }
    /// ```
    pub fn adopt(
        &self,
        path: &Path,
        opts: AdoptOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<AdoptReport> {
        let plan = self.plan_adoption(path, &opts)?;
        self.adopt_planned(plan, &opts, progress)
    }

    /// Adopts what a plan found (see [`Catalog::adopt`]), checked against
    /// the catalog again first: if an id belongs to a model from elsewhere,
    /// nothing is written ([`Error::AdoptConflict`](crate::Error::AdoptConflict)).
    /// With `opts.dry_run`, returns what would be done (conflicts
    /// included) and writes nothing.
    pub fn adopt_planned(
        &self,
        mut plan: AdoptPlan,
        opts: &AdoptOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<AdoptReport> {
        let started = Instant::now();
        settle::settle(self, &mut plan, opts)?;
        if opts.dry_run {
            let vanished = sync::reconcile(self, &plan, opts.vanished, true, &opts.context)?;
            let mut report = plan.dry_run_report(opts.in_place, started);
            report.vanished = vanished;
            return Ok(report);
        }
        if !plan.conflicts.is_empty() {
            return Err(crate::Error::AdoptConflict {
                conflicts: plan.conflicts,
            });
        }
        opts.context.validate()?;
        let main_before = aliases::main_before(self, &plan.candidates);
        let (models, skipped) = self.adopt_candidates(&plan, opts, progress)?;
        let ref_moves =
            aliases::record(self, &plan.candidates, &models, &main_before, &opts.context)?;
        let vanished = sync::reconcile(self, &plan, opts.vanished, false, &opts.context)?;
        let report = AdoptReport {
            layout: plan.layout,
            source: plan.source,
            dry_run: false,
            in_place: opts.in_place,
            models,
            conflicts: Vec::new(),
            skipped,
            ref_moves,
            vanished,
            duration_ms: elapsed_ms(started),
        };
        tracing::info!(
            source = %report.source.display(),
            layout = report.layout.as_str(),
            models = report.models.len(),
            skipped = report.skipped.len(),
            failed = report.failed(),
            bytes_hashed = report.bytes_hashed(),
            bytes_written = report.bytes_written(),
            duration_ms = report.duration_ms,
            correlation_id = opts.context.correlation_id.as_deref(),
            "adoption finished"
        );
        Ok(report)
    }
}

impl Catalog {
    /// Adopts each candidate of `plan`, under the store lock imports take:
    /// the models registered, and what was skipped (the scan's and the
    /// adoption's).
    fn adopt_candidates(
        &self,
        plan: &AdoptPlan,
        opts: &AdoptOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(Vec<AdoptedModel>, Vec<Skipped>)> {
        let session = self.store_session()?;
        let mut run = apply::Run::new(self, &session, opts, progress);
        let mut models = Vec::with_capacity(plan.candidates.len());
        let mut skipped = plan.skipped.clone();
        for candidate in &plan.candidates {
            match run.adopt_one(candidate)? {
                Ok(model) => models.push(model),
                Err(skip) => skipped.push(skip),
            }
        }
        Ok((models, skipped))
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
