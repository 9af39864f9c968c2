//! The fleet queries: `fleet ls` reads the fleet bucket (one ordered
//! consumer, the last value of each key: no replay of the stream), and
//! `fleet history` reads the stream from the time the model first appeared
//! on any node (the bucket knows when) and keeps that model's events.
//!
//! Both take each node from a key or subject, never from a body, and keep
//! only what agrees with it and with the node's claim (`origin`); what they
//! leave out is listed in [`FleetListing::dropped`] and
//! [`FleetHistory::dropped`].

use super::config::NatsConfig;
use super::layout::Layout;
use super::origin::{
    DropReason, Dropped, EventHead, check_catalog, check_claim, check_event, check_model,
};
use super::read::{read_fold, read_last_values};
use super::sign::{Keys, NodeKeys};
use super::state::{FleetModel, FleetNode};
use super::subject::{MODEL_KEY_PREFIX, NODE_KEY_PREFIX, escape_id, parse_key};
use crate::error::Result;
use async_nats::jetstream::{self, consumer::DeliverPolicy};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
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
    /// Values left out: they disagree with their key or their node's claim.
    pub dropped: Vec<Dropped>,
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
/// nothing was heard from for `stale_after` marked stale. With `verify`,
/// only rows signed by their node's key are kept (docs/FLEET.md,
/// "Signatures"); the others are dropped with the reason.
pub fn fleet_ls(
    nats: &NatsConfig,
    layout: &Layout,
    model: Option<&str>,
    stale_after: Duration,
    verify: Option<&Keys>,
) -> Result<FleetListing> {
    super::runtime()?.block_on(async {
        let conn = nats.connect(false).await?;
        conn.guard(again_on_failure(|| async {
            let js = jetstream::context::ContextBuilder::new()
                .timeout(nats.request_timeout)
                .build(conn.client.clone());
            let kv = layout.existing_bucket(&js, nats).await?;
            ls(&kv, nats, &layout.bucket, (model, verify), stale_after).await
        }))
        .await
    })
}

/// How many times a query is made in all when a request fails.
const ATTEMPTS: u32 = 3;

/// `query()`, made again (up to [`ATTEMPTS`] in all, after 0.5 s, then 1 s)
/// when a request fails or times out: in a cluster that just lost a
/// server, the stream's and the bucket's leaders are elected again within
/// seconds, and a new consumer may be placed on a server that is up.
/// Reads only, so making one again changes nothing.
async fn again_on_failure<T, F: Future<Output = Result<T>>>(query: impl Fn() -> F) -> Result<T> {
    let mut attempt = 1;
    loop {
        match query().await {
            Err(e @ crate::error::Error::Nats { .. }) if attempt < ATTEMPTS => {
                tracing::warn!("{e}; asking again ({attempt} of {ATTEMPTS} failed)");
                tokio::time::sleep(Duration::from_millis(500) * attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The node claims (`n.*`) that agree with their keys, and what was left
/// out.
async fn claims(
    kv: &jetstream::stream::Stream,
    nats: &NatsConfig,
    bucket: &str,
) -> Result<(Vec<(FleetNode, u64)>, Vec<Dropped>)> {
    let prefix = format!("$KV.{bucket}.");
    let (mut nodes, mut dropped) = (Vec::new(), Vec::new());
    for r in read_last_values(kv, nats, format!("{prefix}{NODE_KEY_PREFIX}*")).await? {
        let key = r.subject.strip_prefix(&prefix).unwrap_or_default();
        let Some((node, None)) = parse_key(key) else {
            continue;
        };
        if r.removed {
            continue;
        }
        match check_claim(&node, &r.payload) {
            Ok(claim) => nodes.push((claim, r.stored_ms)),
            Err(reason) => dropped.push(Dropped::new(key, reason)),
        }
    }
    Ok((nodes, dropped))
}

/// Node name → catalog id, from the claims.
fn claim_map(nodes: &[(FleetNode, u64)]) -> HashMap<String, String> {
    nodes
        .iter()
        .map(|(n, _)| (n.node.clone(), n.catalog_id.clone()))
        .collect()
}

/// Each node's keys, when verifying: pinned, or those its claim names.
fn node_keys(nodes: &[(FleetNode, u64)], verify: Option<&Keys>) -> Option<NodeKeys> {
    verify.map(|keys| {
        NodeKeys::resolve(
            keys,
            nodes.iter().map(|(n, _)| (n.node.as_str(), n.sign_keys())),
        )
    })
}

/// The model values matching `filter` that agree with their keys and
/// their nodes' claims (tombstones included), and what was left out.
async fn models(
    kv: &jetstream::stream::Stream,
    nats: &NatsConfig,
    bucket: &str,
    filter: String,
    (claims, keys): (&HashMap<String, String>, Option<&NodeKeys>),
) -> Result<(Vec<FleetModel>, Vec<Dropped>)> {
    let prefix = format!("$KV.{bucket}.");
    let (mut models, mut dropped) = (Vec::new(), Vec::new());
    for r in read_last_values(kv, nats, filter).await? {
        let key = r.subject.strip_prefix(&prefix).unwrap_or_default();
        let Some((node, Some(id))) = parse_key(key) else {
            continue;
        };
        if r.removed {
            continue;
        }
        let signed = || match keys {
            Some(k) => k.check(&node, r.sig.as_deref(), (&r.subject, "", &r.payload)),
            None => Ok(()),
        };
        match check_model(&node, &id, &r.payload, claims).and_then(|m| signed().map(|()| m)) {
            Ok(m) => models.push(m),
            Err(reason) => dropped.push(Dropped::new(key, reason)),
        }
    }
    Ok((models, dropped))
}

async fn ls(
    kv: &jetstream::stream::Stream,
    nats: &NatsConfig,
    bucket: &str,
    (model, verify): (Option<&str>, Option<&Keys>),
    stale_after: Duration,
) -> Result<FleetListing> {
    let now = crate::clock::now_ms();
    let mut listing = FleetListing::default();
    let (nodes, mut dropped) = claims(kv, nats, bucket).await?;
    let by_node = claim_map(&nodes);
    let keys = node_keys(&nodes, verify);
    for (node, stored_ms) in nodes {
        let stale = now.saturating_sub(stored_ms) > stale_after.as_millis() as u64;
        listing.nodes.push(NodeStatus {
            node,
            seen_ms: stored_ms,
            stale,
        });
    }
    let filter = match model {
        Some(id) => format!("$KV.{bucket}.{MODEL_KEY_PREFIX}*.{}", escape_id(id)),
        None => format!("$KV.{bucket}.{MODEL_KEY_PREFIX}>"),
    };
    let (models, more) = models(kv, nats, bucket, filter, (&by_node, keys.as_ref())).await?;
    dropped.extend(more);
    listing.models = models.into_iter().filter(|m| !m.deleted).collect();
    listing.nodes.sort_by(|a, b| a.node.node.cmp(&b.node.node));
    listing
        .models
        .sort_by(|a, b| (&a.node, &a.id).cmp(&(&b.node, &b.id)));
    listing.dropped = dropped;
    Ok(listing)
}

/// What `fleet history` found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetHistory {
    /// The model's events, as published (each the `events --json` object
    /// plus `node` and `catalog_id`), in time order (event time, then
    /// node, then sequence number), each once.
    pub events: Vec<Value>,
    /// Messages about the model (and values) left out: they disagree with
    /// their subject, their message id or their node's claim, or repeat an
    /// event already read.
    pub dropped: Vec<Dropped>,
}

/// Every event of model `id` across the fleet. Reads the stream from
/// `since_ms` (Unix milliseconds), else from an hour before the model's
/// first known event on any node; empty if no node ever exported it.
/// With `verify`, only events signed by their node's key are kept.
pub fn fleet_history(
    nats: &NatsConfig,
    layout: &Layout,
    id: &str,
    since_ms: Option<u64>,
    verify: Option<&Keys>,
) -> Result<FleetHistory> {
    super::runtime()?.block_on(async {
        let conn = nats.connect(false).await?;
        conn.guard(again_on_failure(|| {
            history(&conn.client, nats, layout, (id, verify), since_ms)
        }))
        .await
    })
}

async fn history(
    client: &async_nats::Client,
    nats: &NatsConfig,
    layout: &Layout,
    (id, verify): (&str, Option<&Keys>),
    since_ms: Option<u64>,
) -> Result<FleetHistory> {
    let js = jetstream::context::ContextBuilder::new()
        .timeout(nats.request_timeout)
        .build(client.clone());
    let kv = layout.existing_bucket(&js, nats).await?;
    let (nodes, mut dropped) = claims(&kv, nats, &layout.bucket).await?;
    let by_node = claim_map(&nodes);
    let keys = node_keys(&nodes, verify);
    let start = match since_ms {
        Some(ms) => ms,
        None => {
            let filter = format!(
                "$KV.{}.{MODEL_KEY_PREFIX}*.{}",
                layout.bucket,
                escape_id(id)
            );
            let (held, more) =
                models(&kv, nats, &layout.bucket, filter, (&by_node, keys.as_ref())).await?;
            dropped.extend(more);
            match held.iter().map(|m| m.first_event_ms).min() {
                Some(ms) => ms.saturating_sub(CLOCK_MARGIN_MS),
                None => {
                    return Ok(FleetHistory {
                        events: Vec::new(),
                        dropped,
                    });
                }
            }
        }
    };
    let stream = js
        .get_stream(&layout.stream)
        .await
        .map_err(|e| nats.error("reading the stream", e))?;
    let start_time = DeliverPolicy::ByStartTime {
        start_time: async_nats::datetime::from_nanos(i128::from(start) * 1_000_000)
            .map_err(|e| nats.error("reading the stream", e))?,
    };
    let check = EventCheck {
        id,
        since_ms,
        claims: &by_node,
        keys: keys.as_ref(),
    };
    let (mut found, more, _) = read_fold(
        &stream,
        nats,
        super::subject::STREAM_SUBJECTS.to_string(),
        start_time,
        || -> Found { Default::default() },
        |found, r| check.fold(found, r),
    )
    .await?;
    dropped.extend(more);
    found.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    Ok(FleetHistory {
        events: found.into_iter().map(|(_, _, _, v)| v).collect(),
        dropped,
    })
}

/// The events found so far (time, node, sequence number, body), what was
/// left out, and the (node, catalog id, sequence number) seen.
type Found = (
    Vec<(u64, String, u64, Value)>,
    Vec<Dropped>,
    HashSet<(String, String, u64)>,
);

/// What `fleet history` keeps of the stream's messages.
struct EventCheck<'a> {
    /// The model.
    id: &'a str,
    since_ms: Option<u64>,
    /// Node → catalog id, from the claims.
    claims: &'a HashMap<String, String>,
    /// Each node's keys, when verifying.
    keys: Option<&'a NodeKeys>,
}

impl EventCheck<'_> {
    /// Keeps `r` if it is an event of the model that speaks for its
    /// subject's node (and, verifying, was signed by it), once.
    fn fold(&self, (found, dropped, seen): &mut Found, r: super::read::Read) {
        let at = || format!("{}#{}", r.subject, r.stream_seq);
        // Only this model's messages count (an unreadable one might be).
        if serde_json::from_slice::<EventHead>(&r.payload)
            .is_ok_and(|h| h.id.as_deref() != Some(self.id))
        {
            return;
        }
        let (node, head) = match check_event(&r.subject, r.msg_id.as_deref(), &r.payload) {
            Ok(ok) => ok,
            Err(reason) => return dropped.push(Dropped::new(at(), reason)),
        };
        if let Err(reason) = check_catalog(self.claims, node, &head.catalog_id) {
            return dropped.push(Dropped::new(at(), reason));
        }
        let id = r.msg_id.as_deref().unwrap_or_default();
        if let Some(Err(reason)) = self
            .keys
            .map(|k| k.check(node, r.sig.as_deref(), (&r.subject, id, &r.payload)))
        {
            return dropped.push(Dropped::new(at(), reason));
        }
        if self.since_ms.is_some_and(|s| head.time_ms < s) {
            return;
        }
        let key = (node.to_string(), head.catalog_id.to_string(), head.seq);
        if !seen.insert(key) {
            return dropped.push(Dropped::new(at(), DropReason::Duplicate));
        }
        match serde_json::from_slice::<Value>(&r.payload) {
            Ok(v) => found.push((head.time_ms, node.to_string(), head.seq, v)),
            Err(_) => dropped.push(Dropped::new(at(), DropReason::Unreadable)),
        }
    }
}
