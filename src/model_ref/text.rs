//! Text rules every parser of a reference shares: which characters are
//! refused, the error for a refused reference, and how input is quoted in
//! it (token shapes scrubbed).

use super::{redact, tokens};
use crate::error::Error;

/// Control characters (NUL included), bidirectional-text controls, the
/// line and paragraph separators and the byte order mark: characters that
/// would corrupt or disguise a log line or terminal output.
pub(super) fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        )
}

/// The crate's error for a refused model reference. Any token shape in the
/// reason is scrubbed.
pub(super) fn invalid(reason: impl Into<String>) -> Error {
    Error::invalid("model_ref", tokens::scrub_tokens(&reason.into()))
}

/// Quotes part of the input for an error message: only its plain start
/// (letters, digits, `.`, `_`, `-`, `/`; never a query, fragment, parameter
/// or user information), token shapes scrubbed, at most 64 characters, `…`
/// where anything was left out.
pub(super) fn quote(text: &str) -> String {
    quote_after("", text)
}

/// [`quote`], with `literal` (not input) written before the quoted text.
pub(super) fn quote_after(literal: &str, text: &str) -> String {
    const MAX_QUOTED_CHARS: usize = 64;
    let (plain, cut) = redact::quotable(text);
    let scrubbed = tokens::scrub_tokens(plain);
    let mut quoted: String = scrubbed.chars().take(MAX_QUOTED_CHARS).collect();
    if cut || scrubbed.chars().nth(MAX_QUOTED_CHARS).is_some() {
        quoted.push('…');
    }
    format!("`{literal}{quoted}`")
}
