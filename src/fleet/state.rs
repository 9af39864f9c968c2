//! The fleet state: the current state of every (node, model), kept in the
//! fleet bucket by each node's exporter so that a query reads it without
//! replaying the stream.
//!
//! Keys (docs/FLEET.md): `n.<node>` holds a [`FleetNode`] (the catalog id,
//! the last exported sequence number, a heartbeat); `m.<node>.<id>` holds a
//! [`FleetModel`]. A model deleted or evicted on the node stays as a
//! tombstone (`deleted: true`) so `fleet history` knows where to start
//! looking; `fleet ls` leaves tombstones out.
//!
//! The exporter brings the bucket up to date whenever it has caught up
//! with the journal: its reader thread has then folded exactly the
//! catalog's state at the last exported event from the events it
//! published (the same `change_for` a replay applies), and every value
//! that differs from what the bucket holds is put. During a long catch-up it does so every `flush_every`
//! with the state rebuilt at the last exported event (`state_at`). The
//! bucket is read at session start, so after a kill between a publish and
//! a put the next session puts what was missed: the bucket is always the
//! state at some exported prefix of the journal — at the last exported
//! event once the exporter has caught up.
//!
//! A tombstone keeps the values the model had when it was last seen, with
//! `deleted: true`.

use super::config::NatsConfig;
use super::origin::check_model;
use super::read::read_last_values;
use super::sign::{self, NodeKey, SIG_HEADER};
use super::subject::{NodeName, parse_key};
use crate::entry::ModelEntry;
use crate::error::Result;
use async_nats::jetstream::{self, message::PublishMessage as Publish};
use std::collections::{HashMap, HashSet};

/// Fleet-state puts in flight before their acknowledgements are awaited
/// (below the exporter's in-flight bound).
const FLUSH_WINDOW: usize = 512;

pub use super::rows::{FleetModel, FleetNode};

/// What the bucket holds for one node's models, and how to bring it up to
/// date.
pub(crate) struct NodeState {
    node: NodeName,
    catalog_id: String,
    /// What the bucket holds for this node's models.
    held: HashMap<String, FleetModel>,
    /// What it should hold (set by [`NodeState::target`]).
    want: Vec<FleetModel>,
    /// Models deleted or evicted by an event exported since the last
    /// flush: (id, seq, time).
    removed: Vec<(String, u64, u64)>,
    /// The time of the first event exported since the last flush: no model
    /// first seen in that span is older.
    since_ms: Option<u64>,
    /// The node's signing key, when it signs: every value is put signed,
    /// and one the bucket holds unsigned (or signed otherwise) put again.
    key: Option<NodeKey>,
}

impl NodeState {
    pub fn new(node: NodeName, catalog_id: String, key: Option<NodeKey>) -> Self {
        NodeState {
            node,
            catalog_id,
            held: HashMap::new(),
            want: Vec::new(),
            removed: Vec::new(),
            since_ms: None,
            key,
        }
    }

    /// Notes an exported event: its time, and the model it removed, if any.
    pub fn exported(&mut self, time_ms: u64, removed: Option<(String, u64)>) {
        self.since_ms.get_or_insert(time_ms);
        if let Some((id, seq)) = removed {
            self.removed.push((id, seq, time_ms));
        }
    }

    /// Reads what the bucket holds for this node.
    pub async fn load(
        &mut self,
        kv_stream: &jetstream::stream::Stream,
        nats: &NatsConfig,
        bucket: &str,
    ) -> Result<()> {
        let filter = format!("$KV.{bucket}.{}>", self.node.model_key_prefix());
        let values = read_last_values(kv_stream, nats, filter).await?;
        self.held.clear();
        // Only this node can write these keys; a value that does not agree
        // with its key or names another catalog is put again.
        let prefix = format!("$KV.{bucket}.");
        let claims = [(self.node.to_string(), self.catalog_id.clone())].into();
        let ours = self
            .key
            .as_ref()
            .and_then(|k| sign::parse_public(&k.public_hex()))
            .map(|k| [k]);
        for v in values.into_iter().filter(|v| !v.removed) {
            let key = v.subject.strip_prefix(&prefix).unwrap_or_default();
            if let Some((node, Some(id))) = parse_key(key)
                && let Ok(m) = check_model(&node, &id, &v.payload, &claims)
                && ours.as_ref().is_none_or(|k| {
                    sign::check(k, v.sig.as_deref(), (&v.subject, "", &v.payload)).is_ok()
                })
            {
                self.held.insert(m.id.clone(), m);
            }
        }
        Ok(())
    }

    /// Sets what the bucket should hold: `entries` (the node's models at
    /// some exported sequence number), and a tombstone for every model the
    /// bucket holds that is not among them.
    pub fn target(&mut self, entries: impl IntoIterator<Item = ModelEntry>) {
        let mut present = HashSet::new();
        self.want.clear();
        for e in entries {
            let first = self.held.get(&e.id).map_or(u64::MAX, |h| h.first_event_ms);
            present.insert(e.id.clone());
            self.want.push(FleetModel::from_entry(
                self.node.as_str(),
                &self.catalog_id,
                &e,
                first,
            ));
        }
        let mut removed: HashMap<String, (u64, u64)> = HashMap::new();
        for (id, seq, time) in self.removed.drain(..) {
            removed.insert(id, (seq, time));
        }
        for (id, held) in &self.held {
            if !present.contains(id) {
                let mut tomb = held.clone();
                tomb.deleted = true;
                if let Some(&(seq, time)) = removed.get(id) {
                    tomb.seq = seq;
                    tomb.last_event_ms = time;
                }
                if tomb != *held {
                    self.want.push(tomb);
                }
            }
        }
        // Put and removed since the last flush: a tombstone with what is
        // known, so `fleet history` knows where to start.
        for (id, (seq, time)) in removed {
            if !present.contains(&id) && !self.held.contains_key(&id) {
                self.want.push(FleetModel {
                    node: self.node.to_string(),
                    catalog_id: self.catalog_id.clone(),
                    id,
                    model_ref: String::new(),
                    lifecycle: String::new(),
                    trust: String::new(),
                    digest: None,
                    size_bytes: 0,
                    seq,
                    last_event_ms: time,
                    first_event_ms: self.since_ms.unwrap_or(0).min(time),
                    deleted: true,
                });
            }
        }
        self.since_ms = None;
    }

    /// Puts every value of the target that differs from the bucket's,
    /// pipelined and all acknowledged before it returns; returns how many
    /// were put.
    pub async fn flush(
        &mut self,
        js: &jetstream::Context,
        nats: &NatsConfig,
        bucket: &str,
    ) -> Result<u64> {
        let want = std::mem::take(&mut self.want);
        let mut acks = std::collections::VecDeque::new();
        let mut put = Vec::new();
        for m in want {
            if self.held.get(&m.id) == Some(&m) {
                continue;
            }
            let body = serde_json::to_vec(&m).unwrap_or_default();
            let subject = format!("$KV.{bucket}.{}", self.node.model_key(&m.id));
            let mut publish = Publish::build();
            if let Some(key) = &self.key {
                publish = publish.header(SIG_HEADER, key.sign(&subject, "", &body));
            }
            let ack = js
                .send_publish(subject, publish.payload(body.into()))
                .await
                .map_err(|e| nats.error("putting fleet state", e))?;
            acks.push_back(ack);
            put.push(m);
            // The context allows a bounded number of acknowledgements in
            // flight: a sliding window, the oldest awaited as the next goes.
            if acks.len() >= FLUSH_WINDOW
                && let Some(ack) = acks.pop_front()
            {
                ack.await
                    .map_err(|e| nats.error("putting fleet state", e))?;
            }
        }
        for ack in acks {
            ack.await
                .map_err(|e| nats.error("putting fleet state", e))?;
        }
        let n = put.len() as u64;
        for m in put {
            self.held.insert(m.id.clone(), m);
        }
        Ok(n)
    }
}
