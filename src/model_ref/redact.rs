//! Keeping secrets out of everything a [`ModelRef`](super::ModelRef) shows.
//!
//! Two rules, applied to every string a reference displays (and to error
//! messages that quote part of the input):
//!
//! - a query (or fragment) parameter whose name looks secret keeps its name
//!   and has its value replaced by [`REDACTED`] ([`is_secret_param`]);
//! - anything shaped like a Hugging Face access token, `hf_` followed by 20
//!   or more ASCII letters and digits, becomes [`HF_TOKEN_REDACTED`]
//!   ([`scrub_tokens`]), wherever it appears.
//!
//! URL user information is replaced by `***` by the URL writer itself.

/// What a secret parameter value is replaced by.
pub(crate) const REDACTED: &str = "REDACTED";

/// What a Hugging Face token is replaced by. Lowercase and made of
/// characters every part of a reference accepts, so a redacted canonical
/// form still parses (to a reference that differs from the original).
pub(crate) const HF_TOKEN_REDACTED: &str = "hf_redacted";

/// Fewest characters after `hf_` for a run to count as a token.
const HF_TOKEN_MIN_TAIL: usize = 20;

/// Parameter names (lowercase) that are secret however short or generic:
/// credentials, and the AWS, GCS and Azure presigned-URL parameters.
const SECRET_NAMES: &[&str] = &[
    "auth",
    "sig",
    "pwd",
    "passwd",
    "sas",
    "code",
    "sv",
    "se",
    "sp",
    "skoid",
    "sktid",
    "session",
    "sessionid",
    "jwt",
    "bearer",
];

/// Parameter names containing any of these (lowercase) are secret.
const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "signature",
    "credential",
    "key",
    "authorization",
];

/// Whether a query parameter name (compared case-insensitively, after
/// decoding `%XX` escapes) is treated as secret.
pub(crate) fn is_secret_param(name: &str) -> bool {
    let name = percent_decode_lossy(name).to_ascii_lowercase();
    SECRET_NAMES.contains(&name.as_str()) || SECRET_PARTS.iter().any(|part| name.contains(part))
}

/// Writes an `a=1&b=2` list with the values of secret parameters replaced.
/// An empty value stays empty: there is nothing to hide.
pub(crate) fn redact_params(params: &str) -> String {
    let mut out = String::with_capacity(params.len());
    for (i, pair) in params.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_param(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Replaces every Hugging Face token shape (`hf_` and 20 or more ASCII
/// letters or digits) by [`HF_TOKEN_REDACTED`].
pub(crate) fn scrub_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("hf_") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let tail = from.get(3..).unwrap_or("");
        let run = tail.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if run >= HF_TOKEN_MIN_TAIL {
            out.push_str(HF_TOKEN_REDACTED);
            rest = tail.get(run..).unwrap_or("");
        } else {
            out.push_str("hf_");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Decodes `%XX` escapes where they form valid UTF-8 and leaves anything
/// else as it was. Only used to compare parameter names.
fn percent_decode_lossy(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push((hi << 4) | lo);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameter_names_are_recognised_in_any_case() {
        for name in [
            "token",
            "access_token",
            "X-Amz-Signature",
            "X-Amz-Credential",
            "x-amz-security-token",
            "X-Goog-Signature",
            "sig",
            "SV",
            "se",
            "sp",
            "api_key",
            "apikey",
            "KEY",
            "password",
            "client_secret",
            "Authorization",
            "x%2Damz%2Dsignature",
            "%74oken",
        ] {
            assert!(is_secret_param(name), "{name} should be secret");
        }
        for name in [
            "revision",
            "download",
            "x-amz-date",
            "version",
            "s",
            "format",
        ] {
            assert!(!is_secret_param(name), "{name} should not be secret");
        }
    }

    #[test]
    fn only_non_empty_secret_values_are_replaced() {
        assert_eq!(
            redact_params("a=1&token=abc&sig=&flag&X-Amz-Signature=f00"),
            "a=1&token=REDACTED&sig=&flag&X-Amz-Signature=REDACTED"
        );
        assert_eq!(redact_params(""), "");
        assert_eq!(redact_params("token"), "token");
    }

    #[test]
    fn hugging_face_token_shapes_are_scrubbed_everywhere() {
        let token = "hf_abcdefghijKLMNOPQRST0123";
        assert_eq!(scrub_tokens(token), "hf_redacted");
        assert_eq!(
            scrub_tokens(&format!("x{token}.y/{token}")),
            "xhf_redacted.y/hf_redacted"
        );
        // Too short, or not followed by letters and digits: left alone.
        assert_eq!(scrub_tokens("hf_short hf_ hf"), "hf_short hf_ hf");
        assert_eq!(
            scrub_tokens("hf_hf_abcdefghijklmnopqrstu"),
            "hf_hf_redacted"
        );
        // Idempotent: the replacement is not itself a token shape.
        assert_eq!(scrub_tokens("hf_redacted"), "hf_redacted");
        assert_eq!(scrub_tokens("é hf_€"), "é hf_€");
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode_lossy("a%2Db%zz%4"), "a-b%zz%4");
        assert_eq!(percent_decode_lossy("%ff"), "\u{fffd}");
    }
}
