//! The engine's lifecycle: opening a catalog (recovery, creation, the
//! snapshot choice, the torn-tail cut), the group commit that makes every
//! mutation durable, compaction and retention, refreshing read-only
//! handles, repair, the check, and reading history back.

pub(crate) mod check;
pub(crate) mod commit;
pub(crate) mod compact;
pub(crate) mod create;
pub(crate) mod event;
pub(crate) mod history;
pub(crate) mod history_index;
pub(crate) mod identity;
mod lifecycle;
pub(crate) mod options;
pub(crate) mod recovered;
pub(crate) mod recovery;
pub(crate) mod refresh;
pub(crate) mod repair;
mod replay;
pub(crate) mod torn_cut;
pub(crate) mod view;

pub use check::{CheckOptions, CheckReport, Problem, ProblemKind};
pub use commit::CommitStats;
pub use compact::CompactionReport;
pub use event::Event;
pub use history::{Events, EventsPosition};
pub use options::{AutoCompact, Options, RecoveryMode};
pub use recovered::RecoveryReport;
pub use repair::{RepairReport, SalvageGap};
pub use torn_cut::TornTail;
