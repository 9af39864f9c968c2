//! The in-memory map and the one function that says what an operation does
//! to it. The writer (before appending) and replay (after reading) both use
//! [`change_for`], so a replay always rebuilds exactly what was acknowledged.

use crate::entry::{ModelEntry, TrustState};
use crate::journal::op::Op;
use std::collections::BTreeMap;

/// The effect of one operation on the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Insert or replace this entry.
    Upsert(Box<ModelEntry>),
    /// Remove this id.
    Remove(String),
    /// No effect on the map (a gap marker).
    Nothing,
}

/// What `op`, recorded as sequence `seq` at `time_ms`, does to the entry
/// currently stored under its id. `Err` names why the operation is not
/// applicable (the model does not exist).
pub fn change_for(
    current: Option<&ModelEntry>,
    op: &Op,
    seq: u64,
    time_ms: u64,
) -> Result<Change, String> {
    let existing = || {
        current.cloned().ok_or_else(|| {
            format!(
                "{} of model `{}` that does not exist",
                op.kind(),
                op.model_id().unwrap_or("")
            )
        })
    };
    Ok(match op {
        Op::Put(spec) => Change::Upsert(Box::new(ModelEntry {
            id: spec.id.clone(),
            model_ref: spec.model_ref.clone(),
            local_path: spec.local_path.clone(),
            lifecycle: spec.lifecycle,
            trust: TrustState::Unverified,
            digest: spec.digest,
            size_bytes: spec.size_bytes,
            files: spec.files.clone(),
            registered_at_ms: current.map_or(time_ms, |c| c.registered_at_ms),
            updated_at_ms: time_ms,
            updated_seq: seq,
            last_verified_at_ms: None,
            last_verification: None,
        })),
        Op::SetLifecycle { lifecycle, .. } => {
            let mut e = existing()?;
            e.lifecycle = *lifecycle;
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Box::new(e))
        }
        Op::Verify { outcome, .. } => {
            let mut e = existing()?;
            e.trust = outcome.result.trust();
            e.last_verified_at_ms = Some(time_ms);
            e.last_verification = Some(outcome.clone());
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Box::new(e))
        }
        Op::Evict { .. } | Op::Delete { .. } => Change::Remove(existing()?.id),
        Op::Gap { .. } => Change::Nothing,
    })
}

/// The live entries, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Entries by id.
    pub entries: BTreeMap<String, ModelEntry>,
}

impl State {
    /// Applies a change.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Upsert(entry) => {
                self.entries.insert(entry.id.clone(), *entry);
            }
            Change::Remove(id) => {
                self.entries.remove(&id);
            }
            Change::Nothing => {}
        }
    }
}
