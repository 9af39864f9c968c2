//! The rows of the fleet bucket: a node's claim ([`FleetNode`]) and one
//! model on one node ([`FleetModel`]). A leaf: readers, the exporter and the
//! origin rules all use them.

use crate::entry::ModelEntry;
use crate::event_json::{lifecycle_str, trust_str};
use crate::model_ref::ModelRef;
use serde::{Deserialize, Serialize};

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
    /// The public key the node signs with (`ed25519:<hex>`), if it signs
    /// (docs/FLEET.md, "Signatures").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_key: Option<String>,
    /// Keys it signed with before (newest first): what it published then
    /// still verifies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub old_sign_keys: Vec<String>,
}

impl FleetNode {
    /// Every key the claim names, current first.
    pub fn sign_keys(&self) -> Vec<String> {
        self.sign_key
            .iter()
            .chain(&self.old_sign_keys)
            .cloned()
            .collect()
    }
}

impl FleetModel {
    pub(crate) fn from_entry(
        node: &str,
        catalog_id: &str,
        e: &ModelEntry,
        first_event_ms: u64,
    ) -> Self {
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
