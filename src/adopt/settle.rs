//! What a plan is checked against the catalog for, before anything is
//! hashed or written: that no file of it is the catalog's own (the source
//! is not the root, inside it or containing it, and no file found leads
//! into it), the ids it registers under (renames applied), the ids that
//! belong to models from elsewhere (conflicts), and what adopting each of
//! the others is expected to do. Done by `plan_adoption`, and again
//! by `adopt_planned` (a plan may be old, or made by `AdoptPlan::scan`
//! without a catalog).

use super::{AdoptOptions, AdoptPlan, apply, conflict};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::store::root_overlap::RootGuard;

/// Settles `plan` against `catalog` as `opts` ask.
pub(super) fn settle(catalog: &Catalog, plan: &mut AdoptPlan, opts: &AdoptOptions) -> Result<()> {
    if opts.allow_partial {
        plan.take_partial();
    }
    refuse_catalog_files(catalog, plan)?;
    plan.apply_renames(&opts.rename)?;
    plan.conflicts = conflict::find(catalog, &plan.candidates);
    plan.actions = plan
        .candidates
        .iter()
        .map(|c| apply::expected_action(catalog, c, opts.in_place))
        .collect();
    Ok(())
}

/// Refuses ([`crate::Error::CatalogRootOverlap`]) a plan whose source is the
/// catalog root, lies inside it or contains it, or one of whose files
/// leads into it (a plain directory's symlink to a blob).
fn refuse_catalog_files(catalog: &Catalog, plan: &AdoptPlan) -> Result<()> {
    let mut guard = RootGuard::new(catalog.root());
    guard.refuse_source(&plan.source)?;
    for f in plan.candidates.iter().flat_map(|c| &c.files) {
        guard.refuse_file(&f.source)?;
    }
    Ok(())
}
