//! The exporter: every journal event of one node, oldest first, published
//! to `catalog.<node>.events` exactly once, then (with `follow`) every new
//! one as the writer appends it.
//!
//! A session connects, makes sure the stream and the bucket exist, claims
//! the node name and finds where to continue from the stream alone
//! (`resume`). It then publishes every event after that with `Nats-Msg-Id:
//! <node>:<catalog_id>:<seq>`, pipelined with a sliding window: at most
//! `window` messages unacknowledged, each acknowledgement settled in order
//! as the next message goes out. Messages of one connection reach the stream
//! in the order sent, and a kill or a cut loses a suffix of what was sent,
//! never something in the middle, so the stream holds a prefix of the
//! journal; the message id drops a message the server got twice within the
//! duplicate window (a dead connection's last bytes, processed after the
//! next session read the last message). Any failure ends the session: in
//! follow mode the next one starts after a backoff (100 ms, doubling, at
//! most `max_backoff`) and resumes from the stream again; without follow a
//! failed request is worth two more sessions, then the export fails.
//!
//! A "duplicate" acknowledgement is checked: the stream names the message
//! that holds the id, and unless it is this node's own event on this
//! node's subject, another client took the id first (the duplicate window
//! is per stream, and ids are predictable). The event is then published
//! again at once under an id nobody can guess (`fallback_msg_id`), so none
//! is missing, and the export reports [`Error::FleetMsgIdTaken`].
//!
//! What the server refuses for good (an authorization or permissions
//! violation, a payload over its limit) ends the export, in follow mode
//! too ([`Error::NatsRefused`]).
//!
//! The exporter reads the journal through a read-only handle: it never
//! takes the writer lock, and a writer never waits for it.

mod options;
mod reader;
mod session;
mod settle;

use options::sleep_unless_stopped;
pub use options::{ExportOptions, ExportReport};

use super::config::NatsConfig;
use super::subject::NodeName;
use crate::catalog::{Catalog, Event};
use crate::error::{Error, Result};
use std::path::Path;
use std::time::Duration;

/// The message body of `event`: the object `catalog events --json` prints,
/// plus `node` and `catalog_id`.
pub fn event_body(event: &Event, node: &NodeName, catalog_id: &str) -> Vec<u8> {
    event.to_json_bytes_with(
        node.as_str(),
        catalog_id,
        &mut crate::model_ref::ModelRef::redact_stored,
    )
}

/// Sessions a one-shot export starts again after a failed request.
const ONE_SHOT_RETRIES: u64 = 2;

/// Exports the catalog at `root` (opened read-only) to the server.
pub fn export(root: &Path, nats: &NatsConfig, opts: &ExportOptions) -> Result<ExportReport> {
    // Opened before the first record, without replaying the journal: the
    // reader folds the state from the events it publishes (one pass).
    let catalog = Catalog::open_read_only_at_start(root)?;
    super::runtime()?.block_on(run(&catalog, nats, opts))
}

async fn run(catalog: &Catalog, nats: &NatsConfig, opts: &ExportOptions) -> Result<ExportReport> {
    let mut report = ExportReport {
        node: opts.node.to_string(),
        catalog_id: catalog.catalog_id(),
        ..ExportReport::default()
    };
    let conn = nats.connect(opts.follow).await?;
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    // The catalog's state after the last exported event, when known.
    let mut folded = None;
    loop {
        let before = report.published + report.duplicates;
        let outcome = conn
            .guard(session::session(
                &conn,
                catalog,
                nats,
                opts,
                &mut report,
                (first, &mut folded),
            ))
            .await;
        match outcome {
            Ok(()) => return Ok(report),
            // Worth another session: the server may be back, and a taken
            // id was published again (every event is stored).
            Err(e @ (Error::Nats { .. } | Error::FleetMsgIdTaken { .. }))
                if opts.follow && !opts.stopped() =>
            {
                if report.published + report.duplicates > before {
                    backoff = Duration::from_millis(100);
                }
                tracing::warn!("{e}; trying again in {} ms", backoff.as_millis());
                report.retries += 1;
                sleep_unless_stopped(backoff, opts).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
            // One-shot: a request that failed or timed out is worth two
            // more sessions (a cluster that just lost a server elects the
            // stream's leader again within seconds); each resumes from the
            // stream, so nothing is published twice.
            Err(e @ Error::Nats { .. }) if !opts.follow && report.retries < ONE_SHOT_RETRIES => {
                report.retries += 1;
                tracing::warn!(
                    "{e}; trying again ({} of {ONE_SHOT_RETRIES})",
                    report.retries
                );
                tokio::time::sleep(Duration::from_millis(500) * report.retries as u32).await;
            }
            Err(e) => return Err(e),
        }
        first = false;
        if opts.stopped() {
            return Ok(report);
        }
    }
}
