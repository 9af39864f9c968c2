//! What is done to models through a catalog handle: importing them into the
//! store (and putting moved files back when an import cannot finish),
//! verifying their bytes, evicting them, collecting the store's garbage, and
//! finding entries by reference.

pub(crate) mod accessed;
pub(crate) mod evict;
pub(crate) mod flights;
pub(crate) mod gc;
pub(crate) mod import;
pub(crate) mod import_bounds;
pub(crate) mod moves;
pub(crate) mod resolve;
#[cfg(feature = "signature")]
pub(crate) mod signature;
#[cfg(feature = "signature")]
mod signature_rehash;
pub(crate) mod stored_candidates;
pub(crate) mod verify;
pub(crate) mod verify_plan;

pub use accessed::ACCESS_GRANULARITY_MS;
pub use evict::EvictReport;
pub use import::{ImportOptions, ImportReport};
#[cfg(feature = "signature")]
pub use signature::SignatureReport;
pub use verify::{VerifyOptions, VerifyReport};
pub use verify_plan::VerifyPlan;
