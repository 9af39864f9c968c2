//! What a plan is checked against the catalog for, before anything is
//! hashed or written: the ids it registers under (renames applied), the
//! ids that belong to models from elsewhere (conflicts), and what adopting
//! each of the others is expected to do. Done by `plan_adoption`, and again
//! by `adopt_planned` (a plan may be old, or made by `AdoptPlan::scan`
//! without a catalog).

use super::{AdoptOptions, AdoptPlan, apply, conflict};
use crate::catalog::Catalog;
use crate::error::Result;

/// Settles `plan` against `catalog` as `opts` ask.
pub(super) fn settle(catalog: &Catalog, plan: &mut AdoptPlan, opts: &AdoptOptions) -> Result<()> {
    plan.apply_renames(&opts.rename)?;
    plan.conflicts = conflict::find(catalog, &plan.candidates);
    plan.actions = plan
        .candidates
        .iter()
        .map(|c| apply::expected_action(catalog, c, opts.in_place))
        .collect();
    Ok(())
}
