//! The fleet view (feature `nats`): every node's catalog events in one NATS
//! JetStream stream, exactly once, and the current state of every (node,
//! model) in a key-value bucket (docs/FLEET.md).
//!
//! - [`export`] publishes a catalog's journal events, oldest first, to
//!   `catalog.<node>.events` of the stream `CATALOG`, resuming from the
//!   stream's last message for that node (no state on the node), and keeps
//!   the bucket `CATALOG_FLEET` up to date;
//! - [`fleet_ls`] and [`fleet_history`] answer "which nodes hold model X,
//!   verified, active?" and "what happened to X across the fleet?", taking
//!   each node from a key or subject (which the server's permissions
//!   guard), never from a message body, and leaving out ([`Dropped`]) what
//!   disagrees with it.
//!
//! The rest of the crate is synchronous: the async runtime the NATS client
//! needs lives here, a current-thread runtime each call builds and owns.

mod config;
mod exporter;
mod layout;
mod origin;
mod query;
mod read;
mod resume;
mod rows;
mod sign;
mod state;
mod subject;
mod wire;

pub use config::NatsConfig;
pub use exporter::{ExportOptions, ExportReport, event_body, export};
pub use layout::Layout;
pub use origin::{DropReason, Dropped};
pub use query::{FleetHistory, FleetListing, NodeStatus, fleet_history, fleet_ls};
pub use sign::{KEY_FILE, Keys, NodeKey, SIG_HEADER, key_path};
pub use state::{FleetModel, FleetNode};
pub use subject::{
    DEFAULT_BUCKET, DEFAULT_STREAM, MAX_NODE_LEN, NodeName, STREAM_SUBJECTS, check_stream_name,
    escape_id, unescape_id,
};
pub use wire::{MSG_ID_HEADER, msg_id};

use crate::error::{Error, Result};

/// A current-thread runtime with timers and sockets, for one call.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
}
