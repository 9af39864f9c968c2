//! One journal record as history shows it (`Event`): what `history.rs`
//! returns and `history_index.rs` caches.

use crate::context::OpContext;
use crate::journal::op::Op;

/// One journal record, as history.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Sequence number.
    pub seq: u64,
    /// When it was written (Unix milliseconds).
    pub time_ms: u64,
    /// What happened, with every field the operation set.
    pub op: Op,
    /// Who asked, in which request.
    pub context: OpContext,
    /// The chain value after this record, 64 hex digits.
    pub chain: String,
}

impl Event {
    /// `put`, `set_state`, `verify`, `evict`, `delete` or `gap`.
    pub fn kind(&self) -> &'static str {
        self.op.kind()
    }
    /// The model the event concerns (none for a gap).
    pub fn model_id(&self) -> Option<&str> {
        self.op.model_id()
    }
}
