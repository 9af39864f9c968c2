//! The entries every contender stores: realistic quantised GGUF models from
//! the Hugging Face hub, stored content-addressed. Entry `i` at version `v`
//! has the same id, reference, path, digest and size in the catalog, the
//! SQLite row and the JSON index.

use catalog_core::{Digest, EntrySpec};
use serde::{Deserialize, Serialize};

/// Models per organisation (ids stay unique; the organisation varies).
const ORGS: u64 = 500;

/// Id of model `i`, like `org042--repo-000042--q4_k_m`.
pub fn model_id(i: u64) -> String {
    format!("org{:03}--repo-{i:06}--q4_k_m", i % ORGS)
}

fn model_ref(i: u64) -> String {
    format!("hf:org{:03}/repo-{i:06}/model-q4_k_m.gguf", i % ORGS)
}

/// The digest of model `i` at version `v` (a re-registration brings new bytes).
pub fn digest(i: u64, v: u64) -> Digest {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&i.to_le_bytes());
    seed[8..].copy_from_slice(&v.to_le_bytes());
    Digest::of_bytes(&seed)
}

fn size_bytes(i: u64, v: u64) -> u64 {
    4_368_439_584 + (i % 1_000_003) * 4096 + v % 4096
}

/// What `catalog.put` gets.
pub fn spec(i: u64, v: u64) -> EntrySpec {
    let d = digest(i, v);
    EntrySpec::new(
        model_id(i),
        model_ref(i),
        format!("blobs/sha256/{}", d.hex()),
    )
    .digest(d)
    .size_bytes(size_bytes(i, v))
}

/// One SQLite row (and one JSON object): the same fields the catalog keeps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub model_ref: String,
    pub local_path: String,
    pub lifecycle: String,
    pub trust: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    pub size_bytes: u64,
    pub registered_at_ms: u64,
    pub updated_at_ms: u64,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub fn row(i: u64, v: u64) -> Row {
    let d = digest(i, v);
    let now = now_ms();
    Row {
        id: model_id(i),
        model_ref: model_ref(i),
        local_path: format!("blobs/sha256/{}", d.hex()),
        lifecycle: "active".to_string(),
        trust: "unverified".to_string(),
        digest: d.to_string(),
        size_bytes: size_bytes(i, v),
        registered_at_ms: now,
        updated_at_ms: now,
    }
}
