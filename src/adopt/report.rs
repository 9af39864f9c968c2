//! What an adoption found and did: the layout it recognised, one line per
//! model (added, updated or unchanged; how its bytes came in; its trust),
//! and what it skipped and why.

use super::detect::SourceLayout;
use crate::entry::{ModelEntry, TrustState};
use std::path::PathBuf;

/// What an adoption did with one model (in a dry run: what it would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdoptAction {
    /// Registered for the first time.
    Added,
    /// Its entry was replaced: the snapshot, manifest or files changed (or
    /// it was registered differently before, for example in place). Only
    /// an entry of the same origin is ever replaced (see
    /// [`AdoptPlan::conflicts`](super::AdoptPlan::conflicts)).
    Updated,
    /// Nothing changed since it was last adopted: no record was written.
    Unchanged,
}

impl AdoptAction {
    /// `"added"`, `"updated"` or `"unchanged"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AdoptAction::Added => "added",
            AdoptAction::Updated => "updated",
            AdoptAction::Unchanged => "unchanged",
        }
    }
}

/// How a model's files came to be registered (counts of files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestCounts {
    /// Hard-linked into the store: the same inode as the publisher's file.
    pub hard_linked: u64,
    /// Reflinked into the store: a new file sharing the data.
    pub reflinked: u64,
    /// Copied into the store (another file system that cannot share data).
    pub copied: u64,
    /// Already in the store (the same bytes; nothing staged was kept).
    pub already_stored: u64,
    /// Registered where they are (`--in-place`, or a model that failed).
    pub in_place: u64,
}

impl IngestCounts {
    /// The way most of the files came in, in words (`hard-linked`,
    /// `reflinked`, `copied`, `already stored`, `in place`, or `mixed`).
    pub fn summary(&self) -> &'static str {
        let all = [
            (self.hard_linked, "hard-linked"),
            (self.reflinked, "reflinked"),
            (self.copied, "copied"),
            (self.already_stored, "already stored"),
            (self.in_place, "in place"),
        ];
        let used: Vec<_> = all.iter().filter(|(n, _)| *n > 0).collect();
        match used.as_slice() {
            [] => "nothing",
            [(_, one)] => one,
            _ => "mixed",
        }
    }
}

/// One model of an adoption.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdoptedModel {
    /// Its id in the catalog.
    pub id: String,
    /// Its reference (canonical): `hf:org/name@<commit>`,
    /// `ollama:host/namespace/model:tag`, `file:/…`.
    pub model_ref: String,
    /// Where it was found (a snapshot directory, a manifest, a file).
    pub origin: PathBuf,
    /// Added, updated or unchanged.
    pub action: AdoptAction,
    /// Number of files.
    pub files: u64,
    /// Total size.
    pub bytes: u64,
    /// How its files came in.
    pub ingest: IngestCounts,
    /// Bytes written to the disk to bring them in (a copy's; a hard link
    /// or a reflink writes none).
    pub bytes_written: u64,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Its trust afterwards (`Verified` when every file matched the digest
    /// its store gave it; `Failed` on a mismatch).
    pub trust: TrustState,
    /// Why it failed (a file whose bytes do not match its publisher's
    /// digest), if it did.
    pub failure: Option<String>,
    /// The entry as registered (`None` in a dry run).
    pub entry: Option<ModelEntry>,
    /// The refs pointing to its commit (a Hugging Face snapshot's `main`,
    /// tags, `refs/pr/N`): aliases of this entry (docs/MODEL_REF.md §6).
    pub refs: Vec<String>,
    /// Files of it whose bytes the store already held as another file
    /// (another repository's, hard-linked earlier): that file stands in
    /// for this one's, one inode for both — said plainly, one line each.
    pub stand_ins: Vec<String>,
}

/// A ref of a Hugging Face repository that an adoption found pointing
/// elsewhere than the catalog had recorded, and recorded
/// (`Op::RefMoved`, in the history of the entry `id`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefMove {
    /// The entry whose history records it: the commit's it points to now
    /// (or, when it is gone, the one it pointed to).
    pub id: String,
    /// The ref (`main`, `v1.0`, `refs/pr/1`).
    pub name: String,
    /// The commit it pointed to, as recorded; `None` the first time.
    pub from: Option<String>,
    /// The commit it points to now; `None` when it no longer points to any
    /// commit adopted.
    pub to: Option<String>,
}

/// Why something found in the source was not adopted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipKind {
    /// A download in progress or interrupted: a dangling symlink, an
    /// `.incomplete` blob, a manifest whose blob is missing, a snapshot
    /// lacking a file its publisher's listing names (partial).
    Incomplete,
    /// A file in a snapshot that its publisher's listing of the commit
    /// (huggingface_hub's `trees/<commit>.json`) does not name: the
    /// snapshot is adopted without it.
    Unlisted,
    /// Not a model, or a layout or name the catalog does not take (a
    /// dataset repository, a single-segment legacy repository id, a name
    /// outside the rules, a manifest that does not parse).
    Unsupported,
}

impl SkipKind {
    /// `"incomplete"`, `"unlisted"` or `"unsupported"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Incomplete => "incomplete",
            SkipKind::Unlisted => "unlisted",
            SkipKind::Unsupported => "unsupported",
        }
    }
}

/// Something found in the source that was not adopted, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// What was skipped (a snapshot, a repository, a manifest).
    pub path: PathBuf,
    /// Incomplete, or unsupported.
    pub kind: SkipKind,
    /// Why, and what to do.
    pub reason: String,
}

/// What an adoption did (or, in a dry run, would do).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdoptReport {
    /// The layout recognised at the path.
    pub layout: SourceLayout,
    /// The path adopted (absolute).
    pub source: PathBuf,
    /// Nothing was hashed or written.
    pub dry_run: bool,
    /// The files were registered where they are.
    pub in_place: bool,
    /// One per model found, in the order found (but those in conflict).
    pub models: Vec<AdoptedModel>,
    /// Ids the catalog holds for models from elsewhere (a dry run lists
    /// them; a real adoption with one is refused, writing nothing).
    pub conflicts: Vec<super::AdoptConflict>,
    /// What was not adopted.
    pub skipped: Vec<Skipped>,
    /// The refs recorded as moved (none in a dry run).
    pub ref_moves: Vec<RefMove>,
    /// Entries adopted from this cache whose snapshot is gone, and what was
    /// done (`AdoptOptions::vanished`; empty unless asked).
    pub vanished: Vec<VanishedModel>,
    /// Wall-clock time, in milliseconds.
    pub duration_ms: u64,
}

impl AdoptReport {
    /// Whether some model's bytes did not match its publisher's digest
    /// (registered as `Failed`).
    pub fn failed(&self) -> bool {
        self.models.iter().any(|m| m.trust == TrustState::Failed)
    }

    /// Bytes hashed, over every model.
    pub fn bytes_hashed(&self) -> u64 {
        self.models.iter().map(|m| m.bytes_hashed).sum()
    }

    /// Bytes written to bring files in, over every model.
    pub fn bytes_written(&self) -> u64 {
        self.models.iter().map(|m| m.bytes_written).sum()
    }
}

/// What to do with entries whose source vanished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Vanished {
    /// Nothing: they are not looked for (the default).
    #[default]
    Ignore,
    /// Report them.
    Report,
    /// Retire them (gc's size budget evicts retired models first).
    Retire,
    /// Delete them, freeing the store's files no other entry uses.
    Delete,
}

impl Vanished {
    /// `"ignore"`, `"report"`, `"retire"` or `"delete"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vanished::Ignore => "ignore",
            Vanished::Report => "report",
            Vanished::Retire => "retire",
            Vanished::Delete => "delete",
        }
    }
}

/// An entry whose snapshot vanished from the cache, and what was done.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VanishedModel {
    /// Its id.
    pub id: String,
    /// Its reference.
    pub model_ref: String,
    /// The snapshot directory that is gone.
    pub snapshot: PathBuf,
    /// What was done: `Report` (nothing), `Retire`, `Delete` (a dry run:
    /// what would be).
    pub action: Vanished,
    /// Bytes deleting it frees (deleted: freed), measured from the store's
    /// link counts; `None` when it could not be measured (a read-only
    /// handle).
    pub bytes_freed: Option<u64>,
}
