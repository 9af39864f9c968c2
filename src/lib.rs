//! # catalog-core
//!
//! The model catalog of an LLM orchestrator: which model artifacts are on a
//! node's disk, their SHA-256 digests, whether they are active or retired,
//! whether they were verified, and the full history of every model.
//!
//! Every mutation is one CRC-framed, hash-chained record appended to a
//! journal and `fdatasync`ed before the call returns; only then is the
//! in-memory map updated. Opening replays the newest snapshot plus the
//! journal after it, cuts a provably torn tail (keeping the cut bytes) and
//! refuses any other damage with a typed error. The bytes on disk are
//! specified in `docs/FORMAT.md`.
//!
//! ```
//! # fn main() -> catalog_core::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use catalog_core::{Catalog, Digest, EntrySpec, Lifecycle};
//!
//! let catalog = Catalog::open(dir.path())?;
//! let spec = EntrySpec::new("qwen2-7b", "hf:Qwen/Qwen2-7B-Instruct", "blobs/sha256/ab")
//!     .digest(Digest::of_bytes(b"weights"))
//!     .size_bytes(7);
//! catalog.put(spec)?; // durable when this returns
//! catalog.set_state("qwen2-7b", Lifecycle::Retired)?;
//!
//! // A read-only handle takes no lock and sees a consistent prefix.
//! let reader = Catalog::open_read_only(dir.path())?;
//! assert_eq!(reader.get("qwen2-7b")?.lifecycle, Lifecycle::Retired);
//! # Ok(()) }
//! ```
//!
//! Models a node already has — a Hugging Face hub cache, an Ollama models
//! directory, a GGUF file — are adopted with [`Catalog::adopt`]: linked
//! into the store (or registered where they are), each file read once and
//! checked against the digest its store names it by. Trust is `Verified`
//! only against a publisher's digest ([`DigestSource`]).
//!
//! An OpenSSF Model Signing signature (`model.sig`, made by `model_signing
//! sign`) is verified offline with `Catalog::verify_signature` against the
//! recorded digests; who signed is kept in the journal
//! ([`signature::SignatureRecord`]) and the bundle in the store (feature
//! `signature`, on by default; `docs/FORMAT.md` §12).
//!
//! What it is not: a downloader (network fetchers belong to provisioners), a
//! database for arbitrary data, or shared between hosts (the writer lock is
//! an advisory lock on a local file system).
//!
//! # Layout
//!
//! Roughly top to bottom (no file imports another that imports it back:
//! `scripts/check-import-cycles.py`):
//!
//! - `catalog/`: the [`Catalog`] handle. `engine/` is its lifecycle
//!   (`recovery`, `replay`, `commit`, `compact`, `refresh`, `repair/`,
//!   `check/`, `history`); `models/` is what is done to models (`import`,
//!   `verify`, `evict`, `gc`, `resolve`).
//! - `adopt/` (caches a node already has), `fleet/` (feature `nats`),
//!   `fetch` (the fetcher trait an import reads through).
//! - `store/`: content-addressed blobs, views, move intents, gc.
//! - `journal/` (segments, records, the chain, the segment listing,
//!   salvage), `snapshot`, `legacy` (older formats' shapes), `state`.
//! - `entry`, `model_ref/`, `digest`, `hashing`, `context`, `labels` and
//!   `entry_json` (the text and JSON of entries), `event_json`, `metrics`.
//! - `error` (with `corrupt`: which check failed), `fs/` (the file-system
//!   trait), `layout`, `lock`, `preamble`, `bytes`, `clock`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod adopt;
mod bytes;
mod catalog;
mod clock;
mod context;
mod corrupt;
mod digest;
mod entry;
mod entry_json;
mod error;
mod event_json;
mod fetch;
#[cfg(feature = "nats")]
pub mod fleet;
#[doc(hidden)]
pub mod fs;
mod hashing;
#[doc(hidden)]
pub mod journal;
mod labels;
mod layout;
mod legacy;
mod lock;
mod metrics;
mod model_ref;
mod preamble;
pub mod signature;
mod snapshot;
mod state;
mod store;
mod store_trait;
mod text_check;

pub use adopt::{
    AdoptAction, AdoptConflict, AdoptOptions, AdoptPlan, AdoptReport, AdoptedModel, ConflictKind,
    IngestCounts, MAX_OLLAMA_MANIFEST_BYTES, SkipKind, Skipped, SourceLayout,
};
pub use adopt::{RefMove, Vanished, VanishedModel};
pub use catalog::ACCESS_GRANULARITY_MS;
#[cfg(feature = "signature")]
pub use catalog::SignatureReport;
pub use catalog::{
    AutoCompact, Catalog, CheckOptions, CheckReport, CommitStats, CompactionReport, Event, Events,
    EventsPosition, EvictReport, ImportOptions, ImportReport, JournalHead, Options, Problem,
    ProblemKind, RecoveryMode, RecoveryReport, RepairReport, SalvageGap, TornTail, VerifyOptions,
    VerifyPlan, VerifyReport, WithContext,
};
pub use context::{MAX_CONTEXT_LEN, OpContext};
pub use digest::{Digest, DigestAlgorithm};
pub use entry::{
    DigestSource, EntrySpec, FileFingerprint, Lifecycle, MAX_ID_LEN, MAX_MANIFEST_FILES,
    MAX_MEDIA_TYPE_LEN, MAX_PATH_LEN, MAX_REASON_LEN, ManifestFile, ModelEntry, TrustState,
    Verification, VerifyResult,
};
pub use error::{CorruptKind, Error, Result};
pub use event_json::iso_time;
pub use fetch::{FetchedModel, FileFetcher, ModelFetcher, SourceFile};
pub use hashing::{
    DigestCheck, FileDigest, HASH_BUFFER_SIZE, copy_and_hash, hash_file, hash_files, hash_reader,
    verify_digest,
};
pub use journal::op::Op;
#[cfg(feature = "metrics")]
pub use metrics::MetricsFacade;
pub use metrics::{CounterSnapshot, Counters, MetricsSink, VerifyReason};
pub use model_ref::{ModelRef, ModelUrl};
pub use store::gc::{GcOptions, GcReport};
pub use store::ingest::LinkMode;
pub use store::kept::KeptFile;
pub use store::overlap::RootOverlap;
pub use store_trait::CatalogStore;

/// The README's examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
