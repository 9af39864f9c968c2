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

use super::config::{Connection, NatsConfig};
use super::layout::Layout;
use super::origin::check_event;
use super::resume::{MSG_ID_HEADER, claim, fallback_msg_id, last_exported, msg_id};
use super::state::{FleetNode, NodeState};
use super::subject::NodeName;
use crate::catalog::{Catalog, Event, EventsPosition};
use crate::error::{Error, Result};
use async_nats::jetstream::{self, message::PublishMessage as Publish};
use std::collections::VecDeque;
use std::fmt::Write as _;
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

/// Sessions a one-shot export starts again after a failed request.
const ONE_SHOT_RETRIES: u64 = 2;

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
    let conn = nats.connect(opts.follow).await?;
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let before = report.published + report.duplicates;
        let outcome = conn
            .guard(session(&conn, catalog, nats, opts, &mut report, first))
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

/// One event, read and rendered.
struct Item {
    seq: u64,
    /// The last sequence number it covers (a repair's gap record covers
    /// `seq ..= last_lost`).
    covers: u64,
    time_ms: u64,
    /// The model it deleted or evicted.
    removed: Option<String>,
    /// Its body: a slice of the reader's buffer.
    body: bytes::Bytes,
}

/// A message sent whose acknowledgement is awaited.
struct InFlight {
    ack: async_nats::jetstream::context::PublishAckFuture,
    item: Item,
}

/// Room the reader's body buffer is grown by when it runs short: bodies
/// are rendered one after another into it and handed out as slices, so a
/// catch-up allocates once per this many bytes instead of once per event.
const BODY_BUFFER: usize = 256 * 1024;

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
    let mut buffer = bytes::BytesMut::with_capacity(BODY_BUFFER);
    for event in events.by_ref() {
        match event {
            Ok(event) => {
                use crate::journal::op::Op;
                use bytes::BufMut;
                if buffer.capacity() - buffer.len() < 4096 {
                    buffer.reserve(BODY_BUFFER);
                }
                event.write_json_with(
                    (&mut buffer).writer(),
                    node.as_str(),
                    cid,
                    &mut |r: &str| cache.get(r),
                );
                let body = buffer.split().freeze();
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
    conn: &Connection,
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
        .build(conn.client.clone());
    let layout = &opts.layout;
    let node = &opts.node;
    let subject = node.subject();
    let cid = catalog.catalog_id();
    let host = host_name();
    let stream = layout.stream(&js, nats, &subject).await?;
    let (kv, kv_stream) = layout.bucket(&js, nats).await?;
    let claimed = claim(&kv, nats, node, &cid, &layout.stream, &host).await?;
    let last = last_exported(&stream, &layout.stream, nats, node, catalog, claimed).await?;
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
    // A sliding window: at most `window` messages unacknowledged; each
    // acknowledgement is settled in order as the next message goes out.
    let mut inflight: VecDeque<InFlight> = VecDeque::with_capacity(window);
    let subject = async_nats::Subject::from(subject);
    let mut id = msg_id(node, &cid, 0);
    let id_prefix = id.len() - 1;
    // The first message id found taken this session (reported once caught
    // up: the export goes on).
    let mut taken: Option<Error> = None;
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
        let mut settle = Settle {
            js: &js,
            stream: &stream,
            nats,
            opts,
            cid: &cid,
            taken: &mut taken,
        };
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            if batch.is_empty() {
                break;
            }
            published_now = true;
            for item in batch {
                id.truncate(id_prefix);
                let _ = write!(id, "{}", item.seq);
                let publish = Publish::build().payload(item.body.clone()).message_id(&id);
                let ack = js
                    .send_publish(subject.clone(), publish)
                    .await
                    .map_err(|e| publish_error(nats, e))?;
                inflight.push_back(InFlight { ack, item });
                if inflight.len() >= window
                    && let Some(done) = inflight.pop_front()
                {
                    settle.one(done, report, &mut fleet).await?;
                }
            }
            if last_flush.elapsed() >= opts.flush_every {
                while let Some(done) = inflight.pop_front() {
                    settle.one(done, report, &mut fleet).await?;
                }
                sync(&mut fleet, report, report.last_seq, true).await?;
                last_flush = Instant::now();
            }
            if opts.stopped() {
                break;
            }
        }
        while let Some(done) = inflight.pop_front() {
            settle.one(done, report, &mut fleet).await?;
        }
        next = report.last_seq + 1;
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
        if let Some(err) = taken.take() {
            return Err(err);
        }
        if !opts.follow || opts.stopped() {
            return Ok(());
        }
        sleep_unless_stopped(opts.poll, opts).await;
    }
}

/// A publish error: a body over the server's payload limit is refused for
/// good (retrying sends the same body).
fn publish_error(nats: &NatsConfig, e: async_nats::jetstream::context::PublishError) -> Error {
    use async_nats::jetstream::context::PublishErrorKind;
    if e.kind() == PublishErrorKind::MaxPayloadExceeded {
        return Error::NatsRefused {
            server: nats.server().to_string(),
            reason: nats.scrub(&e.to_string()),
        };
    }
    nats.error("publishing", e)
}

/// What settling an acknowledgement needs.
struct Settle<'a> {
    js: &'a jetstream::Context,
    stream: &'a jetstream::stream::Stream,
    nats: &'a NatsConfig,
    opts: &'a ExportOptions,
    cid: &'a str,
    /// The first message id found taken.
    taken: &'a mut Option<Error>,
}

impl Settle<'_> {
    /// Awaits `done`'s acknowledgement and counts it: stored, a duplicate
    /// of this node's own event, or an id another client took (published
    /// again, `check_duplicate`); then notes the event as exported.
    async fn one(
        &mut self,
        done: InFlight,
        report: &mut ExportReport,
        fleet: &mut NodeState,
    ) -> Result<()> {
        let InFlight { ack, item } = done;
        let ack = ack.await.map_err(|e| self.nats.error("publishing", e))?;
        if !ack.duplicate {
            report.published += 1;
        } else {
            let (js, stream, nats, opts) = (self.js, self.stream, self.nats, self.opts);
            match check_duplicate(js, stream, nats, opts, self.cid, &item, ack.sequence).await? {
                None => report.duplicates += 1,
                Some(err) => {
                    report.published += 1;
                    report.ids_taken += 1;
                    self.taken.get_or_insert(err);
                }
            }
        }
        fleet.exported(item.time_ms, item.removed.map(|id| (id, item.seq)));
        report.last_seq = item.covers;
        Ok(())
    }
}

/// Checks a "duplicate" acknowledgement against the message the stream
/// says holds the id (`stored`, its stream sequence): `None` if it is this
/// node's own event (a re-send); if another client's message holds it, the
/// event is published again under an id nobody can guess and the error to
/// report is returned; an event of this node that differs is a diverged
/// history.
async fn check_duplicate(
    js: &jetstream::Context,
    stream: &jetstream::stream::Stream,
    nats: &NatsConfig,
    opts: &ExportOptions,
    cid: &str,
    sent: &Item,
    stored: u64,
) -> Result<Option<Error>> {
    let node = &opts.node;
    let subject = node.subject();
    let id = msg_id(node, cid, sent.seq);
    let held = stream
        .get_raw_message(stored)
        .await
        .map_err(|e| nats.error("reading the message that holds a duplicate id", e))?;
    let held_subject = held.subject.to_string();
    if held_subject == subject {
        let held_id = held
            .headers
            .get(MSG_ID_HEADER)
            .map(|v| v.as_str().to_string());
        let same =
            check_event(&held_subject, held_id.as_deref(), &held.payload).is_ok_and(|(_, h)| {
                h.catalog_id == cid && h.seq == sent.seq && h.time_ms == sent.time_ms
            });
        if same {
            return Ok(None);
        }
        return Err(Error::FleetHistoryDiverged {
            node: node.to_string(),
            stream: opts.layout.stream.clone(),
            seq: sent.seq,
            reason: format!(
                "message id {id} holds another event on this node's subject (stream sequence \
                 {stored}): the catalog was restored or rewritten"
            ),
        });
    }
    tracing::warn!(
        node = %node,
        id,
        subject = held_subject,
        stream_seq = stored,
        "this node's message id was taken by a message on another subject; publishing the event \
         again under an id that cannot be taken"
    );
    let again = Publish::build()
        .payload(sent.body.clone())
        .message_id(fallback_msg_id(node, cid, sent.seq));
    let ack = js
        .send_publish(subject, again)
        .await
        .map_err(|e| publish_error(nats, e))?
        .await
        .map_err(|e| nats.error("publishing", e))?;
    if ack.duplicate {
        return Err(nats.error(
            "publishing",
            "an event published again under a random message id was called a duplicate",
        ));
    }
    Ok(Some(Error::FleetMsgIdTaken {
        node: node.to_string(),
        stream: opts.layout.stream.clone(),
        msg_id: id,
        subject: held_subject,
        stream_seq: stored,
    }))
}
