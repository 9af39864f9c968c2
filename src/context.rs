//! Who asked for a change and in which request, stored with its record.

use serde::{Deserialize, Serialize};

/// Longest correlation id or actor accepted, in bytes.
pub const MAX_CONTEXT_LEN: usize = 256;

/// Optional context stored in a mutation's journal record and shown in its
/// history: a correlation id tying it to a request, and the actor.
///
/// ```
/// use catalog_core::OpContext;
/// let ctx = OpContext::new().correlation_id("req-42").actor("provisioner@node-7");
/// assert_eq!(ctx.correlation_id.as_deref(), Some("req-42"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpContext {
    /// Request or trace id of the caller.
    pub correlation_id: Option<String>,
    /// Who made the change (service, user, host).
    pub actor: Option<String>,
}

impl OpContext {
    /// An empty context.
    pub fn new() -> Self {
        OpContext::default()
    }

    /// Sets the correlation id.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Checks the fields as every mutation does (each, if set: not empty,
    /// at most [`MAX_CONTEXT_LEN`] bytes, no control characters), so a
    /// caller can refuse bad input before doing anything else.
    ///
    /// ```
    /// use catalog_core::{Error, OpContext};
    /// assert!(OpContext::new().correlation_id("req-42").validate().is_ok());
    /// let err = OpContext::new().correlation_id("a\nb").validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { field: "correlation_id", .. }));
    /// ```
    pub fn validate(&self) -> crate::Result<()> {
        for (field, value) in [
            ("correlation_id", &self.correlation_id),
            ("actor", &self.actor),
        ] {
            if let Some(v) = value {
                crate::text_check::check_text(field, v, MAX_CONTEXT_LEN)?;
            }
        }
        Ok(())
    }
}
