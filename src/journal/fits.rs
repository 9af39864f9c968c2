//! Whether the records that register a model fit the journal: its `Put`,
//! then the `Verify` that follows it, each in one record
//! (`record::MAX_PAYLOAD_LEN`). Import and adoption ask before they move or
//! write anything, with every digest, size and reason at its widest: an
//! upper bound, so a model with too many files or names too long is
//! refused with nothing done.

use super::op::{Op, Payload};
use crate::context::OpContext;
use crate::entry::{EntrySpec, Verification};
use crate::error::Result;

/// Fails with [`crate::Error::InvalidInput`] (from [`Payload::encode`]) if
/// registering `spec` and then recording `outcome` for it, with context
/// `ctx`, would write a record over the limit.
pub(crate) fn registration_fits(
    spec: EntrySpec,
    outcome: Verification,
    ctx: &OpContext,
) -> Result<()> {
    let id = spec.id.clone();
    Payload {
        op: Op::Put(spec),
        ctx: ctx.clone(),
    }
    .encode()?;
    Payload {
        op: Op::Verify { id, outcome },
        ctx: ctx.clone(),
    }
    .encode()?;
    Ok(())
}
