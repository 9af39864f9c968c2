//! Verifying several models in one pass: a file that several of them hold
//! (a blob shared by deduplication) is read and hashed once, and what it
//! hashed to is applied to each model that holds it. Each model still gets
//! its own record, written as soon as its own files are hashed, so an
//! interrupted run keeps the outcomes it reached.

use super::verify::{Prepared, Target, VerifyOptions, VerifyReport};
use crate::catalog::Catalog;
use crate::entry::{ModelEntry, Verification};
use crate::error::{Error, Result};
use crate::hashing::{FileRead, TargetOpener, hash_files_via};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// Models to verify, resolved and ready: made by [`Catalog::plan_verify`],
/// carried out by [`VerifyPlan::run`].
pub struct VerifyPlan<'c> {
    catalog: &'c Catalog,
    opts: VerifyOptions,
    items: Vec<Item>,
    bytes_to_hash: u64,
}

struct Item {
    entry: ModelEntry,
    work: Work,
}

enum Work {
    Unchanged(Verification),
    Hash(Vec<Target>),
    /// The model cannot be verified at all (an unsafe stored path, an
    /// unreadable file's metadata): reported for this model only.
    Refused(Error),
}

/// What one file hashed to (or why it could not be read), shared by every
/// model that holds it.
type Hashed = std::result::Result<FileRead, String>;

impl Catalog {
    /// Resolves the models to verify (each id once per mention) and what
    /// each needs: the fast path's outcome (with
    /// [`VerifyOptions::fast_path`]), or its files to hash. An unknown id
    /// is an error and nothing is recorded. `opts` apply to every model
    /// (an [`VerifyOptions::expected`] digest too).
    ///
    /// ```
    /// # use catalog_core::{Catalog, EntrySpec, VerifyOptions};
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let catalog = Catalog::open(dir.path())?;
    /// # std::fs::create_dir_all(dir.path().join("m")).unwrap();
    /// # std::fs::write(dir.path().join("m/weights"), b"w").unwrap();
    /// # let digest = catalog_core::Digest::of_bytes(b"w");
    /// # catalog.put(EntrySpec::new("a", "file:/m", "m/weights").digest(digest).size_bytes(1))?;
    /// # catalog.put(EntrySpec::new("b", "file:/m", "m/weights").digest(digest).size_bytes(1))?;
    /// let plan = catalog.plan_verify(&["a", "b"], VerifyOptions::default())?;
    /// assert_eq!(plan.bytes_to_hash(), 1); // the one file both name
    /// let reports = plan.run(&mut |_id| {}, &|_bytes| {});
    /// assert!(reports.iter().all(|(_, r)| r.is_ok()));
    /// # Ok(()) }
    /// ```
    pub fn plan_verify<S: AsRef<str>>(
        &self,
        ids: &[S],
        opts: VerifyOptions,
    ) -> Result<VerifyPlan<'_>> {
        self.writer()?;
        opts.context.validate()?;
        let entries = ids
            .iter()
            .map(|id| self.get(id.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let mut bytes_to_hash = 0;
        let items = entries
            .into_iter()
            .map(|entry| {
                let work = match self.prepare_verify(&entry, &opts) {
                    Ok(Prepared::Unchanged(outcome)) => Work::Unchanged(outcome),
                    Ok(Prepared::Hash(targets)) => {
                        for t in &targets {
                            if seen.insert(t.path.clone()) {
                                bytes_to_hash += t.size;
                            }
                        }
                        Work::Hash(targets)
                    }
                    Err(e) => Work::Refused(e),
                };
                Item { entry, work }
            })
            .collect();
        Ok(VerifyPlan {
            catalog: self,
            opts,
            items,
            bytes_to_hash,
        })
    }
}

impl VerifyPlan<'_> {
    /// The bytes [`VerifyPlan::run`] will read at most: each distinct file
    /// once, as sized by the catalog's records.
    pub fn bytes_to_hash(&self) -> u64 {
        self.bytes_to_hash
    }

    /// How many models the plan holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the plan holds no model.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Verifies the models in order and records each outcome as soon as
    /// its files are hashed (files with several threads, as
    /// [`VerifyOptions::threads`] says). A file already hashed in this run
    /// is not read again: its result applies to every model that holds it.
    /// `on_model` is called with each id before its work starts; `progress`
    /// with the bytes hashed as they are.
    ///
    /// A model's outcome is an error only if it could not be checked or
    /// recorded (a failed verification is an `Ok` report whose result is
    /// `Fail`). Once recording fails, the catalog handle is poisoned and
    /// every later model reports that error.
    pub fn run(
        self,
        on_model: &mut dyn FnMut(&str),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Vec<(String, Result<VerifyReport>)> {
        let VerifyPlan {
            catalog,
            opts,
            items,
            ..
        } = self;
        let fs = &*catalog.inner.opts.fs;
        let mut hashed: HashMap<PathBuf, Hashed> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for Item { entry, work } in items {
            on_model(&entry.id);
            let started = Instant::now();
            let report = match work {
                Work::Refused(e) => Err(e),
                Work::Unchanged(outcome) => catalog.record_unchanged(&entry, outcome, &opts),
                Work::Hash(targets) => {
                    let mut queued = HashSet::new();
                    let todo: Vec<PathBuf> = targets
                        .iter()
                        .filter(|t| !hashed.contains_key(&t.path) && queued.insert(&t.path))
                        .map(|t| t.path.clone())
                        .collect();
                    let opener = TargetOpener {
                        fs,
                        files: targets
                            .iter()
                            .map(|t| (t.path.clone(), (t.tree.clone(), t.size)))
                            .collect(),
                    };
                    let results = hash_files_via(&opener, &todo, opts.threads, progress);
                    for (path, r) in todo.into_iter().zip(results) {
                        hashed.insert(path, r.map_err(|e| e.to_string()));
                    }
                    let mine = targets.iter().map(|t| hashed[&t.path].clone()).collect();
                    catalog.conclude_verify(&entry, &targets, mine, &opts, started)
                }
            };
            out.push((entry.id, report));
        }
        out
    }
}
