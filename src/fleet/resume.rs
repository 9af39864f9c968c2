//! Where an exporter continues, decided from the stream alone (no state on
//! the node), and the checks that keep two histories from mixing.
//!
//! The rule (docs/FLEET.md, "Exactly once"):
//!
//! 1. The node name is claimed in the fleet bucket: `n.<node>` is created
//!    with this catalog's id if missing (an atomic create: of two exporters
//!    racing for a new name, one wins); if it names another catalog, the
//!    export is refused ([`Error::FleetNodeTaken`]).
//! 2. The last message of `catalog.<node>.events` is read from the stream.
//!    None: start with the first retained event. Its `Nats-Msg-Id` is
//!    `<node>:<catalog_id>:<seq>`: another catalog id is refused
//!    ([`Error::FleetNodeTaken`]); else `L = seq`.
//! 3. The journal must still hold what the stream says was event `L`: the
//!    same time, kind and model (the chain value may differ only after a
//!    repair, which recomputes it from the first gap on: a warning). A
//!    journal that ends before `L` (restored from an older copy), or a
//!    different record at `L`, or history pruned before it was exported,
//!    is refused ([`Error::FleetHistoryDiverged`]): publishing would either
//!    reuse message ids the stream already has (and be dropped as
//!    duplicates) or leave a hole.
//! 4. Publishing continues with the first event after `L`.

use super::config::NatsConfig;
use super::state::FleetNode;
use super::subject::NodeName;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use async_nats::jetstream::kv;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use serde_json::Value;

/// The header that names a message for deduplication.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// `<node>:<catalog_id>:<seq>`: unique per event of one catalog under one
/// node name. (The duplicate window is the stream's, not the subject's: an
/// id without the node would make the same catalog exported under a second
/// name — a renamed host — lose its first two minutes as duplicates.)
pub fn msg_id(node: &NodeName, catalog_id: &str, seq: u64) -> String {
    format!("{node}:{catalog_id}:{seq}")
}

/// Claims `node` for `catalog_id` in the fleet bucket (rule 1).
pub(crate) async fn claim(
    kv: &kv::Store,
    nats: &NatsConfig,
    node: &NodeName,
    catalog_id: &str,
    stream: &str,
    host: &str,
) -> Result<()> {
    let key = node.node_key();
    for _ in 0..3 {
        let entry = kv
            .entry(key.clone())
            .await
            .map_err(|e| nats.error("reading the node's claim", e))?;
        if let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) {
            let theirs = serde_json::from_slice::<FleetNode>(&entry.value)
                .map(|n| n.catalog_id)
                .unwrap_or_default();
            if theirs == catalog_id {
                return Ok(());
            }
            return Err(Error::FleetNodeTaken {
                node: node.to_string(),
                stream: stream.to_string(),
                ours: catalog_id.to_string(),
                theirs,
            });
        }
        let claim = FleetNode {
            node: node.to_string(),
            catalog_id: catalog_id.to_string(),
            exported_seq: 0,
            heartbeat_ms: crate::clock::now_ms(),
            host: host.to_string(),
            exporter: concat!("catalog-core ", env!("CARGO_PKG_VERSION")).to_string(),
        };
        let body = serde_json::to_vec(&claim).unwrap_or_default();
        match kv.create(&key, body.into()).await {
            Ok(_) => return Ok(()),
            // Another exporter claimed it (or a deleted claim's marker is
            // there): read it again.
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(nats.error("claiming the node name", e)),
        }
    }
    Err(nats.error(
        "claiming the node name",
        "the claim kept changing while it was read",
    ))
}

/// Where the stream says this node's export stands (rules 2 and 3): the
/// last exported sequence number (0: none).
pub(crate) async fn last_exported(
    stream: &Stream,
    stream_name: &str,
    nats: &NatsConfig,
    node: &NodeName,
    catalog: &Catalog,
) -> Result<u64> {
    let ours = catalog.catalog_id();
    let msg = match stream
        .get_last_raw_message_by_subject(&node.subject())
        .await
    {
        Ok(m) => m,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(0),
        Err(e) => return Err(nats.error("reading the node's last message", e)),
    };
    let diverged = |seq: u64, reason: String| Error::FleetHistoryDiverged {
        node: node.to_string(),
        stream: stream_name.to_string(),
        seq,
        reason,
    };
    let id = msg
        .headers
        .get(MSG_ID_HEADER)
        .map(|v| v.as_str().to_string())
        .unwrap_or_default();
    let Some((theirs, seq)) = id
        .rsplit_once(':')
        .and_then(|(rest, s)| Some((rest.rsplit_once(':')?.1.to_string(), s.parse::<u64>().ok()?)))
    else {
        return Err(diverged(
            0,
            format!(
                "the node's last message (stream sequence {}) has no `{MSG_ID_HEADER}: \
                 <node>:<catalog_id>:<seq>` header: it was not published by `catalog export`",
                msg.sequence
            ),
        ));
    };
    if theirs != ours {
        return Err(Error::FleetNodeTaken {
            node: node.to_string(),
            stream: stream_name.to_string(),
            ours,
            theirs,
        });
    }
    let body: Value = serde_json::from_slice(&msg.payload).unwrap_or(Value::Null);
    let start = catalog.history_start()?;
    if start > seq + 1 {
        return Err(diverged(
            seq + 1,
            format!(
                "events {}..{} were pruned from the journal before they were exported \
                 (retain_history off); the stream cannot hold this node's history without a \
                 hole",
                seq + 1,
                start - 1
            ),
        ));
    }
    if start == seq + 1 {
        return Ok(seq); // the journal starts right after what was exported
    }
    let first = catalog.events(seq)?.next().transpose()?;
    match first {
        None => Err(diverged(
            seq,
            format!(
                "the stream has this node's events up to {seq} but the journal ends at {}: \
                 the catalog was restored from an older copy",
                catalog.head().seq
            ),
        )),
        Some(e) if e.seq == seq => {
            let same = body["time_ms"].as_u64() == Some(e.time_ms)
                && body["kind"].as_str() == Some(e.kind())
                && body["id"].as_str() == e.model_id();
            if !same {
                return Err(diverged(
                    seq,
                    format!(
                        "the stream's event {seq} ({} {} at {} ms) is not the journal's ({} {} \
                         at {} ms): the catalog was restored or rewritten",
                        body["kind"],
                        body["id"],
                        body["time_ms"],
                        e.kind(),
                        e.model_id().unwrap_or("-"),
                        e.time_ms
                    ),
                ));
            }
            if body["chain"].as_str() != Some(e.chain.as_str()) {
                tracing::warn!(
                    node = %node,
                    seq,
                    "the journal's chain value at the last exported event differs from the \
                     stream's (a repair recomputes chain values after a gap); continuing"
                );
            }
            Ok(seq)
        }
        Some(e) => {
            tracing::warn!(
                node = %node,
                seq,
                next = e.seq,
                "the last exported event is inside a gap the journal's repair left; the stream \
                 keeps it, export continues after it"
            );
            Ok(seq)
        }
    }
}
