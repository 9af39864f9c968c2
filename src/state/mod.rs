//! The in-memory map and the one function that says what an operation does
//! to it. The writer (before appending) and replay (after reading) both use
//! [`change_for`], so a replay always rebuilds exactly what was acknowledged.

mod refs;

use crate::entry::{ModelEntry, TrustState};
use crate::journal::op::Op;
use crate::model_ref::ModelRef;
use refs::RefIndex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

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
    op: Op,
    seq: u64,
    time_ms: u64,
) -> Result<Change, String> {
    let missing = |kind: &str, id: &str| format!("{kind} of model `{id}` that does not exist");
    Ok(match op {
        // The operation is consumed: a replay moves its strings into the
        // entry instead of copying them.
        Op::Put(spec) => Change::Upsert(Box::new(ModelEntry {
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
        })),
        Op::SetLifecycle { id, lifecycle } => {
            let mut e = current.cloned().ok_or_else(|| missing("set_state", &id))?;
            e.lifecycle = lifecycle;
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Box::new(e))
        }
        Op::Verify { id, outcome } => {
            let mut e = current.cloned().ok_or_else(|| missing("verify", &id))?;
            e.trust = outcome.result.trust();
            e.last_verified_at_ms = Some(time_ms);
            e.last_verification = Some(Box::new(outcome));
            e.updated_at_ms = time_ms;
            e.updated_seq = seq;
            Change::Upsert(Box::new(e))
        }
        Op::Evict { id, .. } => {
            current.ok_or_else(|| missing("evict", &id))?;
            Change::Remove(id)
        }
        Op::Delete { id } => {
            current.ok_or_else(|| missing("delete", &id))?;
            Change::Remove(id)
        }
        Op::Gap { .. } | Op::Checkpoint { .. } | Op::Pruned { .. } => Change::Nothing,
    })
}

/// The live entries: hashed for point lookups (`get` is a hash probe, and a
/// replay that replaces an entry touches only the hash map), with the ids
/// also kept in order for listing and snapshots. The entries by reference
/// ([`State::by_ref`]) are indexed on first use, then kept current.
#[derive(Clone, Debug, Default)]
pub struct State {
    index: HashMap<Arc<str>, Arc<ModelEntry>>,
    ordered: BTreeSet<Arc<str>>,
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
                self.insert(*entry);
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
        if let Some((key, slot)) = self.index.get_key_value(entry.id.as_str()) {
            if let Some(refs) = self.refs.get_mut()
                && slot.model_ref != entry.model_ref
            {
                refs.remove(key, &slot.model_ref);
                refs.add(key, &entry.model_ref);
            }
            if let Some(slot) = self.index.get_mut(entry.id.as_str()) {
                *slot = Arc::new(entry);
            }
            return true;
        }
        let key: Arc<str> = Arc::from(entry.id.as_str());
        if let Some(refs) = self.refs.get_mut() {
            refs.add(&key, &entry.model_ref);
        }
        self.ordered.insert(key.clone());
        self.index.insert(key, Arc::new(entry));
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
        self.ordered
            .iter()
            .filter_map(|k| self.index.get(k))
            .map(|e| &**e)
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
