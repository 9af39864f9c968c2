//! The fleet queries: `fleet ls` reads the fleet bucket (one ordered
//! consumer, the last value of each key: no replay of the stream), and
//! `fleet history` reads the stream from the time the model first appeared
//! on any node (the bucket knows when) and keeps that model's events.

use super::config::NatsConfig;
use super::layout::Layout;
use super::read::{read_each, read_to_end};
use super::state::{FleetModel, FleetNode};
use super::subject::{MODEL_KEY_PREFIX, NODE_KEY_PREFIX, escape_id, parse_key};
use crate::error::Result;
use async_nats::jetstream::{self, consumer::DeliverPolicy};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How far before a model's first known event `fleet history` starts
/// reading: the stream stamps messages with the server's clock, events
/// carry the node's.
const CLOCK_MARGIN_MS: u64 = 3_600_000;

/// A node as `fleet ls` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NodeStatus {
    /// What its exporter last wrote.
    #[serde(flatten)]
    pub node: FleetNode,
    /// When the server stored that (Unix milliseconds, the server's clock).
    pub seen_ms: u64,
    /// Nothing from the node (no event, no heartbeat) for longer than the
    /// staleness limit.
    pub stale: bool,
}

/// What `fleet ls` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FleetListing {
    /// Every model held by a node (tombstones left out), by node then id.
    pub models: Vec<FleetModel>,
    /// Every node, by name.
    pub nodes: Vec<NodeStatus>,
}

impl FleetListing {
    /// Whether `node` is stale (unknown nodes are).
    pub fn is_stale(&self, node: &str) -> bool {
        self.nodes
            .iter()
            .find(|n| n.node.node == node)
            .is_none_or(|n| n.stale)
    }
}

/// The fleet's models (only `model`, if given) and nodes, with the nodes
/// nothing was heard from for `stale_after` marked stale.
pub fn fleet_ls(
    nats: &NatsConfig,
    layout: &Layout,
    model: Option<&str>,
    stale_after: Duration,
) -> Result<FleetListing> {
    super::runtime()?.block_on(async {
        let client = nats.connect(false).await?;
        let js = jetstream::context::ContextBuilder::new()
            .timeout(nats.request_timeout)
            .build(client);
        let kv = layout.existing_bucket(&js, nats).await?;
        ls(&kv, nats, &layout.bucket, model, stale_after).await
    })
}

async fn ls(
    kv: &jetstream::stream::Stream,
    nats: &NatsConfig,
    bucket: &str,
    model: Option<&str>,
    stale_after: Duration,
) -> Result<FleetListing> {
    let now = crate::clock::now_ms();
    let mut listing = FleetListing::default();
    let nodes = read_to_end(
        kv,
        nats,
        format!("$KV.{bucket}.{NODE_KEY_PREFIX}*"),
        DeliverPolicy::LastPerSubject,
    )
    .await?;
    for r in nodes.into_iter().filter(|r| !r.removed) {
        if let Ok(node) = serde_json::from_slice::<FleetNode>(&r.payload) {
            let stale = now.saturating_sub(r.stored_ms) > stale_after.as_millis() as u64;
            listing.nodes.push(NodeStatus {
                node,
                seen_ms: r.stored_ms,
                stale,
            });
        }
    }
    let filter = match model {
        Some(id) => format!("$KV.{bucket}.{MODEL_KEY_PREFIX}*.{}", escape_id(id)),
        None => format!("$KV.{bucket}.{MODEL_KEY_PREFIX}>"),
    };
    let prefix = format!("$KV.{bucket}.");
    read_each(kv, nats, filter, DeliverPolicy::LastPerSubject, |r| {
        let key = r.subject.strip_prefix(&prefix).unwrap_or_default();
        if r.removed || parse_key(key).is_none() {
            return;
        }
        if let Ok(m) = serde_json::from_slice::<FleetModel>(&r.payload)
            && !m.deleted
        {
            listing.models.push(m);
        }
    })
    .await?;
    listing.nodes.sort_by(|a, b| a.node.node.cmp(&b.node.node));
    listing
        .models
        .sort_by(|a, b| (&a.node, &a.id).cmp(&(&b.node, &b.id)));
    Ok(listing)
}

/// Every event of model `id` across the fleet, as published (each the
/// `events --json` object plus `node` and `catalog_id`), in time order
/// (event time, then node, then sequence number). Reads the stream from
/// `since_ms` (Unix milliseconds), else from an hour before the model's
/// first known event on any node; empty if no node ever exported it.
pub fn fleet_history(
    nats: &NatsConfig,
    layout: &Layout,
    id: &str,
    since_ms: Option<u64>,
) -> Result<Vec<Value>> {
    super::runtime()?.block_on(async {
        let client = nats.connect(false).await?;
        let js = jetstream::context::ContextBuilder::new()
            .timeout(nats.request_timeout)
            .build(client);
        let start = match since_ms {
            Some(ms) => ms,
            None => {
                let kv = layout.existing_bucket(&js, nats).await?;
                let filter = format!(
                    "$KV.{}.{MODEL_KEY_PREFIX}*.{}",
                    layout.bucket,
                    escape_id(id)
                );
                let held = read_to_end(&kv, nats, filter, DeliverPolicy::LastPerSubject).await?;
                let first = held
                    .iter()
                    .filter_map(|r| serde_json::from_slice::<FleetModel>(&r.payload).ok())
                    .map(|m| m.first_event_ms)
                    .min();
                match first {
                    Some(ms) => ms.saturating_sub(CLOCK_MARGIN_MS),
                    None => return Ok(Vec::new()),
                }
            }
        };
        let stream = js
            .get_stream(&layout.stream)
            .await
            .map_err(|e| nats.error("reading the stream", e))?;
        let start_time = async_nats::jetstream::consumer::DeliverPolicy::ByStartTime {
            start_time: async_nats::datetime::from_nanos(i128::from(start) * 1_000_000)
                .map_err(|e| nats.error("reading the stream", e))?,
        };
        let needle = format!("\"id\":{}", Value::from(id));
        let mut out = Vec::new();
        read_each(
            &stream,
            nats,
            super::subject::STREAM_SUBJECTS.to_string(),
            start_time,
            |r| {
                if !contains(&r.payload, needle.as_bytes()) {
                    return;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&r.payload)
                    && v["id"].as_str() == Some(id)
                    && since_ms.is_none_or(|s| v["time_ms"].as_u64().unwrap_or(0) >= s)
                {
                    out.push(v);
                }
            },
        )
        .await?;
        out.sort_by(|a, b| {
            let key = |v: &Value| {
                (
                    v["time_ms"].as_u64().unwrap_or(0),
                    v["node"].as_str().unwrap_or("").to_string(),
                    v["seq"].as_u64().unwrap_or(0),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
