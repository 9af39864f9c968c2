//! The append-only journal: framed, checksummed, chained records in numbered
//! segments. See `docs/FORMAT.md` for the bytes and the crash analysis.

pub mod chain;
pub(crate) mod fits;
pub(crate) mod listing;
pub mod op;
pub mod position;
pub mod reader;
pub mod record;
pub mod salvage;
pub mod segment;
pub mod settle;
pub mod torn_tail;
pub mod writer;
