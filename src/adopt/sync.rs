//! Reconciling, not only adding (`AdoptOptions::vanished`, `catalog adopt
//! --sync`): the entries adoption made from a Hugging Face cache whose
//! snapshot is no longer there — `hf cache rm` removed the repository,
//! `hf cache prune` the detached revisions — are reported and, when asked,
//! retired or deleted, with the bytes deleting them frees for real
//! (measured as `evict` measures: the store's links counted, a blob the
//! cache or another entry still links kept).
//!
//! An entry is this cache's when its reference is `hf:org/name@<commit>`
//! and its id is the one adoption gives that commit (`org/name`,
//! `org/name@<7 hex>`, docs/MODEL_REF.md §6), or it is registered in place
//! at a snapshot of this cache; adopting one `models--` folder judges only
//! that repository's. An entry adoption just registered or found again is
//! never vanished. Renamed entries (`--as`) are not judged.

use super::AdoptPlan;
use super::detect::SourceLayout;
use super::hf_cache::snapshot_id;
use super::plan::is_hex;
use super::report::{Vanished, VanishedModel};
use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::entry::{Lifecycle, ModelEntry};
use crate::error::Result;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The cache a plan was scanned from, and the one repository folder if
/// only one was named.
fn cache_of(plan: &AdoptPlan) -> Option<(&Path, Option<&str>)> {
    match plan.layout {
        SourceLayout::HfCache => Some((&plan.source, None)),
        SourceLayout::HfRepo => Some((plan.source.parent()?, plan.source.file_name()?.to_str())),
        _ => None,
    }
}

/// The snapshot directory `e` was adopted from in `hub`, if `e` is an
/// entry adoption made from a cache there.
fn snapshot_of(e: &ModelEntry, hub: &Path, folder: Option<&str>) -> Option<PathBuf> {
    let (repo, commit) = e.model_ref.strip_prefix("hf:")?.split_once('@')?;
    let (org, name) = repo.split_once('/')?;
    if !is_hex(commit, 40) || name.contains('/') {
        return None;
    }
    let repo_folder = format!("models--{org}--{name}");
    if folder.is_some_and(|f| f != repo_folder) {
        return None;
    }
    let snapshot = hub.join(&repo_folder).join("snapshots").join(commit);
    let ours = if e.external {
        Path::new(&e.local_path) == snapshot
    } else {
        e.id == repo || e.id == snapshot_id(repo, commit)
    };
    ours.then_some(snapshot)
}

/// Finds the entries of `plan`'s cache whose snapshot is gone and does
/// what `how` asks (in a dry run: says what it would do).
pub(super) fn reconcile(
    catalog: &Catalog,
    plan: &AdoptPlan,
    how: Vanished,
    dry_run: bool,
    ctx: &OpContext,
) -> Result<Vec<VanishedModel>> {
    let Some((hub, folder)) = cache_of(plan).filter(|_| how != Vanished::Ignore) else {
        return Ok(Vec::new());
    };
    let found: BTreeSet<&str> = plan.candidates.iter().map(|c| c.id.as_str()).collect();
    let mut gone: Vec<(String, String, PathBuf)> = catalog
        .list_shared()
        .iter()
        .filter(|e| !found.contains(e.id.as_str()))
        .filter_map(|e| {
            let snapshot = snapshot_of(e, hub, folder)?;
            let missing = matches!(std::fs::symlink_metadata(&snapshot),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound);
            missing.then(|| (e.id.clone(), e.model_ref.clone(), snapshot))
        })
        .collect();
    gone.sort();
    let mut out = Vec::with_capacity(gone.len());
    for (id, model_ref, snapshot) in gone {
        let bytes_freed = match (how, dry_run) {
            (Vanished::Delete, false) => catalog
                .delete_report_ctx(&id, ctx)?
                .map(|r| r.bytes_reclaimed),
            _ => catalog
                .evict_ctx(&id, true, ctx)
                .ok()
                .map(|r| r.bytes_reclaimed),
        };
        if how == Vanished::Retire
            && !dry_run
            && catalog
                .lookup(&id)
                .is_some_and(|e| e.lifecycle != Lifecycle::Retired)
        {
            catalog.set_state_ctx(&id, Lifecycle::Retired, ctx)?;
        }
        tracing::info!(
            model_id = %id,
            snapshot = %snapshot.display(),
            action = how.as_str(),
            dry_run,
            bytes_freed,
            correlation_id = ctx.correlation_id.as_deref(),
            "adopted model's source vanished"
        );
        out.push(VanishedModel {
            id,
            model_ref,
            snapshot,
            action: how,
            bytes_freed,
        });
    }
    Ok(out)
}
