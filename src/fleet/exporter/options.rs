//! What to export and how ([`ExportOptions`]), what an export did
//! ([`ExportReport`]), and the small helpers every part of the exporter
//! shares. A leaf of the exporter: the session and the settling of
//! acknowledgements import it, it imports none of them.

use crate::fleet::layout::Layout;
use crate::fleet::subject::NodeName;
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

    pub(super) fn stopped(&self) -> bool {
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

pub(super) async fn sleep_unless_stopped(total: Duration, opts: &ExportOptions) {
    let end = Instant::now() + total;
    while !opts.stopped() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

pub(super) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
