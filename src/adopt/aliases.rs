//! Refs as aliases (docs/MODEL_REF.md §6): a Hugging Face repository's
//! refs — `main`, tags, `refs/pr/N` — are not entries; each commit is one
//! entry, and each ref is recorded, as it moves, by an `Op::RefMoved`
//! record in the history of the entry of the commit it points to.
//!
//! `main` names its entry (`org/name`): when it moves, that entry is
//! replaced by the new commit's (a `put`, so its history goes on) and the
//! move is recorded there ("main moved from c2 to c4"); where it was is
//! read from the entry before the adoption. Every other ref is recorded
//! the first time it is found and whenever it points elsewhere than its
//! last record in the histories of the repository's entries says; one
//! that no longer points to any adopted commit is recorded as gone.

use super::plan::Candidate;
use super::report::{AdoptedModel, RefMove};
use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::error::Result;
use crate::journal::op::Op;
use std::collections::{BTreeMap, BTreeSet};

/// Where `main` of each repository pointed before an adoption (by the id
/// of the candidate `main` points to now), from the catalog's entries.
pub(super) fn main_before(catalog: &Catalog, candidates: &[Candidate]) -> BTreeMap<String, String> {
    candidates
        .iter()
        .filter(|c| {
            c.revision
                .as_ref()
                .is_some_and(|r| r.refs.iter().any(|n| n == "main"))
        })
        .filter_map(|c| {
            let e = catalog.lookup(&c.id)?;
            let commit = e.model_ref.rsplit_once('@')?.1.to_owned();
            Some((c.id.clone(), commit))
        })
        .collect()
}

/// Records every ref that moved, of the repositories of the models
/// adopted (`models`, in `candidates`' order for those adopted), and says
/// which.
pub(super) fn record(
    catalog: &Catalog,
    candidates: &[Candidate],
    models: &[AdoptedModel],
    main_before: &BTreeMap<String, String>,
    ctx: &OpContext,
) -> Result<Vec<RefMove>> {
    let adopted: BTreeSet<&str> = models
        .iter()
        .filter(|m| m.entry.is_some())
        .map(|m| m.id.as_str())
        .collect();
    // Repository → (ref → (entry id, commit)) now.
    let mut now: BTreeMap<&str, BTreeMap<&str, (&str, &str)>> = BTreeMap::new();
    for c in candidates
        .iter()
        .filter(|c| adopted.contains(c.id.as_str()))
    {
        if let Some(r) = &c.revision {
            let refs = now.entry(&r.repo).or_default();
            for name in &r.refs {
                refs.insert(name, (&c.id, &r.commit));
            }
        }
    }
    let mut moves = Vec::new();
    for (repo, refs) in &now {
        let ids: Vec<&str> = candidates
            .iter()
            .filter(|c| c.revision.as_ref().is_some_and(|r| r.repo == *repo))
            .map(|c| c.id.as_str())
            .filter(|id| adopted.contains(id))
            .collect();
        let recorded = if refs.keys().any(|n| *n != "main") {
            recorded_refs(catalog, &ids)?
        } else {
            BTreeMap::new()
        };
        for (name, (id, commit)) in refs {
            let from = if *name == "main" {
                main_before.get(*id).cloned()
            } else {
                recorded.get(*name).map(|(_, c)| c.clone())
            };
            let first_main = *name == "main" && from.is_none();
            if from.as_deref() != Some(*commit) && !first_main {
                moves.push(RefMove {
                    id: (*id).to_owned(),
                    name: (*name).to_owned(),
                    from,
                    to: Some((*commit).to_owned()),
                });
            }
        }
        for (name, (id, commit)) in &recorded {
            if !refs.contains_key(name.as_str()) && catalog.exists(id) {
                moves.push(RefMove {
                    id: id.clone(),
                    name: name.clone(),
                    from: Some(commit.clone()),
                    to: None,
                });
            }
        }
    }
    for m in &moves {
        catalog.record_ref_moved(&m.id, &m.name, (m.from.as_deref(), m.to.as_deref()), ctx)?;
        tracing::info!(
            model_id = %m.id,
            name = %m.name,
            from = m.from.as_deref(),
            to = m.to.as_deref(),
            correlation_id = ctx.correlation_id.as_deref(),
            "ref moved"
        );
    }
    Ok(moves)
}

/// Every ref other than `main` the histories of `ids` last recorded as
/// pointing somewhere: ref → (entry id, commit).
fn recorded_refs(catalog: &Catalog, ids: &[&str]) -> Result<BTreeMap<String, (String, String)>> {
    let mut last: BTreeMap<String, (u64, Option<(String, String)>)> = BTreeMap::new();
    for id in ids {
        for event in catalog.history(id)? {
            if let Op::RefMoved { id, name, to, .. } = event.op
                && name != "main"
                && last.get(&name).is_none_or(|(seq, _)| *seq < event.seq)
            {
                last.insert(name, (event.seq, to.map(|c| (id, c))));
            }
        }
    }
    Ok(last
        .into_iter()
        .filter_map(|(name, (_, at))| Some((name, at?)))
        .collect())
}
