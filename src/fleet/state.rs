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
//! The exporter folds each acknowledged event into the node's state (the
//! same `change_for` the catalog replays with) and puts the values that
//! differ from what the bucket holds. The state a session starts from is
//! the catalog's state at the last sequence number the stream holds, and
//! the bucket is read first: after a kill between a publish and a put, the
//! next session puts what was missed. The bucket is therefore always the
//! fold of a prefix of the stream — exactly it once the exporter has
//! flushed.

use super::config::NatsConfig;
use super::read::read_to_end;
use super::subject::NodeName;
use crate::catalog::Event;
use crate::entry::ModelEntry;
use crate::error::Result;
use crate::event_json::{lifecycle_str, trust_str};
use crate::journal::op::Op;
use crate::model_ref::ModelRef;
use crate::state::{Change, change_for};
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::{self, message::PublishMessage as Publish};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Fleet-state puts in flight before their acknowledgements are awaited
/// (below the exporter's in-flight bound).
const FLUSH_WINDOW: usize = 512;

/// One model on one node, as the fleet bucket holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FleetModel {
    /// The node.
    pub node: String,
    /// The node's catalog id.
    pub catalog_id: String,
    /// The model id.
    pub id: String,
    /// Where it came from, redacted as stored.
    #[serde(rename = "ref")]
    pub model_ref: String,
    /// `active` or `retired`.
    pub lifecycle: String,
    /// `verified`, `warned`, `unverified` or `failed`.
    pub trust: String,
    /// `sha256:<hex>`, if known.
    pub digest: Option<String>,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The node's sequence number of the last event that changed it.
    pub seq: u64,
    /// When that event was written (Unix milliseconds, the node's clock).
    pub last_event_ms: u64,
    /// When the model was first registered on the node (as far as known).
    pub first_event_ms: u64,
    /// Deleted or evicted on the node (a tombstone).
    pub deleted: bool,
}

/// One node, as the fleet bucket holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FleetNode {
    /// The node.
    pub node: String,
    /// Its catalog id: the node name belongs to this catalog.
    pub catalog_id: String,
    /// The last sequence number in the stream.
    pub exported_seq: u64,
    /// When the exporter last wrote this (Unix milliseconds, the node's
    /// clock): after each flush and every heartbeat interval.
    pub heartbeat_ms: u64,
    /// The exporter's host name.
    pub host: String,
    /// `catalog-core <version>`.
    pub exporter: String,
}

impl FleetModel {
    fn from_entry(node: &str, catalog_id: &str, e: &ModelEntry, first_event_ms: u64) -> Self {
        FleetModel {
            node: node.to_string(),
            catalog_id: catalog_id.to_string(),
            id: e.id.clone(),
            model_ref: ModelRef::redact_stored(&e.model_ref),
            lifecycle: lifecycle_str(e.lifecycle).to_string(),
            trust: trust_str(e.trust).to_string(),
            digest: e.digest.map(|d| d.to_string()),
            size_bytes: e.size_bytes,
            seq: e.updated_seq,
            last_event_ms: e.updated_at_ms,
            first_event_ms: first_event_ms.min(e.registered_at_ms),
            deleted: false,
        }
    }
}

/// A node's models as of a sequence number, and what the bucket holds.
pub(crate) struct NodeState {
    node: NodeName,
    catalog_id: String,
    /// The node's models (a plain map: the fold runs once per exported
    /// event, and needs no order).
    state: HashMap<String, ModelEntry>,
    /// Models removed by an event this session saw: their tombstones.
    removed: HashMap<String, FleetModel>,
    /// Ids whose value may differ from the bucket's.
    dirty: HashSet<String>,
    /// What the bucket holds for this node's models.
    held: HashMap<String, FleetModel>,
    /// The last sequence number folded in.
    pub seq: u64,
}

impl NodeState {
    /// The state `entries` (the catalog's state at `seq`).
    pub fn new(
        node: NodeName,
        catalog_id: String,
        entries: BTreeMap<String, ModelEntry>,
        seq: u64,
    ) -> Self {
        NodeState {
            node,
            catalog_id,
            state: entries.into_iter().collect(),
            removed: HashMap::new(),
            dirty: HashSet::new(),
            held: HashMap::new(),
            seq,
        }
    }

    /// Folds one event in. An event that does not apply (after records were
    /// lost and repaired) changes nothing here; the stream still has it.
    pub fn apply(&mut self, event: Event) {
        self.seq = event.seq;
        let Some(id) = event.model_id().map(str::to_string) else {
            return;
        };
        let current = self.state.get(&id);
        let removes = matches!(event.op, Op::Delete { .. } | Op::Evict { .. });
        let tomb = current.filter(|_| removes).map(|e| {
            let mut t = FleetModel::from_entry(self.node.as_str(), &self.catalog_id, e, u64::MAX);
            t.deleted = true;
            t.seq = event.seq;
            t.last_event_ms = event.time_ms;
            t
        });
        match change_for(current, event.op, event.seq, event.time_ms) {
            Ok(change) => {
                match change {
                    Change::Remove(_) => {
                        self.state.remove(&id);
                        if let Some(t) = tomb {
                            self.removed.insert(id.clone(), t);
                        }
                    }
                    Change::Upsert(e) => {
                        if !self.removed.is_empty() {
                            self.removed.remove(&e.id);
                        }
                        self.state.insert(id.clone(), *e);
                    }
                    Change::Nothing => return,
                }
                self.dirty.insert(id);
            }
            Err(reason) => tracing::warn!(
                seq = event.seq,
                "fleet state: event does not apply ({reason}); the stream has it, the bucket \
                 keeps the value before it"
            ),
        }
    }

    /// Reads what the bucket holds for this node, and marks every model of
    /// either side to be compared at the next flush.
    pub async fn load(
        &mut self,
        kv_stream: &jetstream::stream::Stream,
        nats: &NatsConfig,
        bucket: &str,
    ) -> Result<()> {
        let filter = format!("$KV.{bucket}.{}>", self.node.model_key_prefix());
        let values = read_to_end(kv_stream, nats, filter, DeliverPolicy::LastPerSubject).await?;
        self.held.clear();
        for v in values.into_iter().filter(|v| !v.removed) {
            if let Ok(m) = serde_json::from_slice::<FleetModel>(&v.payload)
                && m.node == self.node.as_str()
            {
                self.held.insert(m.id.clone(), m);
            }
        }
        self.dirty.extend(self.held.keys().cloned());
        self.dirty.extend(self.state.keys().cloned());
        Ok(())
    }

    /// What the bucket should hold for `id`.
    fn desired(&self, id: &str) -> Option<FleetModel> {
        let held = self.held.get(id);
        let first = held.map_or(u64::MAX, |h| h.first_event_ms);
        if let Some(e) = self.state.get(id) {
            return Some(FleetModel::from_entry(
                self.node.as_str(),
                &self.catalog_id,
                e,
                first,
            ));
        }
        if let Some(t) = self.removed.get(id) {
            let mut tomb = t.clone();
            tomb.first_event_ms = tomb.first_event_ms.min(first);
            return Some(tomb);
        }
        let mut tomb = held?.clone();
        tomb.deleted = true;
        tomb.catalog_id.clone_from(&self.catalog_id);
        Some(tomb)
    }

    /// Whether a flush has anything to compare.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Puts every value that differs from the bucket's, pipelined and all
    /// acknowledged before it returns; returns how many were put.
    pub async fn flush(
        &mut self,
        js: &jetstream::Context,
        nats: &NatsConfig,
        bucket: &str,
    ) -> Result<u64> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut acks = Vec::new();
        let mut put = Vec::new();
        for id in &dirty {
            let Some(want) = self.desired(id) else {
                continue;
            };
            if self.held.get(id) == Some(&want) {
                continue;
            }
            let body = serde_json::to_vec(&want).unwrap_or_default();
            let subject = format!("$KV.{bucket}.{}", self.node.model_key(id));
            match js
                .send_publish(subject, Publish::build().payload(body.into()))
                .await
            {
                Ok(ack) => acks.push(ack),
                Err(e) => {
                    self.dirty = dirty;
                    return Err(nats.error("putting fleet state", e));
                }
            }
            put.push(want);
            // The context allows a bounded number of acknowledgements in
            // flight: await them a window at a time.
            if acks.len() == FLUSH_WINDOW {
                for ack in acks.drain(..) {
                    if let Err(e) = ack.await {
                        self.dirty = dirty;
                        return Err(nats.error("putting fleet state", e));
                    }
                }
            }
        }
        for ack in acks {
            if let Err(e) = ack.await {
                self.dirty = dirty;
                return Err(nats.error("putting fleet state", e));
            }
        }
        let n = put.len() as u64;
        for m in put {
            self.held.insert(m.id.clone(), m);
        }
        Ok(n)
    }
}
