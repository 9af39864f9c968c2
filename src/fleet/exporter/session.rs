//! One export session: connect, make sure the stream and the bucket
//! exist, claim the node name, find where to continue from the stream
//! (`resume`), then publish every event after that, pipelined with a
//! sliding window, bringing the fleet bucket up to date as it goes.

use super::options::{ExportOptions, ExportReport, host_name, sleep_unless_stopped};
use super::reader::{Entries, Folded, ReadFrom, Window, read_windows};
use super::settle::{InFlight, Settle, publish_error};
use crate::catalog::{Catalog, EventsPosition};
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::fleet::config::{Connection, NatsConfig};
use crate::fleet::resume::{claim, last_exported};
use crate::fleet::sign::SIG_HEADER;
use crate::fleet::state::{FleetNode, NodeState};
use crate::fleet::wire::msg_id;
use async_nats::jetstream::{self, kv, message::PublishMessage as Publish};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// A session's connection to the stream and the bucket, and what it
/// knows of the node.
pub(super) struct Session<'a> {
    catalog: &'a Catalog,
    nats: &'a NatsConfig,
    opts: &'a ExportOptions,
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    kv: kv::Store,
    cid: String,
    host: String,
    /// The keys the claim names (`sign_key`, `old_sign_keys`).
    keys: (Option<String>, Vec<String>),
    /// What the bucket holds for this node.
    fleet: NodeState,
}

/// Keys a claim keeps from before, at most.
const OLD_KEYS: usize = 16;

/// Runs one session: resumes after what the stream holds, publishes every
/// event after it (and, following, every new one), keeps the bucket up
/// to date. `folded`: the catalog's state after the last exported event,
/// carried from session to session when known.
pub(super) async fn session(
    conn: &Connection,
    catalog: &Catalog,
    nats: &NatsConfig,
    opts: &ExportOptions,
    report: &mut ExportReport,
    (first, folded): (bool, &mut Option<Folded>),
) -> Result<()> {
    let (mut s, last) = Session::start(conn, catalog, nats, opts).await?;
    if first {
        report.resumed_after = last;
    }
    report.last_seq = last;
    tracing::info!(node = %opts.node, last, "export resumes after the stream's last event");
    let carried = folded.take().filter(|f| f.seq == last);
    *folded = match carried {
        Some(f) => Some(f),
        None if last == 0 => Some(Folded {
            seq: 0,
            state: Entries::default(),
        }),
        // Resuming: the state at `last` from the newest snapshot before it
        // and the journal after it (then the reader folds on from there).
        None => catalog.state_at(last).ok().map(|entries| Folded {
            seq: last,
            state: entries
                .into_iter()
                .map(|(id, e)| (id, Arc::new(e)))
                .collect(),
        }),
    };
    s.sync(report, last, folded.as_ref(), false).await?;
    s.publish(report, folded).await
}

impl<'a> Session<'a> {
    /// Connects to the stream and the bucket, claims the node name, reads
    /// what the bucket holds for it; returns where the stream says the
    /// export stands.
    async fn start(
        conn: &Connection,
        catalog: &'a Catalog,
        nats: &'a NatsConfig,
        opts: &'a ExportOptions,
    ) -> Result<(Session<'a>, u64)> {
        let window = opts.window.max(1);
        let js = jetstream::context::ContextBuilder::new()
            .timeout(nats.request_timeout)
            .max_ack_inflight(2 * window + 64)
            .build(conn.client.clone());
        let (layout, node) = (&opts.layout, &opts.node);
        let cid = catalog.catalog_id();
        let host = host_name();
        let stream = layout.stream(&js, nats, &node.subject()).await?;
        let (kv, kv_stream) = layout.bucket(&js, nats).await?;
        let ours = opts.sign.as_ref().map(|k| k.public_hex());
        let (claimed, mut old) =
            claim(&kv, nats, (node, &cid), &layout.stream, &host, ours.clone()).await?;
        // A key that changed moves to the old ones: what it signed still
        // verifies.
        old.retain(|k| Some(k) != ours.as_ref());
        old.truncate(OLD_KEYS);
        let last = last_exported(&stream, &layout.stream, nats, node, catalog, claimed).await?;
        let mut fleet = NodeState::new(node.clone(), cid.clone(), opts.sign.clone());
        fleet.load(&kv_stream, nats, &layout.bucket).await?;
        let session = Session {
            catalog,
            nats,
            opts,
            js,
            stream,
            kv,
            cid,
            host,
            keys: (ours, old),
            fleet,
        };
        Ok((session, last))
    }

    /// Brings the bucket to the node's state at `seq` (the last exported
    /// event) when it can be had: `folded` if it is there, else from the
    /// catalog (`entries_at`). Writes the heartbeat anyway; returns whether
    /// the state was brought up to date.
    async fn sync(
        &mut self,
        report: &mut ExportReport,
        seq: u64,
        folded: Option<&Folded>,
        rebuild: bool,
    ) -> Result<bool> {
        let entries = match folded.filter(|f| f.seq == seq) {
            Some(f) => Some(f.state.values().map(|e| (**e).clone()).collect()),
            None => self.entries_at(seq, rebuild)?,
        };
        let synced = entries.is_some();
        if let Some(entries) = entries {
            self.fleet.target(entries);
            let (nats, bucket) = (self.nats, &self.opts.layout.bucket);
            report.state_puts += self.fleet.flush(&self.js, nats, bucket).await?;
        }
        let beat = FleetNode {
            node: self.opts.node.to_string(),
            catalog_id: self.cid.clone(),
            exported_seq: seq,
            heartbeat_ms: crate::clock::now_ms(),
            host: self.host.clone(),
            exporter: concat!("catalog-core ", env!("CARGO_PKG_VERSION")).to_string(),
            sign_key: self.keys.0.clone(),
            old_sign_keys: self.keys.1.clone(),
        };
        let body = serde_json::to_vec(&beat).unwrap_or_default();
        self.kv
            .put(self.opts.node.node_key(), body.into())
            .await
            .map_err(|e| self.nats.error("writing the node's heartbeat", e))?;
        Ok(synced)
    }

    /// The catalog's entries at `seq`: with `rebuild`, from the newest
    /// snapshot before it and the journal after it (a flush during a long
    /// catch-up, while the reader is ahead); else from the handle if it is
    /// exactly there after a refresh (which, on the handle opened at the
    /// start, replays the journal once).
    fn entries_at(&self, seq: u64, rebuild: bool) -> Result<Option<Vec<ModelEntry>>> {
        if rebuild {
            return Ok(Some(self.catalog.state_at(seq)?.into_values().collect()));
        }
        self.catalog.refresh()?;
        Ok((self.catalog.head().seq == seq).then(|| self.catalog.list()))
    }

    /// Publishes every event after `report.last_seq`, then (following)
    /// polls for new ones until stopped; `folded` is handed to each reader
    /// and back.
    async fn publish(
        mut self,
        report: &mut ExportReport,
        folded: &mut Option<Folded>,
    ) -> Result<()> {
        let opts = self.opts;
        let mut last_flush = Instant::now();
        // Where the last poll's reader found the journal's end: the next
        // poll resumes there (if it is where publishing got to).
        let mut position: Option<EventsPosition> = None;
        // The first message id found taken this session (reported once
        // caught up: the export goes on).
        let mut taken: Option<Error> = None;
        loop {
            let from = ReadFrom {
                from: report.last_seq + 1,
                position: position.take(),
                folded: folded.take(),
            };
            let published_now = self
                .catch_up(
                    report,
                    from,
                    &mut taken,
                    &mut last_flush,
                    (&mut position, folded),
                )
                .await?;
            // Caught up with what was on disk when the reader looked.
            let exported = report.last_seq;
            if published_now || !opts.follow || last_flush.elapsed() >= opts.heartbeat {
                let synced = self.sync(report, exported, folded.as_ref(), false).await?;
                if !synced && published_now {
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

    /// One reader's worth: every event from `from` to the journal's end
    /// as it was, published with at most `window` unacknowledged, each
    /// acknowledgement settled in order as the next message goes out.
    /// Returns whether anything was published; leaves where the reader
    /// ended and the state it folded, if that is where publishing got to.
    async fn catch_up(
        &mut self,
        report: &mut ExportReport,
        from: ReadFrom,
        taken: &mut Option<Error>,
        last_flush: &mut Instant,
        (position, folded): (&mut Option<EventsPosition>, &mut Option<Folded>),
    ) -> Result<bool> {
        let window = self.opts.window.max(1);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Window>>(4);
        let reader = {
            let catalog = self.catalog.clone();
            let (node, cid) = (self.opts.node.clone(), self.cid.clone());
            let key = self.opts.sign.clone();
            std::thread::spawn(move || {
                read_windows(&catalog, from, window, (&node, &cid, key.as_ref()), &tx)
            })
        };
        let published = self.send_all(report, &mut rx, taken, last_flush).await;
        drop(rx);
        let (end, state) = reader.join().unwrap_or((None, None));
        let published = published?;
        *position = end;
        *folded = state.filter(|f| f.seq == report.last_seq);
        tracing::debug!(node = %self.opts.node, last = report.last_seq, "caught up with the journal");
        Ok(published)
    }

    /// Publishes what the reader sends, settling acknowledgements as the
    /// window slides; at the end, settles every one left.
    async fn send_all(
        &mut self,
        report: &mut ExportReport,
        rx: &mut tokio::sync::mpsc::Receiver<Result<Window>>,
        taken: &mut Option<Error>,
        last_flush: &mut Instant,
    ) -> Result<bool> {
        let (opts, nats) = (self.opts, self.nats);
        let window = opts.window.max(1);
        let mut inflight: VecDeque<InFlight> = VecDeque::with_capacity(window);
        let subject = async_nats::Subject::from(opts.node.subject());
        let mut id = msg_id(&opts.node, &self.cid, 0);
        let id_prefix = id.len() - 1;
        let mut published = false;
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            published |= !batch.is_empty();
            for item in batch {
                id.truncate(id_prefix);
                let _ = write!(id, "{}", item.seq);
                let mut publish = Publish::build().payload(item.body.clone()).message_id(&id);
                if let Some(sig) = &item.sig {
                    publish = publish.header(SIG_HEADER, sig.as_str());
                }
                let ack = self
                    .js
                    .send_publish(subject.clone(), publish)
                    .await
                    .map_err(|e| publish_error(nats, e))?;
                inflight.push_back(InFlight { ack, item });
                if inflight.len() >= window
                    && let Some(done) = inflight.pop_front()
                {
                    self.settle(taken).one(done, report).await?;
                }
            }
            if last_flush.elapsed() >= opts.flush_every {
                self.settle_all(&mut inflight, report, taken).await?;
                self.sync(report, report.last_seq, None, true).await?;
                *last_flush = Instant::now();
            }
            if opts.stopped() {
                break;
            }
        }
        self.settle_all(&mut inflight, report, taken).await?;
        Ok(published)
    }

    /// Settles every acknowledgement in flight, in order.
    async fn settle_all(
        &mut self,
        inflight: &mut VecDeque<InFlight>,
        report: &mut ExportReport,
        taken: &mut Option<Error>,
    ) -> Result<()> {
        while let Some(done) = inflight.pop_front() {
            self.settle(taken).one(done, report).await?;
        }
        Ok(())
    }

    fn settle<'s>(&'s mut self, taken: &'s mut Option<Error>) -> Settle<'s> {
        Settle {
            fleet: &mut self.fleet,
            js: &self.js,
            stream: &self.stream,
            nats: self.nats,
            opts: self.opts,
            cid: &self.cid,
            taken,
        }
    }
}
