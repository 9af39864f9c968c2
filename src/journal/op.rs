//! The operations the journal records, and their postcard payload encoding.
//!
//! Variants are only ever appended (postcard encodes the variant index), so
//! older payloads stay readable. Changing a variant's fields is a format
//! version change.

use super::record::MAX_PAYLOAD_LEN;
use crate::context::OpContext;
use crate::entry::{EntrySpec, Lifecycle, Verification};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A state change, as written in one record (and as shown in history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Op {
    /// Register or replace a model.
    Put(EntrySpec),
    /// Change a model's lifecycle.
    SetLifecycle {
        /// The model.
        id: String,
        /// The new lifecycle.
        lifecycle: Lifecycle,
    },
    /// Record the outcome of a verification.
    Verify {
        /// The model.
        id: String,
        /// What was found.
        outcome: Verification,
    },
    /// Remove a model whose files were reclaimed.
    Evict {
        /// The model.
        id: String,
        /// Bytes reclaimed on disk.
        bytes_reclaimed: u64,
    },
    /// Remove a model.
    Delete {
        /// The model.
        id: String,
    },
    /// Written only by repair: records `seq ..= last_lost` were unreadable
    /// and are gone. The next record has sequence `last_lost + 1`.
    Gap {
        /// Last lost sequence number.
        last_lost: u64,
        /// What repair found.
        reason: String,
    },
    /// Written by compaction (and repair) before it publishes the snapshot
    /// of sequence `seq`: binds that snapshot's contents to the hash chain.
    /// Opening and `check` compare the snapshot with it.
    Checkpoint {
        /// The sequence number the snapshot covers.
        seq: u64,
        /// Its number of entries.
        entries: u64,
        /// Its content digest (SHA-256, see `snapshot::content_digest`).
        content: [u8; 32],
    },
    /// Written by compaction before it deletes sealed segments (history
    /// retention off): records before `first_kept` may no longer be in the
    /// journal. Without such a record, a journal that does not start at
    /// sequence 1 is missing segments.
    Pruned {
        /// First sequence number the journal still holds after the deletion.
        first_kept: u64,
    },
    /// Written by adoption: a ref of a Hugging Face repository (`main`, a
    /// tag, `refs/pr/1`) was found pointing somewhere else than the
    /// catalog last recorded. Filed in the history of `id`, the entry of
    /// the commit it now points to (or, when it is gone, of the one it
    /// pointed to). No effect on the map; the entry must exist.
    RefMoved {
        /// The entry it concerns.
        id: String,
        /// The ref (`main`, `v1.0`, `refs/pr/1`).
        name: String,
        /// The commit it pointed to, if the catalog had recorded one.
        from: Option<String>,
        /// The commit it points to now; `None` when it is gone.
        to: Option<String>,
    },
    /// Record the outcome of a signature verification (format 4): the
    /// verification of the model's bytes it rests on, and who signed. A
    /// pass makes the entry's digests the signer's
    /// ([`crate::DigestSource::Signature`]).
    VerifySignature {
        /// The model.
        id: String,
        /// What was found (a failed signature is a failed verification,
        /// its reason the signature's).
        outcome: Verification,
        /// Who signed, and the bundle (kept in the store by digest).
        signature: Box<crate::signature::SignatureRecord>,
    },
}

impl Op {
    /// The model the operation concerns, if any.
    pub fn model_id(&self) -> Option<&str> {
        match self {
            Op::Put(spec) => Some(&spec.id),
            Op::SetLifecycle { id, .. }
            | Op::Verify { id, .. }
            | Op::Evict { id, .. }
            | Op::Delete { id }
            | Op::RefMoved { id, .. }
            | Op::VerifySignature { id, .. } => Some(id),
            Op::Gap { .. } | Op::Checkpoint { .. } | Op::Pruned { .. } => None,
        }
    }

    /// Whether the operation changes the map (catalog-level records — gaps,
    /// checkpoints, pruning marks — do not).
    pub fn changes_state(&self) -> bool {
        self.model_id().is_some()
    }

    /// A short name for logs and history.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Put(_) => "put",
            Op::SetLifecycle { .. } => "set_state",
            Op::Verify { .. } => "verify",
            Op::Evict { .. } => "evict",
            Op::Delete { .. } => "delete",
            Op::Gap { .. } => "gap",
            Op::Checkpoint { .. } => "checkpoint",
            Op::Pruned { .. } => "pruned",
            Op::RefMoved { .. } => "ref",
            Op::VerifySignature { .. } => "verify_signature",
        }
    }
}

/// The payload of one record: the operation and who asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The change.
    pub op: Op,
    /// Correlation id and actor.
    pub ctx: OpContext,
}

/// Bytes reserved for an encoded payload before encoding: a put of a model
/// with a Hub reference, a path and a digest takes about 200.
const TYPICAL_PAYLOAD_LEN: usize = 256;

impl Payload {
    /// Encodes the payload, refusing one over the record limit.
    pub fn encode(&self) -> Result<Vec<u8>> {
        // Sized for a typical record up front: growing from empty would
        // reallocate a handful of times per operation.
        let bytes = postcard::to_extend(self, Vec::with_capacity(TYPICAL_PAYLOAD_LEN))
            .map_err(|e| Error::invalid("operation", format!("cannot encode: {e}")))?;
        if bytes.len() > MAX_PAYLOAD_LEN {
            return Err(Error::invalid(
                "operation",
                format!(
                    "encodes to {} bytes, over the {MAX_PAYLOAD_LEN}-byte record limit",
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }

    /// Decodes a payload of the current format whose CRC already matched;
    /// trailing bytes are an error.
    /// (`Payload::decode_version`, beside the older shapes in `legacy.rs`,
    /// reads a segment of any format.)
    pub fn decode(bytes: &[u8]) -> std::result::Result<Self, String> {
        Payload::decode_version(bytes, super::segment::FORMAT_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::entry::VerifyResult;

    #[test]
    fn every_op_round_trips() {
        let ops = [
            Op::Put(EntrySpec::new("a", "hf:o/r", "blobs/x").digest(Digest::of_bytes(b"x"))),
            Op::SetLifecycle {
                id: "a".into(),
                lifecycle: Lifecycle::Retired,
            },
            Op::Verify {
                id: "a".into(),
                outcome: Verification {
                    result: VerifyResult::Fail,
                    reason: "digest mismatch".into(),
                    actual: Some(Digest::of_bytes(b"y")),
                    bytes: 1,
                    duration_ms: 2,
                    files: vec![],
                },
            },
            Op::Evict {
                id: "a".into(),
                bytes_reclaimed: 9,
            },
            Op::Delete { id: "a".into() },
            Op::Gap {
                last_lost: 4,
                reason: "r".into(),
            },
            Op::Checkpoint {
                seq: 7,
                entries: 3,
                content: [9; 32],
            },
            Op::Pruned { first_kept: 12 },
            Op::RefMoved {
                id: "a".into(),
                name: "main".into(),
                from: Some("c2".into()),
                to: None,
            },
            Op::VerifySignature {
                id: "a".into(),
                outcome: Verification::new(VerifyResult::Pass, "signed"),
                signature: Box::new(crate::signature::SignatureRecord {
                    signer: crate::signature::Signer::Certificate {
                        subject: "CN=s".into(),
                        issuer: "CN=i".into(),
                    },
                    bundle: Digest::of_bytes(b"bundle"),
                    root: Some(Digest::of_bytes(b"root")),
                }),
            },
        ];
        for op in ops {
            let p = Payload {
                op,
                ctx: OpContext::new().actor("t"),
            };
            assert_eq!(Payload::decode(&p.encode().unwrap()).unwrap(), p);
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let p = Payload {
            op: Op::Delete { id: "a".into() },
            ctx: OpContext::new(),
        };
        let mut bytes = p.encode().unwrap();
        bytes.push(0);
        assert!(Payload::decode(&bytes).is_err());
    }
}
