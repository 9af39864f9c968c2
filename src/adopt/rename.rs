//! Adopting a model under another id than the one its layout gives it
//! (`AdoptOptions::rename`, `catalog adopt --as OLD_ID=NEW_ID`): the way
//! past a conflict ([`super::conflict`]). Each id is computed from the id
//! the scan found, so applying the same renames again changes nothing.

use super::AdoptPlan;
use crate::entry::check_id;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashSet};

/// Most ids named in a message about a rename.
const SHOWN_IDS: usize = 8;

impl AdoptPlan {
    /// Gives each model found as `old` the id `new` instead, for every
    /// `old → new` of `renames`; fails with [`Error::InvalidInput`] (field
    /// `rename`) if an `old` names no model found here, a `new` is not a
    /// valid id, or two models would get one id. The plan is unchanged
    /// then.
    pub(super) fn apply_renames(&mut self, renames: &BTreeMap<String, String>) -> Result<()> {
        for (old, new) in renames {
            if !self.found_ids.iter().any(|id| id == old) {
                return Err(Error::invalid(
                    "rename",
                    format!(
                        "no model found at {} has the id `{old}` (found: {})",
                        self.source.display(),
                        shown(&self.found_ids)
                    ),
                ));
            }
            check_id(new).map_err(|e| Error::invalid("rename", format!("`{new}`: {e}")))?;
        }
        let ids: Vec<String> = self
            .found_ids
            .iter()
            .map(|found| renames.get(found).unwrap_or(found).clone())
            .collect();
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(twice) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(Error::invalid(
                "rename",
                format!("two models found here would both have the id `{twice}`"),
            ));
        }
        for (c, id) in self.candidates.iter_mut().zip(ids) {
            c.id = id;
        }
        Ok(())
    }
}

/// The first few ids, for a message.
fn shown(ids: &[String]) -> String {
    let mut out: Vec<String> = ids
        .iter()
        .take(SHOWN_IDS)
        .map(|id| format!("`{id}`"))
        .collect();
    if ids.len() > SHOWN_IDS {
        out.push(format!("and {} more", ids.len() - SHOWN_IDS));
    }
    if out.is_empty() {
        "none".into()
    } else {
        out.join(", ")
    }
}
