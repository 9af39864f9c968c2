//! What opening a catalog produces: the state an open handle starts from
//! and the report of what recovery found and did (filled by `recovery.rs`
//! and `replay.rs`, so it is in neither).

use super::identity::Identity;
use super::torn_cut::TornTail;
use super::view::View;
use std::path::PathBuf;

/// What opening found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The catalog did not exist and was created.
    pub created: bool,
    /// Sequence number of the snapshot the state was loaded from.
    pub snapshot_seq: Option<u64>,
    /// Damaged snapshots passed over in favour of an older one.
    pub skipped_snapshots: Vec<PathBuf>,
    /// Journal records replayed after the snapshot.
    pub records_replayed: u64,
    /// The torn tail, if there was one.
    pub torn_tail: Option<TornTail>,
    /// Temp files of interrupted writes that were removed.
    pub removed_temp_files: Vec<PathBuf>,
    /// The disk reported a write error for the newest segment's unsynced
    /// tail when this writer synced it: that tail was read back from the
    /// disk, and whatever had not reached it is gone (it was never
    /// acknowledged). A sign of a failing disk.
    pub write_error_at_open: bool,
    /// Source paths whose files an interrupted `--link move` import had
    /// moved into the store, and that were put back.
    pub restored_moved: Vec<PathBuf>,
    /// Files an interrupted `--link move` import had moved into the store
    /// that could not be put back (the path is taken or gone): kept in the
    /// store, never deleted; `check` reports them.
    pub kept_moved: Vec<crate::KeptFile>,
}

/// Everything an open handle starts from.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub identity: Identity,
    pub view: View,
    /// Journal bytes after the snapshot the state was loaded from.
    pub bytes_since_snapshot: u64,
    /// Size of that snapshot file (0 without one).
    pub snapshot_bytes: u64,
    pub report: RecoveryReport,
}
