//! What a repair reports.

use std::path::PathBuf;

/// What a repair found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// Whether anything needed repair. `false` means the catalog opens as
    /// it is (a torn tail, if any, is cut by a normal open) and nothing was
    /// changed.
    pub damage_found: bool,
    /// Records kept in the new journal (gap records not counted).
    pub records_kept: u64,
    /// Where records or bytes were lost.
    pub gaps: Vec<SalvageGap>,
    /// Records that passed their checks but were left out, with the reason
    /// (a stale duplicate, or an operation on a model whose registration
    /// was lost).
    pub dropped_records: Vec<(u64, String)>,
    /// Snapshots that could not be read.
    pub skipped_snapshots: Vec<PathBuf>,
    /// The snapshot the rebuilt state started from.
    pub snapshot_seq: Option<u64>,
    /// Last sequence number of the new journal.
    pub last_seq: u64,
    /// Where the original files were moved.
    pub quarantined_to: Option<PathBuf>,
}

/// A stretch of the old journal that could not be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SalvageGap {
    /// The damaged file.
    pub file: PathBuf,
    /// Offset of the first bad byte.
    pub offset: u64,
    /// Bad bytes.
    pub bytes: u64,
    /// The sequence numbers lost (first, last), where known.
    pub lost_seqs: Option<(u64, u64)>,
    /// What was wrong.
    pub reason: String,
}
