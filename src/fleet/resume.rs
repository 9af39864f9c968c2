//! Where an exporter continues, decided from the stream (no state on the
//! node), and the checks that keep two histories from mixing.
//!
//! The rule (docs/FLEET.md, "Exactly once"):
//!
//! 1. The node name is claimed in the fleet bucket: `n.<node>` is created
//!    with this catalog's id if missing (an atomic create: of two exporters
//!    racing for a new name, one wins); if it names another catalog, the
//!    export is refused ([`Error::FleetNodeTaken`]).
//! 2. The last message of `catalog.<node>.events` is read from the stream.
//!    It must be one `catalog export` published for this node (its
//!    `Nats-Msg-Id` is `<node>:<catalog_id>:<seq>[:<tag>]` and its body
//!    says the same node, catalog and sequence number), else the export is
//!    refused and the message named ([`Error::FleetForeignMessage`]).
//!    Another catalog id is refused ([`Error::FleetNodeTaken`]); else
//!    `L = seq`. No message: `L` is the claim's `exported_seq` (the stream
//!    is new, or lost this node's messages to a rotation or a limit; the
//!    claim is written only after the stream acknowledged that far), else
//!    start with the first retained event.
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
use super::origin::check_event;
use super::rows::FleetNode;
use super::subject::NodeName;
use super::wire::MSG_ID_HEADER;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use async_nats::jetstream::kv;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use serde_json::Value;

/// Claims `node` for `catalog_id` in the fleet bucket (rule 1); returns
/// the last sequence number the claim says was exported (0 for a new one)
/// and the signing keys it names, current first. A new claim names
/// `sign_key`.
pub(crate) async fn claim(
    kv: &kv::Store,
    nats: &NatsConfig,
    (node, catalog_id): (&NodeName, &str),
    stream: &str,
    host: &str,
    sign_key: Option<String>,
) -> Result<(u64, Vec<String>)> {
    let key = node.node_key();
    for _ in 0..3 {
        let entry = kv
            .entry(key.clone())
            .await
            .map_err(|e| nats.error("reading the node's claim", e))?;
        if let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) {
            let (theirs, exported, keys) = serde_json::from_slice::<FleetNode>(&entry.value)
                .map(|n| (n.catalog_id.clone(), n.exported_seq, n.sign_keys()))
                .unwrap_or_default();
            if theirs == catalog_id {
                return Ok((exported, keys));
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
            sign_key: sign_key.clone(),
            old_sign_keys: Vec::new(),
        };
        let body = serde_json::to_vec(&claim).unwrap_or_default();
        match kv.create(&key, body.into()).await {
            Ok(_) => return Ok((0, sign_key.into_iter().collect())),
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
/// last exported sequence number (0: none). `claimed`: what the node's
/// claim says was exported, used when the subject holds no message.
pub(crate) async fn last_exported(
    stream: &Stream,
    stream_name: &str,
    nats: &NatsConfig,
    node: &NodeName,
    catalog: &Catalog,
    claimed: u64,
) -> Result<u64> {
    let ours = catalog.catalog_id();
    let msg = match stream
        .get_last_raw_message_by_subject(&node.subject())
        .await
    {
        Ok(m) => m,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {
            return after_claim(stream_name, node, catalog, claimed);
        }
        Err(e) => return Err(nats.error("reading the node's last message", e)),
    };
    let id = msg
        .headers
        .get(MSG_ID_HEADER)
        .map(|v| v.as_str().to_string());
    let subject = msg.subject.to_string();
    let (theirs, seq) = match check_event(&subject, id.as_deref(), &msg.payload) {
        Ok((_, head)) => (head.catalog_id.into_owned(), head.seq),
        Err(reason) => {
            return Err(Error::FleetForeignMessage {
                node: node.to_string(),
                stream: stream_name.to_string(),
                stream_seq: msg.sequence,
                reason: format!(
                    "{} (message id {})",
                    reason.describe(),
                    id.map_or_else(|| "none".to_string(), |i| format!("{i:?}"))
                ),
            });
        }
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
    in_journal(stream_name, node, catalog, seq, &body)
}

/// Rule 2 when the subject holds no message: 0 for a new node, else what
/// the claim says was exported, if the journal still holds it.
fn after_claim(stream_name: &str, node: &NodeName, catalog: &Catalog, claimed: u64) -> Result<u64> {
    let diverged = |seq: u64, reason: String| Error::FleetHistoryDiverged {
        node: node.to_string(),
        stream: stream_name.to_string(),
        seq,
        reason,
    };
    if claimed == 0 {
        return Ok(0);
    }
    // A new stream (a rotation), or this node's messages removed
    // by a limit: continue after what the claim says was exported.
    if !journal_reaches(catalog, claimed)? {
        return Err(diverged(
            claimed,
            format!(
                "the node's claim says events up to {claimed} were exported but the \
                 journal ends at {}: the catalog was restored from an older copy",
                journal_end(catalog)?
            ),
        ));
    }
    let start = catalog.history_start()?;
    if start > claimed + 1 {
        return Err(diverged(
            claimed + 1,
            format!(
                "events {}..{} were pruned from the journal before they were exported",
                claimed + 1,
                start - 1
            ),
        ));
    }
    tracing::warn!(
        node = %node,
        claimed,
        "the stream holds no message of this node; continuing after the event its claim \
         says was exported (a new stream, or its messages were removed)"
    );
    Ok(claimed)
}

/// Rule 3: the journal must still hold what the stream says was event
/// `seq` (`body`, the stream's last message of the node).
fn in_journal(
    stream_name: &str,
    node: &NodeName,
    catalog: &Catalog,
    seq: u64,
    body: &Value,
) -> Result<u64> {
    let diverged = |seq: u64, reason: String| Error::FleetHistoryDiverged {
        node: node.to_string(),
        stream: stream_name.to_string(),
        seq,
        reason,
    };
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
                journal_end(catalog)?
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

/// Whether the journal's files hold event `seq` or a later one (or pruned
/// it: then it was there). Read from the files, not from the handle's
/// state: the exporter's handle is opened before the first record and
/// never replays the journal (`Catalog::open_read_only_at_start`).
fn journal_reaches(catalog: &Catalog, seq: u64) -> Result<bool> {
    if seq < catalog.history_start()? {
        return Ok(true);
    }
    Ok(catalog.events(seq)?.next().transpose()?.is_some())
}

/// The last sequence number in the journal (for an error's text: this
/// brings the handle up to date, a replay).
fn journal_end(catalog: &Catalog) -> Result<u64> {
    catalog.refresh()?;
    Ok(catalog.head().seq)
}
