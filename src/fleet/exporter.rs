//! The exporter: every journal event of one node, oldest first, published
//! to `catalog.<node>.events` exactly once, then (with `follow`) every new
//! one as the writer appends it.
//!
//! A session connects, makes sure the stream and the bucket exist, claims
//! the node name and finds where to continue from the stream alone
//! (`resume`). It then publishes windows of at most `window` events:
//! every message of a window is sent (pipelined) with `Nats-Msg-Id:
//! <node>:<catalog_id>:<seq>`, and every acknowledgement of the window is awaited
//! before the next window is read. Messages of one connection reach the
//! stream in the order sent, and a kill or a cut loses a suffix of what was
//! sent, never something in the middle, so the stream holds a prefix of the
//! journal; the message id drops a message the server got twice within the
//! duplicate window (a dead connection's last bytes, processed after the
//! next session read the last message). Any failure ends the session: in
//! follow mode the next one starts after a backoff (100 ms, doubling, at
//! most `max_backoff`) and resumes from the stream again; without follow
//! the export fails.
//!
//! The exporter reads the journal through a read-only handle: it never
//! takes the writer lock, and a writer never waits for it.

use super::config::NatsConfig;
use super::layout::Layout;
use super::resume::{claim, last_exported, msg_id};
use super::state::{FleetNode, NodeState};
use super::subject::NodeName;
use crate::catalog::{Catalog, Event, EventsPosition};
use crate::error::{Error, Result};
use async_nats::jetstream::{self, message::PublishMessage as Publish};
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
    /// Messages published before their acknowledgements are awaited.
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
    /// Messages the stream acknowledged as duplicates (already stored).
    pub duplicates: u64,
    /// The last sequence number the stream holds now.
    pub last_seq: u64,
    /// Fleet bucket values put.
    pub state_puts: u64,
    /// Sessions that failed and were retried (follow mode).
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

/// `ModelRef::redact_stored`, remembered: a node re-registers and verifies
/// the same references over and over, and parsing one costs more than
/// rendering the rest of the event.
#[derive(Default)]
struct RedactCache(std::collections::HashMap<String, String>);

impl RedactCache {
    const MAX: usize = 1 << 16;

    fn get(&mut self, stored: &str) -> String {
        if let Some(shown) = self.0.get(stored) {
            return shown.clone();
        }
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        let shown = crate::model_ref::ModelRef::redact_stored(stored);
        self.0.insert(stored.to_string(), shown.clone());
        shown
    }
}

/// Exports the catalog at `root` (opened read-only) to the server.
pub fn export(root: &Path, nats: &NatsConfig, opts: &ExportOptions) -> Result<ExportReport> {
    let catalog = Catalog::open_read_only(root)?;
    super::runtime()?.block_on(run(&catalog, nats, opts))
}

async fn run(catalog: &Catalog, nats: &NatsConfig, opts: &ExportOptions) -> Result<ExportReport> {
    let mut report = ExportReport {
        node: opts.node.to_string(),
        catalog_id: catalog.catalog_id(),
        ..ExportReport::default()
    };
    let client = nats.connect(opts.follow).await?;
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let before = report.published + report.duplicates;
        match session(&client, catalog, nats, opts, &mut report, first).await {
            Ok(()) => return Ok(report),
            Err(e @ Error::Nats { .. }) if opts.follow && !opts.stopped() => {
                if report.published + report.duplicates > before {
                    backoff = Duration::from_millis(100);
                }
                tracing::warn!("{e}; trying again in {} ms", backoff.as_millis());
                report.retries += 1;
                sleep_unless_stopped(backoff, opts).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
            Err(e) => return Err(e),
        }
        first = false;
        if opts.stopped() {
            return Ok(report);
        }
    }
}

/// One event, read and rendered.
struct Item {
    seq: u64,
    /// The last sequence number it covers (a repair's gap record covers
    /// `seq ..= last_lost`).
    covers: u64,
    time_ms: u64,
    /// The model it deleted or evicted.
    removed: Option<String>,
    body: Vec<u8>,
}

/// One window's events.
type Window = Vec<Item>;

/// The reader thread: events from `from` on (at `resume`'s byte offset
/// when it is given and names that event: a follower's poll then reads
/// only what was appended since), with their bodies, in windows; stops at
/// the end of the journal or when the publisher is gone. Returns where the
/// journal ended if it read to the end.
fn read_windows(
    catalog: &Catalog,
    (from, resume): (u64, Option<EventsPosition>),
    window: usize,
    node: &NodeName,
    cid: &str,
    tx: &tokio::sync::mpsc::Sender<Result<Window>>,
) -> Option<EventsPosition> {
    let opened = match resume.filter(|p| p.next_seq() == from) {
        Some(position) => catalog.events_from(&position),
        None => catalog.events(from),
    };
    let mut events = match opened {
        Ok(events) => events,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return None;
        }
    };
    let mut batch = Vec::with_capacity(window);
    let mut cache = RedactCache::default();
    for event in events.by_ref() {
        match event {
            Ok(event) => {
                use crate::journal::op::Op;
                let body =
                    event.to_json_bytes_with(node.as_str(), cid, &mut |r: &str| cache.get(r));
                let (covers, removed) = match &event.op {
                    Op::Gap { last_lost, .. } => ((*last_lost).max(event.seq), None),
                    Op::Delete { id } | Op::Evict { id, .. } => (event.seq, Some(id.clone())),
                    _ => (event.seq, None),
                };
                batch.push(Item {
                    seq: event.seq,
                    covers,
                    time_ms: event.time_ms,
                    removed,
                    body,
                });
                if batch.len() == window
                    && tx
                        .blocking_send(Ok(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(window),
                        )))
                        .is_err()
                {
                    return None;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return None;
            }
        }
    }
    if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
        return None;
    }
    Some(events.position())
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

async fn session(
    client: &async_nats::Client,
    catalog: &Catalog,
    nats: &NatsConfig,
    opts: &ExportOptions,
    report: &mut ExportReport,
    first: bool,
) -> Result<()> {
    let window = opts.window.max(1);
    let js = jetstream::context::ContextBuilder::new()
        .timeout(nats.request_timeout)
        .max_ack_inflight(2 * window + 64)
        .build(client.clone());
    let layout = &opts.layout;
    let node = &opts.node;
    let subject = node.subject();
    let cid = catalog.catalog_id();
    let host = host_name();
    let stream = layout.stream(&js, nats, &subject).await?;
    let kv = layout.bucket(&js, nats).await?;
    let kv_stream = js
        .get_stream(format!("KV_{}", layout.bucket))
        .await
        .map_err(|e| nats.error("reading the fleet bucket", e))?;
    claim(&kv, nats, node, &cid, &layout.stream, &host).await?;
    let last = last_exported(&stream, &layout.stream, nats, node, catalog).await?;
    if first {
        report.resumed_after = last;
    }
    report.last_seq = last;
    tracing::info!(node = %node, last, "export resumes after the stream's last event");

    // What the bucket holds for this node.
    let mut fleet = NodeState::new(node.clone(), cid.clone());
    fleet.load(&kv_stream, nats, &layout.bucket).await?;
    let beat = |seq: u64| FleetNode {
        node: node.to_string(),
        catalog_id: cid.clone(),
        exported_seq: seq,
        heartbeat_ms: crate::clock::now_ms(),
        host: host.clone(),
        exporter: concat!("catalog-core ", env!("CARGO_PKG_VERSION")).to_string(),
    };
    // Brings the bucket to the node's state at `seq` (the last exported
    // event), when it can be had: from the handle if it is exactly there,
    // else (`rebuild`) by replaying up to it. Writes the heartbeat anyway.
    let sync = async |fleet: &mut NodeState,
                      report: &mut ExportReport,
                      seq: u64,
                      rebuild: bool|
           -> Result<bool> {
        catalog.refresh()?;
        let entries = if catalog.head().seq == seq {
            Some(catalog.list())
        } else if rebuild {
            Some(catalog.state_at(seq)?.into_values().collect())
        } else {
            None
        };
        let synced = entries.is_some();
        if let Some(entries) = entries {
            fleet.target(entries);
            report.state_puts += fleet.flush(&js, nats, &layout.bucket).await?;
        }
        let body = serde_json::to_vec(&beat(seq)).unwrap_or_default();
        kv.put(node.node_key(), body.into())
            .await
            .map_err(|e| nats.error("writing the node's heartbeat", e))?;
        Ok(synced)
    };
    sync(&mut fleet, report, last, false).await?;
    let mut last_flush = Instant::now();

    let mut next = last + 1;
    // Where the last poll's reader found the journal's end: the next poll
    // resumes there (if it is where publishing got to), not by sequence.
    let mut position: Option<EventsPosition> = None;
    let mut acks = Vec::with_capacity(window);
    loop {
        let mut published_now = false;
        // A reader thread reads the journal and renders the bodies while
        // this one publishes: windows of (event, body), a few ahead.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Window>>(4);
        let reader = {
            let (catalog, node, cid) = (catalog.clone(), node.clone(), cid.clone());
            let from = (next, position.take());
            std::thread::spawn(move || read_windows(&catalog, from, window, &node, &cid, &tx))
        };
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            let Some(tail) = batch.last().map(|item| item.covers) else {
                break;
            };
            published_now = true;
            let mut noted = Vec::with_capacity(batch.len());
            for item in batch {
                let publish = Publish::build()
                    .payload(item.body.into())
                    .message_id(msg_id(node, &cid, item.seq));
                let ack = js
                    .send_publish(subject.clone(), publish)
                    .await
                    .map_err(|e| nats.error("publishing", e))?;
                acks.push(ack);
                noted.push((item.time_ms, item.removed.map(|id| (id, item.seq))));
            }
            for ack in acks.drain(..) {
                let ack = ack.await.map_err(|e| nats.error("publishing", e))?;
                if ack.duplicate {
                    report.duplicates += 1;
                } else {
                    report.published += 1;
                }
            }
            for (time, removed) in noted {
                fleet.exported(time, removed);
            }
            next = tail + 1;
            report.last_seq = tail;
            if last_flush.elapsed() >= opts.flush_every {
                sync(&mut fleet, report, tail, true).await?;
                last_flush = Instant::now();
            }
            if opts.stopped() {
                break;
            }
        }
        drop(rx);
        position = reader.join().ok().flatten();
        tracing::debug!(node = %node, last = report.last_seq, "caught up with the journal");
        // Caught up with what was on disk when the reader looked.
        let exported = next - 1;
        if published_now || !opts.follow || last_flush.elapsed() >= opts.heartbeat {
            if !sync(&mut fleet, report, exported, false).await? && published_now {
                continue; // the writer appended meanwhile: publish that first
            }
            last_flush = Instant::now();
        }
        if !opts.follow || opts.stopped() {
            return Ok(());
        }
        sleep_unless_stopped(opts.poll, opts).await;
    }
}
