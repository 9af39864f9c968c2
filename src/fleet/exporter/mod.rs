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

mod reader;
mod session;
mod settle;

use super::config::NatsConfig;
use super::layout::Layout;
use super::subject::NodeName;
use crate::catalog::{Catalog, Event};
use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to export and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExportOptions {
    /// The node's name in the fleet.
    pub node: NodeName,
    /// The stream and bucket.
    pub layout: Layout,
    /// Keep publishing new events until stopped (and ride out an absent
    /// server); otherwise return once caught up.
    pub follow: bool,
    /// Messages in flight: at most this many sent and not yet acknowledged.
    pub window: usize,
    /// How often `follow` looks for new events (default 500 ms).
    pub poll: Duration,
    /// How often `follow` writes the node's heartbeat when nothing happens
    /// (default 10 s).
    pub heartbeat: Duration,
    /// How often a long catch-up brings the fleet bucket up to date (it is
    /// always brought up to date when caught up; default 10 s).
    pub flush_every: Duration,
    /// Longest wait between two sessions in follow mode (default 10 s).
    pub max_backoff: Duration,
    /// Set to stop a following exporter (it flushes and returns).
    pub stop: Option<Arc<AtomicBool>>,
    /// Sign every event and fleet-state value with this key, and name its
    /// public key in the node's claim (docs/FLEET.md, "Signatures"); load
    /// it with [`NodeKey::load_or_create`](crate::fleet::NodeKey::load_or_create).
    pub sign: Option<crate::fleet::NodeKey>,
}

impl ExportOptions {
    /// The defaults, for `node`.
    pub fn new(node: NodeName) -> Self {
        ExportOptions {
            node,
            layout: Layout::default(),
            follow: false,
            window: 1024,
            poll: Duration::from_millis(500),
            heartbeat: Duration::from_secs(10),
            flush_every: Duration::from_secs(10),
            max_backoff: Duration::from_secs(10),
            stop: None,
            sign: None,
        }
    }

    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// What an export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportReport {
    /// The node.
    pub node: String,
    /// Its catalog id.
    pub catalog_id: String,
    /// The last sequence number the stream held when the first session
    /// started (0: none).
    pub resumed_after: u64,
    /// Messages the stream stored.
    pub published: u64,
    /// Messages the stream acknowledged as duplicates (this node's own
    /// event, already stored).
    pub duplicates: u64,
    /// Events whose message id another client had taken: published again
    /// under an id nobody can guess (counted in `published` too).
    pub ids_taken: u64,
    /// The last sequence number the stream holds now.
    pub last_seq: u64,
    /// Fleet bucket values put.
    pub state_puts: u64,
    /// Sessions that failed and were started again (follow mode; and at
    /// most twice after a failed request without it).
    pub retries: u64,
}

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

async fn sleep_unless_stopped(total: Duration, opts: &ExportOptions) {
    let end = Instant::now() + total;
    while !opts.stopped() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
