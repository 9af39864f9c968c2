//! Metrics hooks: what the catalog counts, with small fixed label sets.
//!
//! The catalog calls a [`MetricsSink`] (set with
//! [`crate::Options::metrics`]) at each event. [`Counters`] is a ready-made
//! sink of atomic counters that renders the Prometheus text format; with
//! the `metrics` cargo feature, [`MetricsFacade`] forwards to the `metrics`
//! crate's global recorder instead. Label values are fixed small sets —
//! never ids, references or paths.
//!
//! | metric | labels |
//! |---|---|
//! | `catalog_verifications_total` | `result` = pass\|warn\|fail, `reason` = match\|no_expected\|mismatch\|unreadable\|unchanged |
//! | `catalog_puts_total` | – |
//! | `catalog_evictions_total`, `catalog_evicted_bytes_total` | – |
//! | `catalog_gc_reclaimed_bytes_total` | – |
//! | `catalog_recovery_truncations_total`, `catalog_recovery_truncated_bytes_total` | – |
//!
//! ```
//! # fn main() -> catalog_core::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use catalog_core::{Catalog, Counters, EntrySpec, Options};
//! use std::sync::Arc;
//! let counters = Arc::new(Counters::default());
//! let catalog = Catalog::open_with(dir.path(), Options::default().metrics(counters.clone()))?;
//! catalog.put(EntrySpec::new("m", "hf:org/repo", "blobs/m"))?;
//! assert_eq!(counters.snapshot().puts, 1);
//! assert!(counters.snapshot().to_prometheus().contains("catalog_puts_total 1"));
//! # Ok(()) }
//! ```

use crate::entry::VerifyResult;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a verification ended as it did: the `reason` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum VerifyReason {
    /// The digest matched.
    Match,
    /// There was no expected digest to compare with.
    NoExpected,
    /// The digest did not match.
    Mismatch,
    /// A file could not be read (missing, I/O error).
    Unreadable,
    /// The fast path found the files unchanged (nothing hashed).
    Unchanged,
}

impl VerifyReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyReason::Match => "match",
            VerifyReason::NoExpected => "no_expected",
            VerifyReason::Mismatch => "mismatch",
            VerifyReason::Unreadable => "unreadable",
            VerifyReason::Unchanged => "unchanged",
        }
    }

    /// The reason implied by a bare result (for outcomes recorded directly).
    pub fn from_result(result: VerifyResult) -> Self {
        match result {
            VerifyResult::Pass => VerifyReason::Match,
            VerifyResult::Warn => VerifyReason::NoExpected,
            VerifyResult::Fail => VerifyReason::Mismatch,
        }
    }

    const ALL: [VerifyReason; 5] = [
        VerifyReason::Match,
        VerifyReason::NoExpected,
        VerifyReason::Mismatch,
        VerifyReason::Unreadable,
        VerifyReason::Unchanged,
    ];
}

/// Receives the catalog's metric events. Every method has an empty default,
/// so a sink implements only what it exports.
pub trait MetricsSink: Send + Sync + fmt::Debug {
    /// A verification was recorded.
    fn verification(&self, result: VerifyResult, reason: VerifyReason) {
        let _ = (result, reason);
    }
    /// A put was acknowledged.
    fn put(&self) {}
    /// A model was evicted, freeing `bytes`.
    fn eviction(&self, bytes: u64) {
        let _ = bytes;
    }
    /// gc removed `bytes` of unreferenced files.
    fn gc_reclaimed(&self, bytes: u64) {
        let _ = bytes;
    }
    /// Opening cut a torn tail of `bytes`.
    fn recovery_truncation(&self, bytes: u64) {
        let _ = bytes;
    }
}

/// Atomic counters for every metric; cheap to share.
#[derive(Debug, Default)]
pub struct Counters {
    verifications: [[AtomicU64; 5]; 3],
    puts: AtomicU64,
    evictions: AtomicU64,
    evicted_bytes: AtomicU64,
    gc_bytes: AtomicU64,
    truncations: AtomicU64,
    truncated_bytes: AtomicU64,
}

/// A copy of [`Counters`] at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CounterSnapshot {
    /// `catalog_verifications_total` by (result, reason) label values; only
    /// non-zero series.
    pub verifications: Vec<((&'static str, &'static str), u64)>,
    /// `catalog_puts_total`
    pub puts: u64,
    /// `catalog_evictions_total`
    pub evictions: u64,
    /// `catalog_evicted_bytes_total`
    pub evicted_bytes: u64,
    /// `catalog_gc_reclaimed_bytes_total`
    pub gc_reclaimed_bytes: u64,
    /// `catalog_recovery_truncations_total`
    pub recovery_truncations: u64,
    /// `catalog_recovery_truncated_bytes_total`
    pub recovery_truncated_bytes: u64,
}

const RESULTS: [VerifyResult; 3] = [VerifyResult::Pass, VerifyResult::Warn, VerifyResult::Fail];

fn result_index(result: VerifyResult) -> usize {
    match result {
        VerifyResult::Pass => 0,
        VerifyResult::Warn => 1,
        VerifyResult::Fail => 2,
    }
}

impl Counters {
    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        let mut verifications = Vec::new();
        for (ri, result) in RESULTS.iter().enumerate() {
            for (si, reason) in VerifyReason::ALL.iter().enumerate() {
                let n = self.verifications[ri][si].load(Ordering::Relaxed);
                if n > 0 {
                    verifications.push(((result.as_str(), reason.as_str()), n));
                }
            }
        }
        CounterSnapshot {
            verifications,
            puts: self.puts.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            evicted_bytes: self.evicted_bytes.load(Ordering::Relaxed),
            gc_reclaimed_bytes: self.gc_bytes.load(Ordering::Relaxed),
            recovery_truncations: self.truncations.load(Ordering::Relaxed),
            recovery_truncated_bytes: self.truncated_bytes.load(Ordering::Relaxed),
        }
    }
}

impl CounterSnapshot {
    /// The counters in the Prometheus text exposition format.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        out.push_str("# TYPE catalog_verifications_total counter\n");
        for ((result, reason), n) in &self.verifications {
            out.push_str(&format!(
                "catalog_verifications_total{{result=\"{result}\",reason=\"{reason}\"}} {n}\n"
            ));
        }
        for (name, n) in [
            ("catalog_puts_total", self.puts),
            ("catalog_evictions_total", self.evictions),
            ("catalog_evicted_bytes_total", self.evicted_bytes),
            ("catalog_gc_reclaimed_bytes_total", self.gc_reclaimed_bytes),
            (
                "catalog_recovery_truncations_total",
                self.recovery_truncations,
            ),
            (
                "catalog_recovery_truncated_bytes_total",
                self.recovery_truncated_bytes,
            ),
        ] {
            out.push_str(&format!("# TYPE {name} counter\n{name} {n}\n"));
        }
        out
    }
}

impl MetricsSink for Counters {
    fn verification(&self, result: VerifyResult, reason: VerifyReason) {
        let si = VerifyReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.verifications[result_index(result)][si].fetch_add(1, Ordering::Relaxed);
    }
    fn put(&self) {
        self.puts.fetch_add(1, Ordering::Relaxed);
    }
    fn eviction(&self, bytes: u64) {
        self.evictions.fetch_add(1, Ordering::Relaxed);
        self.evicted_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    fn gc_reclaimed(&self, bytes: u64) {
        self.gc_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    fn recovery_truncation(&self, bytes: u64) {
        self.truncations.fetch_add(1, Ordering::Relaxed);
        self.truncated_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Forwards every event to the `metrics` crate facade (whatever recorder
/// the application installed: Prometheus, StatsD, …).
#[cfg(feature = "metrics")]
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsFacade;

#[cfg(feature = "metrics")]
impl MetricsSink for MetricsFacade {
    fn verification(&self, result: VerifyResult, reason: VerifyReason) {
        metrics::counter!(
            "catalog_verifications_total",
            "result" => result.as_str(),
            "reason" => reason.as_str()
        )
        .increment(1);
    }
    fn put(&self) {
        metrics::counter!("catalog_puts_total").increment(1);
    }
    fn eviction(&self, bytes: u64) {
        metrics::counter!("catalog_evictions_total").increment(1);
        metrics::counter!("catalog_evicted_bytes_total").increment(bytes);
    }
    fn gc_reclaimed(&self, bytes: u64) {
        metrics::counter!("catalog_gc_reclaimed_bytes_total").increment(bytes);
    }
    fn recovery_truncation(&self, bytes: u64) {
        metrics::counter!("catalog_recovery_truncations_total").increment(1);
        metrics::counter!("catalog_recovery_truncated_bytes_total").increment(bytes);
    }
}

/// The sink used when none is set.
#[derive(Debug, Default)]
pub(crate) struct NoMetrics;

impl MetricsSink for NoMetrics {}
