//! The committed view: the in-memory map and the journal position it
//! reflects. Only durable records are ever applied to it.

use crate::journal::chain::ChainValue;
use crate::journal::reader::Cursor;
use crate::state::State;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The state as of sequence number `seq`, and where the journal continues.
#[derive(Debug)]
pub(crate) struct View {
    /// The live entries.
    pub state: State,
    /// Last sequence number of a record that changed the entries (later
    /// ones are catalog-level: checkpoints, pruning marks, gaps).
    pub state_seq: u64,
    /// Last sequence number applied (0 before the first record).
    pub seq: u64,
    /// Chain value after record `seq`.
    pub chain: ChainValue,
    /// Timestamp of record `seq`.
    pub time_ms: u64,
    /// Segment holding the end of the applied journal.
    pub segment_no: u64,
    /// Position after record `seq` in that segment.
    pub cursor: Cursor,
    /// Offset in that segment of the last record before `cursor`, if the
    /// segment holds one: a read-only handle checks at every refresh that it
    /// is still there (with the chain value `cursor.chain`), so a record it
    /// applied from the page cache that a failed write then took away is
    /// noticed (the handle reloads).
    pub tail: Option<u64>,
}

pub(crate) fn read(view: &RwLock<View>) -> RwLockReadGuard<'_, View> {
    view.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn write(view: &RwLock<View>) -> RwLockWriteGuard<'_, View> {
    view.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
