//! The redaction rule: what a [`ModelRef`](super::ModelRef) never shows.
//!
//! Redaction by default, not by pattern list. In every parameter list of a
//! reference (a URL's query and fragment, the query and fragment of a `hf:`
//! in-repo path, and the path parameters after a `;` in a path segment):
//!
//! - a parameter keeps its name and its value becomes [`REDACTED`], unless
//!   the name is on the short list of known non-secrets, [`SHOWN_PARAMS`];
//! - an item without `=` (a bare value such as `?3f9c…` or `#key`) becomes
//!   [`REDACTED`] unless it is itself one of those names;
//! - items are separated by `&` or `;` (servers accept both), and an empty
//!   value stays empty: there is nothing to hide.
//!
//! URL user information is replaced by `***` by the URL writer, and token
//! shapes are scrubbed everywhere by [`super::tokens`]. Every replacement is
//! made of characters the part it replaces accepts, so a redacted form
//! parses, and redacting it again changes nothing.
use std::borrow::Cow;

/// What a parameter value (or a bare item) is replaced by.
pub(crate) const REDACTED: &str = "REDACTED";

/// Parameter names whose values are shown (compared case-insensitively,
/// after decoding `%XX` escapes). Each one names *which* artifact is meant,
/// never who may fetch it; the reasons are in `docs/MODEL_REF.md` §4.
pub(crate) const SHOWN_PARAMS: &[&str] = &[
    "branch", "dl", "download", "filename", "format", "raw", "ref", "revision",
];

/// Whether a parameter's value is shown.
pub(crate) fn is_shown_param(name: &str) -> bool {
    let name = percent_decode_lossy(name).to_ascii_lowercase();
    SHOWN_PARAMS.contains(&name.as_str())
}

/// Redacts a parameter list: items separated by `&` or `;`, each `name=value`
/// or a bare item.
pub(crate) fn redact_params(params: &str) -> String {
    let mut out = String::with_capacity(params.len());
    let mut rest = params;
    loop {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let (item, after) = rest.split_at(end);
        match item.split_once('=') {
            Some((name, value)) if value.is_empty() || is_shown_param(name) => {
                out.push_str(item);
            }
            Some((name, _)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            None if item.is_empty() || is_shown_param(item) => out.push_str(item),
            None => out.push_str(REDACTED),
        }
        let mut chars = after.chars();
        match chars.next() {
            Some(separator) => {
                out.push(separator);
                rest = chars.as_str();
            }
            None => return out,
        }
    }
}

/// Redacts the path parameters of a `/`-separated path: whatever follows
/// the first `;` of a segment is a parameter list.
pub(crate) fn redact_path_params(path: &str) -> String {
    if !path.contains(';') {
        return path.to_owned();
    }
    let redacted: Vec<String> = path
        .split('/')
        .map(|segment| match segment.split_once(';') {
            Some((name, params)) => format!("{name};{}", redact_params(params)),
            None => segment.to_owned(),
        })
        .collect();
    redacted.join("/")
}

/// Redacts a path inside a Hugging Face repository: a `#` starts a
/// fragment, a `?` before it a query, and segments may carry `;` path
/// parameters, as in a URL.
pub(crate) fn redact_in_repo_path(path: &str) -> Cow<'_, str> {
    if !path.contains(['#', '?', ';']) {
        // Nothing to redact (most paths): no copy.
        return Cow::Borrowed(path);
    }
    let (before_fragment, fragment) = match path.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (path, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    let mut out = redact_path_params(path);
    for (mark, part) in [('?', query), ('#', fragment)] {
        if let Some(part) = part {
            out.push(mark);
            out.push_str(&redact_params(part));
        }
    }
    Cow::Owned(out)
}

/// The part of some input that an error message may quote: everything
/// before the first character other than an ASCII letter, digit, `.`, `_`,
/// `-` or `/` (so never a query, fragment, parameter or user information),
/// and whether anything was cut.
pub(crate) fn quotable(text: &str) -> (&str, bool) {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    let end = text.find(|c: char| !plain(c)).unwrap_or(text.len());
    (text.get(..end).unwrap_or_default(), end < text.len())
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
    fn only_the_listed_names_show_their_values_in_any_case() {
        for name in SHOWN_PARAMS {
            assert!(is_shown_param(name), "{name}");
        }
        for name in ["Download", "REVISION", "dow%6Eload", "%72ef"] {
            assert!(is_shown_param(name), "{name} is a shown name");
        }
        for name in [
            "token",
            "x",
            "pass",
            "pw",
            "passphrase",
            "sig",
            "key",
            "v",
            "",
            "ref ",
            "refs",
            "download_token",
            "revisions",
        ] {
            assert!(!is_shown_param(name), "{name} is not a shown name");
        }
    }

    #[test]
    fn every_value_but_the_listed_ones_is_replaced() {
        assert_eq!(
            redact_params("a=1&token=abc&sig=&flag&download=1&X-Amz-Signature=f00"),
            "a=REDACTED&token=REDACTED&sig=&REDACTED&download=1&X-Amz-Signature=REDACTED"
        );
        assert_eq!(
            redact_params("download=1;token=s3cret;;x"),
            "download=1;token=REDACTED;;REDACTED"
        );
        assert_eq!(
            redact_params("=v&download&Raw=true"),
            "=REDACTED&download&Raw=true"
        );
        assert_eq!(redact_params(""), "");
        assert_eq!(redact_params("é=ü&ü"), "é=REDACTED&REDACTED");
    }

    #[test]
    fn path_parameters_are_redacted_in_every_segment() {
        assert_eq!(
            redact_path_params("/a;jsessionid=x1/b;v=2;k/c.gguf;download=1"),
            "/a;jsessionid=REDACTED/b;v=REDACTED;REDACTED/c.gguf;download=1"
        );
        assert_eq!(redact_path_params("/a//b"), "/a//b");
        assert_eq!(redact_path_params("/a;"), "/a;");
    }

    #[test]
    fn in_repo_paths_split_like_urls() {
        assert_eq!(
            redact_in_repo_path("q4/m.gguf?token=t&download=1#k"),
            "q4/m.gguf?token=REDACTED&download=1#REDACTED"
        );
        assert_eq!(redact_in_repo_path("a#b?c=d"), "a#b?c=REDACTED");
        assert_eq!(redact_in_repo_path("a;s=1/b?"), "a;s=REDACTED/b?");
        assert_eq!(redact_in_repo_path("plain/x.gguf"), "plain/x.gguf");
        assert!(matches!(
            redact_in_repo_path("plain/x.gguf"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        for text in [
            "a=1&b&=c&;&download=x=y",
            "q4/m.gguf;p=1?token=t#f=1&g",
            "a#/b=1",
        ] {
            let once = redact_in_repo_path(text);
            assert_eq!(redact_in_repo_path(&once), once, "{text}");
            let once = redact_params(text);
            assert_eq!(redact_params(&once), once, "{text}");
        }
    }

    #[test]
    fn only_plain_text_is_quotable() {
        assert_eq!(quotable("repo-1.v2/x_y"), ("repo-1.v2/x_y", false));
        assert_eq!(quotable("repo?token=s3cret"), ("repo", true));
        assert_eq!(quotable("u:pw@host"), ("u", true));
        assert_eq!(quotable("é"), ("", true));
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode_lossy("a%2Db%zz%4"), "a-b%zz%4");
        assert_eq!(percent_decode_lossy("%ff"), "\u{fffd}");
    }
}
