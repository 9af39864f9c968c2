//! Whether a message or a value speaks for the node its subject or key
//! names (docs/FLEET.md, "A node speaks only for itself").
//!
//! The server enforces who may write where (the permission template gives
//! each node `catalog.<node>.events`, `$KV.<bucket>.n.<node>` and
//! `$KV.<bucket>.m.<node>.>`), so the subject or key is the one thing a
//! reader can trust about a message; its body and headers are whatever the
//! publisher wrote. A reader therefore takes the node from the subject or
//! key and keeps a message only if everything else agrees with it:
//!
//! | what | must agree |
//! |---|---|
//! | event on `catalog.<node>.events` | body `node` = `<node>`; `Nats-Msg-Id` = `<node>:<catalog_id>:<seq>[:<tag>]` with the body's `catalog_id` and `seq`; `catalog_id` = the node's claim |
//! | claim `n.<node>` | body `node` = `<node>` |
//! | model `m.<node>.<id>` | body `node` = `<node>`, body `id` = `<id>`; `catalog_id` = the node's claim |
//!
//! Anything else is left out and counted ([`Dropped`], with a typed
//! [`DropReason`]); so is the second copy of an event (the same node,
//! catalog id and sequence number), which a re-sent message can leave.

use super::rows::{FleetModel, FleetNode};
use super::subject::subject_node;
use super::wire::parse_msg_id;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

/// Why a reader left a message or value out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// The body is not what `catalog export` writes (not JSON, fields
    /// missing).
    Unreadable,
    /// The body names another node than its subject or key.
    BodyNode,
    /// A model value's body names another model than its key.
    BodyId,
    /// The message id is missing, or is not `<node>:<catalog_id>:<seq>` of
    /// the subject's node and the body's catalog and sequence number.
    MsgId,
    /// The node has no claim (`n.<node>`) to check the catalog id against.
    NoClaim,
    /// The catalog id is not the one the node's claim names.
    CatalogId,
    /// The same event (node, catalog id, sequence number) again.
    Duplicate,
    /// Verifying: the message carries no signature (`Catalog-Sig`).
    NoSignature,
    /// Verifying: the signature is not one of the node's keys over this
    /// subject, message id and body (forged, edited, or moved to another
    /// id or key).
    BadSignature,
    /// Verifying: there is no key to check the node's messages with (its
    /// claim names none, or none was pinned for it).
    NoKey,
}

impl DropReason {
    /// A short name, as the JSON output shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Unreadable => "unreadable",
            DropReason::BodyNode => "body-names-another-node",
            DropReason::BodyId => "body-names-another-model",
            DropReason::MsgId => "message-id-disagrees",
            DropReason::NoClaim => "node-has-no-claim",
            DropReason::CatalogId => "catalog-id-not-the-claims",
            DropReason::Duplicate => "duplicate",
            DropReason::NoSignature => "no-signature",
            DropReason::BadSignature => "bad-signature",
            DropReason::NoKey => "node-has-no-key",
        }
    }

    /// What it means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::Unreadable => "the body is not an exported event or state",
            DropReason::BodyNode => "the body names another node than its subject or key",
            DropReason::BodyId => "the body names another model than its key",
            DropReason::MsgId => {
                "the message id is not <node>:<catalog_id>:<seq> of the subject's node and the \
                 body"
            }
            DropReason::NoClaim => "the node has no claim (n.<node>) in the fleet bucket",
            DropReason::CatalogId => "the catalog id is not the one the node's claim names",
            DropReason::Duplicate => "a second copy of an event already read",
            DropReason::NoSignature => "not signed (verifying)",
            DropReason::BadSignature => {
                "the signature is not the node's over this subject, message id and body \
                 (verifying)"
            }
            DropReason::NoKey => "no key to check the node's signatures with (verifying)",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DropReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A message or value a reader left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Dropped {
    /// The key (`m.n2.x`), or the subject and stream sequence
    /// (`catalog.n2.events#17`).
    pub at: String,
    /// Why.
    pub reason: DropReason,
}

impl Dropped {
    pub(crate) fn new(at: impl Into<String>, reason: DropReason) -> Self {
        Dropped {
            at: at.into(),
            reason,
        }
    }

    /// One line naming every left-out item by reason, for a warning.
    pub fn summary(dropped: &[Dropped]) -> String {
        let mut by: std::collections::BTreeMap<DropReason, Vec<&str>> = Default::default();
        for d in dropped {
            by.entry(d.reason).or_default().push(&d.at);
        }
        by.iter()
            .map(|(reason, at)| {
                let shown: Vec<&str> = at.iter().take(5).copied().collect();
                let more = at.len().saturating_sub(shown.len());
                format!(
                    "{} {} ({}{})",
                    at.len(),
                    reason.describe(),
                    shown.join(", "),
                    if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The fields of an event body a reader checks (the rest is kept as it
/// was published).
#[derive(Debug, Deserialize)]
pub(crate) struct EventHead<'a> {
    #[serde(borrow)]
    pub node: Cow<'a, str>,
    #[serde(borrow)]
    pub catalog_id: Cow<'a, str>,
    pub seq: u64,
    pub time_ms: u64,
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
}

/// An event message checked against its subject and message id (the claim
/// is checked by the caller, who has the claims): its node and head.
pub(crate) fn check_event<'a>(
    subject: &'a str,
    msg_id: Option<&str>,
    body: &'a [u8],
) -> Result<(&'a str, EventHead<'a>), DropReason> {
    let node = subject_node(subject).ok_or(DropReason::Unreadable)?;
    let head: EventHead = serde_json::from_slice(body).map_err(|_| DropReason::Unreadable)?;
    if head.node != node {
        return Err(DropReason::BodyNode);
    }
    let id = msg_id.and_then(parse_msg_id).ok_or(DropReason::MsgId)?;
    if id.node != node || id.catalog_id != head.catalog_id || id.seq != head.seq {
        return Err(DropReason::MsgId);
    }
    Ok((node, head))
}

/// A node claim `n.<node>` checked against its key.
pub(crate) fn check_claim(node: &str, body: &[u8]) -> Result<FleetNode, DropReason> {
    let claim: FleetNode = serde_json::from_slice(body).map_err(|_| DropReason::Unreadable)?;
    if claim.node != node {
        return Err(DropReason::BodyNode);
    }
    Ok(claim)
}

/// A model value `m.<node>.<id>` checked against its key and the node's
/// claim (`claims`: node → catalog id).
pub(crate) fn check_model(
    node: &str,
    id: &str,
    body: &[u8],
    claims: &HashMap<String, String>,
) -> Result<FleetModel, DropReason> {
    let m: FleetModel = serde_json::from_slice(body).map_err(|_| DropReason::Unreadable)?;
    if m.node != node {
        return Err(DropReason::BodyNode);
    }
    if m.id != id {
        return Err(DropReason::BodyId);
    }
    check_catalog(claims, node, &m.catalog_id)?;
    Ok(m)
}

/// Whether `catalog_id` is the one `node`'s claim names.
pub(crate) fn check_catalog(
    claims: &HashMap<String, String>,
    node: &str,
    catalog_id: &str,
) -> Result<(), DropReason> {
    match claims.get(node) {
        None => Err(DropReason::NoClaim),
        Some(c) if c != catalog_id => Err(DropReason::CatalogId),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "0123456789abcdef0123456789abcdef";

    fn body(node: &str, cid: &str, seq: u64) -> Vec<u8> {
        format!(r#"{{"node":"{node}","catalog_id":"{cid}","seq":{seq},"time_ms":5,"id":"m"}}"#)
            .into_bytes()
    }

    #[test]
    fn an_event_speaks_only_for_its_subjects_node() {
        let subject = "catalog.n2.events";
        let ok = body("n2", CID, 7);
        let id = format!("n2:{CID}:7");
        let (node, head) = check_event(subject, Some(&id), &ok).unwrap();
        assert_eq!((node, head.seq, head.id.as_deref()), ("n2", 7, Some("m")));
        let tagged = format!("n2:{CID}:7:00ff00ff00ff00ff");
        assert!(check_event(subject, Some(&tagged), &ok).is_ok());

        let cases: Vec<(Option<String>, Vec<u8>, DropReason)> = vec![
            (Some(id.clone()), body("n1", CID, 7), DropReason::BodyNode),
            (Some(format!("n1:{CID}:7")), ok.clone(), DropReason::MsgId),
            (Some(format!("n2:{CID}:8")), ok.clone(), DropReason::MsgId),
            (
                Some(format!("n2:{}:7", "f".repeat(32))),
                ok.clone(),
                DropReason::MsgId,
            ),
            (None, ok.clone(), DropReason::MsgId),
            (Some("junk".into()), ok.clone(), DropReason::MsgId),
            (
                Some(id.clone()),
                b"not json".to_vec(),
                DropReason::Unreadable,
            ),
            (
                Some(id.clone()),
                b"{\"node\":\"n2\"}".to_vec(),
                DropReason::Unreadable,
            ),
        ];
        for (msg_id, b, want) in cases {
            assert_eq!(
                check_event(subject, msg_id.as_deref(), &b).map(|_| ()),
                Err(want),
                "{msg_id:?} {}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn a_model_value_speaks_only_for_its_key_and_its_nodes_claim() {
        let claims: HashMap<String, String> = [("n1".to_string(), CID.to_string())].into();
        let value = |node: &str, id: &str, cid: &str| {
            serde_json::to_vec(&serde_json::json!({
                "node": node, "catalog_id": cid, "id": id, "ref": "hf:o/r",
                "lifecycle": "active", "trust": "verified", "digest": null,
                "size_bytes": 1, "seq": 1, "last_event_ms": 1, "first_event_ms": 1,
                "deleted": false
            }))
            .unwrap()
        };
        assert!(check_model("n1", "m", &value("n1", "m", CID), &claims).is_ok());
        let other = "e".repeat(32);
        for (node, id, b, want) in [
            ("n2", "m", value("n1", "m", CID), DropReason::BodyNode),
            ("n1", "x", value("n1", "m", CID), DropReason::BodyId),
            ("n1", "m", value("n1", "m", &other), DropReason::CatalogId),
            ("n3", "m", value("n3", "m", CID), DropReason::NoClaim),
            ("n1", "m", b"[]".to_vec(), DropReason::Unreadable),
        ] {
            assert_eq!(
                check_model(node, id, &b, &claims).map(|_| ()),
                Err(want),
                "{node} {id}"
            );
        }
    }
}
