//! Which entries were registered from a reference: a map from a hash of the
//! reference's canonical form to the ids of the entries stored with it, so
//! [`Catalog::locate`] is a probe, not a scan of every entry.
//!
//! An entry stored by an older version may hold a reference today's
//! redaction would hide more of: it is filed under both forms
//! ([`ModelRef::stored_redacted`]). Keys are hashes (8 bytes, not a copy of
//! the reference), and the ids are the map's own `Arc<str>` keys, shared:
//! a probe returns candidates, and the caller keeps those whose stored
//! reference matches ([`ModelRef::stored_matches`]), so colliding hashes
//! cost a comparison, never a wrong answer.
//!
//! [`Catalog::locate`]: crate::Catalog::locate

use crate::model_ref::ModelRef;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// The ids filed under one hash: almost always one.
#[derive(Clone, Debug)]
enum Ids {
    One(Arc<str>),
    Many(Vec<Arc<str>>),
}

/// Reference → ids (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct RefIndex {
    by_ref: HashMap<u64, Ids>,
}

fn ref_hash(canonical: &str) -> u64 {
    let mut h = DefaultHasher::new();
    canonical.hash(&mut h);
    h.finish()
}

/// The hashes an entry stored with `stored` is filed under.
fn keys(stored: &str) -> impl Iterator<Item = u64> {
    let first = ref_hash(stored);
    let second = ModelRef::stored_redacted(stored)
        .map(|r| ref_hash(&r))
        .filter(|&h| h != first);
    std::iter::once(first).chain(second)
}

impl RefIndex {
    /// Files `id`, stored with reference `stored`.
    pub(crate) fn add(&mut self, id: &Arc<str>, stored: &str) {
        for key in keys(stored) {
            match self.by_ref.get_mut(&key) {
                None => {
                    self.by_ref.insert(key, Ids::One(id.clone()));
                }
                Some(Ids::One(other)) => {
                    let other = other.clone();
                    self.by_ref.insert(key, Ids::Many(vec![other, id.clone()]));
                }
                Some(Ids::Many(ids)) => ids.push(id.clone()),
            }
        }
    }

    /// Unfiles `id`, stored with reference `stored`.
    pub(crate) fn remove(&mut self, id: &str, stored: &str) {
        for key in keys(stored) {
            let now_empty = match self.by_ref.get_mut(&key) {
                Some(Ids::One(other)) => &**other == id,
                Some(Ids::Many(ids)) => {
                    ids.retain(|x| &**x != id);
                    if let [only] = ids.as_slice() {
                        let only = only.clone();
                        self.by_ref.insert(key, Ids::One(only));
                    }
                    false
                }
                None => false,
            };
            if now_empty {
                self.by_ref.remove(&key);
            }
        }
    }

    /// The ids filed under the hash of `canonical`: every entry whose
    /// reference matches it, and perhaps others (a hash collision).
    pub(crate) fn candidates(&self, canonical: &str) -> &[Arc<str>] {
        match self.by_ref.get(&ref_hash(canonical)) {
            None => &[],
            Some(Ids::One(id)) => std::slice::from_ref(id),
            Some(Ids::Many(ids)) => ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_added_shared_and_removed() {
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        let mut r = RefIndex::default();
        r.add(&a, "hf:o/r");
        r.add(&b, "hf:o/r");
        assert_eq!(r.candidates("hf:o/r"), [a.clone(), b.clone()]);
        r.remove("a", "hf:o/r");
        assert_eq!(r.candidates("hf:o/r"), std::slice::from_ref(&b));
        r.remove("b", "hf:o/r");
        assert!(r.candidates("hf:o/r").is_empty());
        assert!(r.by_ref.is_empty(), "no empty lists are kept");
    }
}
