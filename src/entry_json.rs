//! How a model entry is shown as JSON: the object `catalog show --json`,
//! `list --json`, `add --json` and `verify --json` print (stable field names
//! for scripts). The reference is redacted as stored
//! (`ModelRef::redact_stored`); states are spelled by their `as_str()`.

use crate::entry::{ManifestFile, ModelEntry};
use crate::model_ref::ModelRef;
use crate::signature::{SignatureRecord, Signer};
use serde_json::{Value, json};

impl ModelEntry {
    /// The entry as a JSON object.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use catalog_core::{Catalog, EntrySpec};
    /// let catalog = Catalog::open(dir.path())?;
    /// let entry = catalog.put(EntrySpec::new("m", "hf:org/m", "blobs/x"))?;
    /// let json = entry.to_json();
    /// assert_eq!(json["id"], "m");
    /// assert_eq!(json["lifecycle"], "active");
    /// assert_eq!(json["trust"], "unverified");
    /// # Ok(()) }
    /// ```
    pub fn to_json(&self) -> Value {
        let e = self;
        json!({
            "id": e.id,
            "ref": ModelRef::redact_stored(&e.model_ref),
            "lifecycle": e.lifecycle.as_str(),
            "trust": e.trust.as_str(),
            "digest": e.digest.map(|d| d.to_string()),
            "digest_source": e.digest_source.map(|s| s.as_str()),
            "size_bytes": e.size_bytes,
            "path": e.local_path,
            "external": e.external,
            "files": e.files.iter().map(ManifestFile::to_json).collect::<Vec<_>>(),
            "registered_at_ms": e.registered_at_ms,
            "updated_at_ms": e.updated_at_ms,
            "updated_seq": e.updated_seq,
            "last_verified_at_ms": e.last_verified_at_ms,
            "last_verification": e.last_verification.as_ref().map(|v| json!({
                "result": v.result.as_str(),
                "reason": v.reason,
                "actual": v.actual.map(|d| d.to_string()),
                "bytes": v.bytes,
                "duration_ms": v.duration_ms,
            })),
            "signature": e.signature.as_deref().map(SignatureRecord::to_json),
        })
    }
}

impl ManifestFile {
    /// One file of a model as JSON: path, digest, size, and (format 3) its
    /// media type and the digest its publisher named it by, when there are.
    pub fn to_json(&self) -> Value {
        let mut obj = json!({
            "path": self.path, "digest": self.digest.to_string(), "size_bytes": self.size_bytes,
        });
        if let Some(m) = &self.media_type {
            obj["media_type"] = json!(m);
        }
        if let Some(p) = &self.publisher_digest {
            obj["publisher_digest"] = json!(p.to_string());
        }
        obj
    }
}

impl SignatureRecord {
    /// A recorded signature as JSON: who signed (`kind` and its fields), the
    /// bundle's digest (kept in the store), the statement's root.
    pub fn to_json(&self) -> Value {
        let signer = match &self.signer {
            Signer::Key { hint } => json!({ "kind": "key", "hint": hint }),
            Signer::Certificate { subject, issuer } => {
                json!({ "kind": "certificate", "subject": subject, "issuer": issuer })
            }
            Signer::Sigstore {
                identity,
                oidc_issuer,
                log_index,
            } => json!({
                "kind": "sigstore", "identity": identity, "oidc_issuer": oidc_issuer,
                "log_index": log_index,
            }),
            _ => json!({ "kind": "unknown" }),
        };
        json!({
            "signer": signer,
            "bundle": self.bundle.to_string(),
            "root": self.root.map(|d| d.to_string()),
        })
    }
}
