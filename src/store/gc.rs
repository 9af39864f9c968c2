//! Sweeping the store: orphaned blobs, stale staging files and views that
//! no entry uses, each only once older than a grace period, within a time
//! budget. The catalog decides what is referenced and holds the store lock
//! (imports cannot publish meanwhile); this module only walks and removes.

use super::confine::remove_tree;
use super::{BLOBS_DIR, Object, STAGING_DIR, Store, VIEWS_DIR};
use crate::fs::FileKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What [`crate::Catalog::gc`] may do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcOptions {
    /// Only files older than this are removed (a file an import is about to
    /// register, or a view being built, is younger). A file's age counts
    /// from the later of its modification and inode change times: a file
    /// moved in keeps its source's mtime, but the move sets its ctime.
    /// Default: one hour.
    pub grace: Duration,
    /// Stop after this long and report what was not reached.
    pub max_time: Option<Duration>,
    /// If the store holds more than this many bytes, evict retired models,
    /// least recently used first (last access, else last change), until it fits.
    pub max_bytes: Option<u64>,
    /// Report what would be removed, remove nothing.
    pub dry_run: bool,
    /// Correlation id and actor stored with the evictions a size budget
    /// causes.
    pub context: crate::context::OpContext,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            grace: Duration::from_secs(3600),
            max_time: None,
            max_bytes: None,
            dry_run: false,
            context: crate::context::OpContext::default(),
        }
    }
}

impl GcOptions {
    /// Sets the grace period.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Sets the time budget.
    pub fn max_time(mut self, budget: Duration) -> Self {
        self.max_time = Some(budget);
        self
    }
    /// Sets the size budget.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }
    /// Only report.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
    /// Stores `ctx` with the evictions a size budget causes.
    pub fn context(mut self, ctx: crate::context::OpContext) -> Self {
        self.context = ctx;
        self
    }
}

/// What a garbage collection did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// Whether this was a dry run (nothing removed).
    pub dry_run: bool,
    /// Files removed: orphaned blobs, stale staging files, and the files of
    /// orphaned views.
    pub files_removed: u64,
    /// Bytes freed by removing blobs and staging files (a file still linked
    /// elsewhere, such as a hard-linked source, frees nothing).
    pub bytes_removed: u64,
    /// Blobs and views kept because an entry uses them.
    pub kept: u64,
    /// Bytes of the kept blobs.
    pub kept_bytes: u64,
    /// Orphans not removed because they are younger than the grace period.
    pub skipped_young: u64,
    /// Store objects not examined because the time budget ran out.
    pub not_reached: u64,
    /// Models evicted to meet the size budget, in eviction order.
    pub evicted: Vec<String>,
    /// Bytes those evictions reclaimed.
    pub evicted_bytes: u64,
    /// Files that could not be examined or removed (also by the evictions
    /// of the size budget) and directories that could not be synced, with
    /// the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Source paths whose files an interrupted `--link move` import had
    /// moved into the store, put back before the sweep.
    pub restored_moved: Vec<PathBuf>,
    /// Files a failed or interrupted `--link move` import moved into the
    /// store that could not be put back: kept (gc never removes them).
    pub kept_moved: Vec<crate::KeptFile>,
    /// Wall-clock time taken, in milliseconds.
    pub duration_ms: u64,
}

/// One thing the sweep looks at.
enum Candidate {
    Blob(Object, PathBuf),
    Staged(String, PathBuf),
    View(Option<Object>, String, PathBuf),
}

/// Sweeps the store. `users` says which objects entries use; `protected`
/// names the files in `blobs/tmp/` never to remove (move intents and the
/// files they name), or is `None` if they could not be read — then no
/// staged file is removed at all.
pub(crate) fn sweep(
    store: &Store,
    users: &BTreeMap<Object, usize>,
    protected: Option<&BTreeSet<String>>,
    opts: &GcOptions,
    deadline: Option<Instant>,
    report: &mut GcReport,
    progress: &(dyn Fn(u64) + Sync),
) {
    let candidates = match list(store, protected) {
        Ok(c) => c,
        Err((path, e)) => {
            report.errors.push((path, e));
            return;
        }
    };
    let now_ns = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    )
    .unwrap_or(u64::MAX);
    let grace_ns = u64::try_from(opts.grace.as_nanos()).unwrap_or(u64::MAX);
    let total = candidates.len() as u64;
    for (i, candidate) in candidates.into_iter().enumerate() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            report.not_reached = total - i as u64;
            return;
        }
        progress(1);
        let (path, rel, object) = match &candidate {
            Candidate::Blob(o, p) => (p, o.rel(), Some(*o)),
            Candidate::Staged(rel, p) => (p, rel.clone(), None),
            Candidate::View(o, rel, p) => (p, rel.clone(), *o),
        };
        let meta = match store.fs.metadata(path, false) {
            Ok(Some(m)) => m,
            Ok(None) => continue, // removed meanwhile
            Err(e) => {
                report.errors.push((path.clone(), e.to_string()));
                continue;
            }
        };
        if object.is_some_and(|o| users.contains_key(&o)) {
            report.kept += 1;
            if matches!(candidate, Candidate::Blob(..)) {
                report.kept_bytes += meta.len;
            }
            continue;
        }
        // The age counts from the later of mtime and ctime: a file moved in
        // keeps the mtime its source had (possibly years ago, or set by
        // anyone), but the move itself sets its ctime.
        let touched_ns = meta.modified_ns.max(meta.changed_ns);
        if now_ns.saturating_sub(touched_ns) < grace_ns {
            report.skipped_young += 1;
            continue;
        }
        // Only bytes actually freed count: a file still linked elsewhere
        // (a hard-linked source) frees nothing when its store name goes.
        let bytes = if meta.kind == FileKind::File && meta.nlink <= 1 {
            meta.len
        } else {
            0
        };
        if opts.dry_run {
            report.files_removed += 1;
            report.bytes_removed += bytes;
            continue;
        }
        match remove_tree(store, &rel) {
            Ok(files) => {
                report.files_removed += files;
                report.bytes_removed += bytes;
                tracing::info!(path = %path.display(), bytes, "gc removed an unreferenced file");
            }
            Err(e) => report.errors.push((path.clone(), e.to_string())),
        }
    }
    for dir in [BLOBS_DIR, STAGING_DIR, VIEWS_DIR] {
        if let Err(e) = store.sync_dir(dir) {
            report.errors.push((store.root().join(dir), e.to_string()));
        }
    }
}

fn list(
    store: &Store,
    protected: Option<&BTreeSet<String>>,
) -> Result<Vec<Candidate>, (PathBuf, String)> {
    let names = |dir: PathBuf| -> Result<Vec<String>, (PathBuf, String)> {
        match store.fs.list(&dir) {
            Ok(mut n) => {
                n.sort();
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err((dir, e.to_string())),
        }
    };
    let mut out = Vec::new();
    for name in names(store.blobs_dir())? {
        let rel = format!("{BLOBS_DIR}/{name}");
        let path = store.root().join(&rel);
        match Object::from_rel(&rel) {
            Some(o) => out.push(Candidate::Blob(o, path)),
            // Not a name the store makes: a leftover of someone else; leave it.
            None => continue,
        }
    }
    for name in names(store.staging_dir())? {
        // Bytes a move import took from their source are never removed.
        if protected.is_none_or(|p| p.contains(&name)) {
            continue;
        }
        let rel = format!("{STAGING_DIR}/{name}");
        out.push(Candidate::Staged(rel.clone(), store.root().join(rel)));
    }
    for name in names(store.views_dir())? {
        let rel = format!("{VIEWS_DIR}/{name}");
        let object = Object::from_rel(&rel);
        if object.is_none() && !name.ends_with(".tmp") {
            continue;
        }
        out.push(Candidate::View(object, rel.clone(), store.root().join(rel)));
    }
    Ok(out)
}
