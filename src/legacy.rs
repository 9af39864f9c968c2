//! What formats 1 and 2 wrote, read by today's build.
//!
//! Postcard stores no field names: a record or a snapshot entry is the
//! struct shape of the format that wrote it. Format 3 appended fields to
//! `EntrySpec` (`digest_source`, `external`), `ModelEntry` (the same) and
//! `ManifestFile` (`media_type`, `publisher_digest`), so a payload of a
//! version-1 or version-2 segment, and an entry of a version-1 or
//! version-2 snapshot, is decoded with the shapes below and converted: the
//! fields format 3 added take the value that means "not recorded" (`None`,
//! `false`). Nothing else changed shape: `Verification`, `OpContext`,
//! `Digest` and every other variant of `Op` are the same in every format
//! (docs/FORMAT.md §4.3, §10).
//!
//! The shapes are also `Serialize`, so tests can write what an older build
//! wrote.

use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::{EntrySpec, Lifecycle, ManifestFile, ModelEntry, TrustState, Verification};
use crate::journal::op::{Op, Payload};
use serde::{Deserialize, Serialize};

/// The first format whose shapes are today's.
pub(crate) const CURRENT_SHAPES_SINCE: u32 = 3;

/// `ManifestFile` of formats 1 and 2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManifestFileV2 {
    pub path: String,
    pub digest: Digest,
    pub size_bytes: u64,
}

/// `EntrySpec` of formats 1 and 2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntrySpecV2 {
    pub id: String,
    pub model_ref: String,
    pub local_path: String,
    pub lifecycle: Lifecycle,
    pub digest: Option<Digest>,
    pub size_bytes: u64,
    pub files: Vec<ManifestFileV2>,
}

/// `ModelEntry` (the snapshot entry body) of formats 1 and 2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ModelEntryV2 {
    pub id: String,
    pub model_ref: String,
    pub local_path: String,
    pub lifecycle: Lifecycle,
    pub trust: TrustState,
    pub digest: Option<Digest>,
    pub size_bytes: u64,
    pub files: Vec<ManifestFileV2>,
    pub registered_at_ms: u64,
    pub updated_at_ms: u64,
    pub updated_seq: u64,
    pub last_verified_at_ms: Option<u64>,
    pub last_verification: Option<Box<Verification>>,
}

/// `Op` of formats 1 and 2: the same variants, in the same order, with
/// the old `EntrySpec` in `Put`. (`Checkpoint` and `Pruned` appear only in
/// version-2 segments.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OpV2 {
    Put(EntrySpecV2),
    SetLifecycle {
        id: String,
        lifecycle: Lifecycle,
    },
    Verify {
        id: String,
        outcome: Verification,
    },
    Evict {
        id: String,
        bytes_reclaimed: u64,
    },
    Delete {
        id: String,
    },
    Gap {
        last_lost: u64,
        reason: String,
    },
    Checkpoint {
        seq: u64,
        entries: u64,
        content: [u8; 32],
    },
    Pruned {
        first_kept: u64,
    },
}

/// `Payload` of formats 1 and 2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PayloadV2 {
    pub op: OpV2,
    pub ctx: OpContext,
}

impl From<ManifestFileV2> for ManifestFile {
    fn from(f: ManifestFileV2) -> Self {
        ManifestFile::new(f.path, f.digest, f.size_bytes)
    }
}

impl From<EntrySpecV2> for EntrySpec {
    fn from(s: EntrySpecV2) -> Self {
        EntrySpec {
            id: s.id,
            model_ref: s.model_ref,
            local_path: s.local_path,
            lifecycle: s.lifecycle,
            digest: s.digest,
            size_bytes: s.size_bytes,
            files: s.files.into_iter().map(Into::into).collect(),
            digest_source: None,
            external: false,
        }
    }
}

impl From<ModelEntryV2> for ModelEntry {
    fn from(e: ModelEntryV2) -> Self {
        ModelEntry {
            id: e.id,
            model_ref: e.model_ref,
            local_path: e.local_path,
            lifecycle: e.lifecycle,
            trust: e.trust,
            digest: e.digest,
            size_bytes: e.size_bytes,
            files: e.files.into_iter().map(Into::into).collect(),
            registered_at_ms: e.registered_at_ms,
            updated_at_ms: e.updated_at_ms,
            updated_seq: e.updated_seq,
            last_verified_at_ms: e.last_verified_at_ms,
            last_verification: e.last_verification,
            digest_source: None,
            external: false,
            signature: None,
        }
    }
}

/// `ModelEntry` (the snapshot entry body) of format 3: today's without the
/// `signature` format 4 appended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ModelEntryV3 {
    pub id: String,
    pub model_ref: String,
    pub local_path: String,
    pub lifecycle: Lifecycle,
    pub trust: TrustState,
    pub digest: Option<Digest>,
    pub size_bytes: u64,
    pub files: Vec<ManifestFile>,
    pub registered_at_ms: u64,
    pub updated_at_ms: u64,
    pub updated_seq: u64,
    pub last_verified_at_ms: Option<u64>,
    pub last_verification: Option<Box<Verification>>,
    pub digest_source: Option<crate::entry::DigestSource>,
    pub external: bool,
}

impl From<ModelEntryV3> for ModelEntry {
    fn from(e: ModelEntryV3) -> Self {
        ModelEntry {
            id: e.id,
            model_ref: e.model_ref,
            local_path: e.local_path,
            lifecycle: e.lifecycle,
            trust: e.trust,
            digest: e.digest,
            size_bytes: e.size_bytes,
            files: e.files,
            registered_at_ms: e.registered_at_ms,
            updated_at_ms: e.updated_at_ms,
            updated_seq: e.updated_seq,
            last_verified_at_ms: e.last_verified_at_ms,
            last_verification: e.last_verification,
            digest_source: e.digest_source,
            external: e.external,
            signature: None,
        }
    }
}

/// The first snapshot format whose entries have today's shape (format 4
/// appended `ModelEntry::signature`; payloads kept their format-3 shapes,
/// format 4 only appended the `Op::VerifySignature` variant).
pub(crate) const ENTRY_SHAPES_SINCE: u32 = 4;

/// Decodes one snapshot entry written by format `version`; trailing bytes
/// are an error.
pub(crate) fn decode_entry(bytes: &[u8], version: u32) -> Result<ModelEntry, String> {
    if version >= ENTRY_SHAPES_SINCE {
        decode_versioned::<ModelEntry, ModelEntryV2>(bytes, version)
    } else {
        decode_versioned::<ModelEntryV3, ModelEntryV2>(bytes, version).map(Into::into)
    }
}

impl From<ModelEntryV2> for ModelEntryV3 {
    fn from(e: ModelEntryV2) -> Self {
        let e = ModelEntry::from(e);
        ModelEntryV3 {
            id: e.id,
            model_ref: e.model_ref,
            local_path: e.local_path,
            lifecycle: e.lifecycle,
            trust: e.trust,
            digest: e.digest,
            size_bytes: e.size_bytes,
            files: e.files,
            registered_at_ms: e.registered_at_ms,
            updated_at_ms: e.updated_at_ms,
            updated_seq: e.updated_seq,
            last_verified_at_ms: e.last_verified_at_ms,
            last_verification: e.last_verification,
            digest_source: e.digest_source,
            external: e.external,
        }
    }
}

impl From<OpV2> for Op {
    fn from(op: OpV2) -> Self {
        match op {
            OpV2::Put(spec) => Op::Put(spec.into()),
            OpV2::SetLifecycle { id, lifecycle } => Op::SetLifecycle { id, lifecycle },
            OpV2::Verify { id, outcome } => Op::Verify { id, outcome },
            OpV2::Evict {
                id,
                bytes_reclaimed,
            } => Op::Evict {
                id,
                bytes_reclaimed,
            },
            OpV2::Delete { id } => Op::Delete { id },
            OpV2::Gap { last_lost, reason } => Op::Gap { last_lost, reason },
            OpV2::Checkpoint {
                seq,
                entries,
                content,
            } => Op::Checkpoint {
                seq,
                entries,
                content,
            },
            OpV2::Pruned { first_kept } => Op::Pruned { first_kept },
        }
    }
}

impl From<PayloadV2> for Payload {
    fn from(p: PayloadV2) -> Self {
        Payload {
            op: p.op.into(),
            ctx: p.ctx,
        }
    }
}

impl Payload {
    /// Decodes a payload read from a segment of format `version`: formats
    /// 1 and 2 wrote `Put` with fewer fields (the shapes above).
    pub fn decode_version(bytes: &[u8], version: u32) -> Result<Self, String> {
        decode_versioned::<Payload, PayloadV2>(bytes, version).map_err(|e| format!("payload {e}"))
    }
}

/// Decodes one value of shape `Old` (then converted) or `New`, by the
/// format `version` of the file it was read from; trailing bytes are an
/// error.
pub(crate) fn decode_versioned<New, Old>(bytes: &[u8], version: u32) -> Result<New, String>
where
    New: for<'de> Deserialize<'de>,
    Old: for<'de> Deserialize<'de> + Into<New>,
{
    let rest = if version >= CURRENT_SHAPES_SINCE {
        postcard::take_from_bytes::<New>(bytes).map(|(v, rest)| (v, rest.len()))
    } else {
        postcard::take_from_bytes::<Old>(bytes).map(|(v, rest)| (v.into(), rest.len()))
    };
    match rest {
        Ok((value, 0)) => Ok(value),
        Ok((_, n)) => Err(format!("{n} trailing bytes after the value")),
        Err(e) => Err(format!("does not decode (format {version}): {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::DigestSource;

    fn old_spec() -> EntrySpecV2 {
        EntrySpecV2 {
            id: "m".into(),
            model_ref: "hf:o/r".into(),
            local_path: "views/x".into(),
            lifecycle: Lifecycle::Retired,
            digest: Some(Digest::of_bytes(b"m")),
            size_bytes: 9,
            files: vec![ManifestFileV2 {
                path: "a.json".into(),
                digest: Digest::of_bytes(b"a"),
                size_bytes: 1,
            }],
        }
    }

    #[test]
    fn a_format_2_put_decodes_into_todays_spec_with_nothing_recorded() {
        let old = PayloadV2 {
            op: OpV2::Put(old_spec()),
            ctx: OpContext::new().actor("old build"),
        };
        let bytes = postcard::to_allocvec(&old).unwrap();
        let p: Payload = decode_versioned::<Payload, PayloadV2>(&bytes, 2).unwrap();
        let Op::Put(spec) = p.op else { panic!("a put") };
        assert_eq!(spec.id, "m");
        assert_eq!(
            spec.files[0],
            ManifestFile::new("a.json", Digest::of_bytes(b"a"), 1)
        );
        assert_eq!(spec.digest_source, None);
        assert!(!spec.external);
        assert_eq!(p.ctx.actor.as_deref(), Some("old build"));
        // The same bytes read as format 3 are not the same value: the
        // version decides the shape.
        let as_new = decode_versioned::<Payload, PayloadV2>(&bytes, 3);
        assert!(
            as_new
                .as_ref()
                .map_or(true, |n| n.op != Op::Put(old_spec().into())),
            "{as_new:?}"
        );
    }

    #[test]
    fn a_format_3_put_round_trips_with_its_new_fields() {
        let mut spec: EntrySpec = old_spec().into();
        spec.digest_source = Some(DigestSource::Publisher);
        spec.external = true;
        spec.files[0].media_type = Some("application/vnd.ollama.image.model".into());
        spec.files[0].publisher_digest = Some(Digest::git_blob_of_bytes(b"a"));
        let p = Payload {
            op: Op::Put(spec),
            ctx: OpContext::new(),
        };
        let bytes = p.encode().unwrap();
        assert_eq!(
            decode_versioned::<Payload, PayloadV2>(&bytes, 3).unwrap(),
            p
        );
        assert!(decode_versioned::<Payload, PayloadV2>(&bytes, 2).is_err());
    }

    #[test]
    fn every_other_operation_is_encoded_the_same_in_every_format() {
        let ops = [
            OpV2::Delete { id: "a".into() },
            OpV2::SetLifecycle {
                id: "a".into(),
                lifecycle: Lifecycle::Active,
            },
            OpV2::Gap {
                last_lost: 3,
                reason: "r".into(),
            },
            OpV2::Checkpoint {
                seq: 1,
                entries: 2,
                content: [3; 32],
            },
            OpV2::Pruned { first_kept: 4 },
        ];
        for op in ops {
            let old = PayloadV2 {
                op,
                ctx: OpContext::new(),
            };
            let new: Payload = old.clone().into();
            assert_eq!(
                postcard::to_allocvec(&old).unwrap(),
                new.encode().unwrap(),
                "{old:?}"
            );
        }
    }

    #[test]
    fn a_format_3_entry_decodes_with_no_signature_and_a_format_4_one_keeps_it() {
        let v3 = ModelEntryV3 {
            id: "m".into(),
            model_ref: "hf:o/r".into(),
            local_path: "views/x".into(),
            lifecycle: Lifecycle::Active,
            trust: TrustState::Verified,
            digest: Some(Digest::of_bytes(b"m")),
            size_bytes: 9,
            files: vec![],
            registered_at_ms: 1,
            updated_at_ms: 2,
            updated_seq: 3,
            last_verified_at_ms: Some(2),
            last_verification: None,
            digest_source: Some(DigestSource::Publisher),
            external: false,
        };
        let bytes = postcard::to_allocvec(&v3).unwrap();
        let e = decode_entry(&bytes, 3).unwrap();
        assert_eq!(e.signature, None);
        assert_eq!(e.digest_source, Some(DigestSource::Publisher));
        assert!(
            decode_entry(&bytes, 4).is_err(),
            "format-3 bytes are not a format-4 entry"
        );
        let mut signed = e.clone();
        signed.signature = Some(Box::new(crate::signature::SignatureRecord {
            signer: crate::signature::Signer::Key { hint: "ab".into() },
            bundle: Digest::of_bytes(b"bundle"),
            root: None,
        }));
        signed.digest_source = Some(DigestSource::Signature);
        let bytes = postcard::to_allocvec(&signed).unwrap();
        assert_eq!(decode_entry(&bytes, 4).unwrap(), signed);
    }
}
