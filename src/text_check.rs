//! The check every stored text field passes: not empty, bounded, no
//! control characters. A leaf: entries, contexts and signature records use
//! it, and it imports only the error type.

use crate::error::{Error, Result};

/// Checks a non-empty text field of bounded length with no control characters.
pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(Error::invalid(
            field,
            format!("{} bytes, at most {max}", value.len()),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(
            field,
            format!("control character {c:?} is not allowed"),
        ));
    }
    Ok(())
}
