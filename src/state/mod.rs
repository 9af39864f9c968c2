//! The in-memory map and the one function that says what an operation does
//! to it. The writer (before appending) and replay (after reading) both use
//! [`change_for`], so a replay always rebuilds exactly what was acknowledged.

mod refs;

use crate::entry::{ModelEntry, TrustState};
use crate::journal::op::Op;
use crate::model_ref::ModelRef;
use refs::RefIndex;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// The effect of one operation on the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Insert or replace this entry (shared: the writer's overlay, the
    /// map and the caller's answer hold the one entry).
    Upsert(Arc<ModelEntry>),
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
    op: Op,
    seq: u64,
    time_ms: u64,
) -> Result<Change, String> {
    let missing = |kind: &str, id: &str| format!("{kind} of model `{id}` that does not exist");
    Ok(match op {
        // The operation is consumed: a replay moves its strings into the
        // entry instead of copying them.
        Op::Put(spec) => Change::Upsert(Arc::new(ModelEntry {
            registered_at_ms: current.map_or(time_ms, |c| c.registered_at_ms),
            id: spec.id,
            model_ref: spec.model_ref,
            local_path: spec.local_path,
            lifecycle: spec.lifecycle,
            trust: TrustState::Unverified,
            digest: spec.digest,
            size_bytes: spec.size_bytes,
            files: spec.files,
            updated_at_ms: time_ms,
            updated_seq: seq,
            last_verified_at_ms: None,
            last_verification: None,
            digest_source: spec.digest_source,
            external: spec.external,
            signature: None,
        })),
        Op::SetLifecycle { id, lifecycle } => {
            let mut e = current.cloned().ok_or_else(|| missing("set_state", &id))?;
            e.lifecycle = lifecycle;
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Arc::new(e))
        }
        Op::Verify { id, outcome } => {
            let mut e = current.cloned().ok_or_else(|| missing("verify", &id))?;
            e.trust = outcome.result.trust();
            e.last_verified_at_ms = Some(time_ms);
            e.last_verification = Some(Box::new(outcome));
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Arc::new(e))
        }
        Op::VerifySignature {
            id,
            outcome,
            signature,
        } => {
            let mut e = current
                .cloned()
                .ok_or_else(|| missing("verify_signature", &id))?;
            // A signature that verified makes the recorded digests the
            // signer's, and is the one the entry keeps (with its bundle); a
            // failed one leaves both as they were (it is in the history).
            if outcome.result == crate::entry::VerifyResult::Pass && e.digest.is_some() {
                e.digest_source = Some(crate::entry::DigestSource::Signature);
                e.signature = Some(signature);
            }
            e.trust = outcome.result.trust();
            e.last_verified_at_ms = Some(time_ms);
            e.last_verification = Some(Box::new(outcome));
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Arc::new(e))
        }
        Op::Evict { id, .. } => {
            current.ok_or_else(|| missing("evict", &id))?;
            Change::Remove(id)
        }
        Op::Delete { id } => {
            current.ok_or_else(|| missing("delete", &id))?;
            Change::Remove(id)
        }
        Op::RefMoved { id, .. } => {
            current.ok_or_else(|| missing("ref", &id))?;
            Change::Nothing
        }
        Op::Gap { .. } | Op::Checkpoint { .. } | Op::Pruned { .. } => Change::Nothing,
    })
}

/// The live entries: hashed for point lookups (`get` is a hash probe with
/// foldhash, seeded per process), and kept in id order too (for listing and
/// snapshots: a walk of the ordered map, no probe per id). Both maps share
/// each key and each entry. The entries by reference ([`State::by_ref`])
/// are indexed on first use, then kept current.
#[derive(Clone, Debug, Default)]
pub struct State {
    index: HashMap<Arc<str>, Arc<ModelEntry>, foldhash::fast::RandomState>,
    ordered: BTreeMap<Arc<str>, Arc<ModelEntry>>,
    refs: OnceLock<RefIndex>,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.values().eq(other.values())
    }
}

impl Eq for State {}

impl State {
    /// Applies a change.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Upsert(entry) => {
                self.insert_shared(entry);
            }
            Change::Remove(id) => {
                self.remove(&id);
            }
            Change::Nothing => {}
        }
    }

    /// The entry `id`.
    pub fn get(&self, id: &str) -> Option<&ModelEntry> {
        self.index.get(id).map(|e| &**e)
    }

    /// The entry `id`, shared (no copy).
    pub fn get_shared(&self, id: &str) -> Option<Arc<ModelEntry>> {
        self.index.get(id).cloned()
    }

    /// Whether `id` is present.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Inserts or replaces; returns whether an entry was replaced.
    pub fn insert(&mut self, entry: ModelEntry) -> bool {
        self.insert_shared(Arc::new(entry))
    }

    /// Inserts or replaces a shared entry; returns whether one was replaced.
    pub fn insert_shared(&mut self, entry: Arc<ModelEntry>) -> bool {
        // A replacement (most writes) is one hash probe and one ordered
        // search; the reference index is touched only if it is built and
        // the reference changed.
        if let Some(slot) = self.index.get_mut(entry.id.as_str()) {
            let old = std::mem::replace(slot, entry.clone());
            if let Some(slot) = self.ordered.get_mut(entry.id.as_str()) {
                *slot = entry.clone();
            }
            if old.model_ref != entry.model_ref
                && let Some(refs) = self.refs.get_mut()
                && let Some((key, _)) = self.index.get_key_value(entry.id.as_str())
            {
                refs.remove(key, &old.model_ref);
                refs.add(key, &entry.model_ref);
            }
            return true;
        }
        let key: Arc<str> = Arc::from(entry.id.as_str());
        if let Some(refs) = self.refs.get_mut() {
            refs.add(&key, &entry.model_ref);
        }
        self.ordered.insert(key.clone(), entry.clone());
        self.index.insert(key, entry);
        false
    }

    /// Removes `id`.
    pub fn remove(&mut self, id: &str) {
        self.ordered.remove(id);
        if let Some(old) = self.index.remove(id)
            && let Some(refs) = self.refs.get_mut()
        {
            refs.remove(id, &old.model_ref);
        }
    }

    /// The entries registered from the reference whose canonical form is
    /// `canonical` (see [`ModelRef::stored_matches`]), in no order. The
    /// first call indexes every entry by reference; later ones probe.
    pub fn by_ref(&self, canonical: &str) -> Vec<&ModelEntry> {
        let refs = self.refs.get_or_init(|| {
            let mut refs = RefIndex::default();
            for (id, e) in &self.index {
                refs.add(id, &e.model_ref);
            }
            refs
        });
        refs.candidates(canonical)
            .iter()
            .filter_map(|id| self.get(id))
            .filter(|e| ModelRef::stored_matches(&e.model_ref, canonical))
            .collect()
    }

    /// The entries in id order.
    pub fn values(&self) -> impl Iterator<Item = &ModelEntry> + '_ {
        self.ordered.values().map(|e| &**e)
    }

    /// The entries in id order, shared.
    pub fn shared_values(&self) -> impl Iterator<Item = &Arc<ModelEntry>> + '_ {
        self.ordered.values()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The entries as an owned, ordered map.
    pub fn to_map(&self) -> BTreeMap<String, ModelEntry> {
        self.values().map(|e| (e.id.clone(), e.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::EntrySpec;

    fn entry(id: &str, size: u64) -> ModelEntry {
        let spec = EntrySpec::new(id, "hf:org/m", "blobs/x").size_bytes(size);
        match change_for(None, Op::Put(spec), 1, 1) {
            Ok(Change::Upsert(e)) => Arc::unwrap_or_clone(e),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_ordered_walk_and_the_hash_probe_always_agree() {
        let mut state = State::default();
        for (i, id) in ["c", "a", "d", "b"].iter().enumerate() {
            assert!(!state.insert(entry(id, i as u64)));
        }
        assert!(state.insert(entry("a", 99)), "a replacement");
        state.remove("d");
        let walked: Vec<(String, u64)> = state
            .values()
            .map(|e| (e.id.clone(), e.size_bytes))
            .collect();
        assert_eq!(walked, [("a".into(), 99), ("b".into(), 3), ("c".into(), 0)]);
        for e in state.shared_values() {
            let probed = state.get_shared(&e.id).unwrap();
            assert!(Arc::ptr_eq(e, &probed), "{}: one entry, shared", e.id);
        }
        assert_eq!(state.len(), 3);
        assert!(state.get("d").is_none());
    }
}
