//! Model references: where a model came from.
//!
//! A [`ModelRef`] is parsed from one of these forms (the full grammar and
//! every rule, with examples, is in `docs/MODEL_REF.md`):
//!
//! | form | variant |
//! |---|---|
//! | `hf:org/repo`, `hf:org/repo@revision`, `hf:org/repo[@revision]/path/in/repo` | [`ModelRef::HuggingFace`] |
//! | `file:/abs/path`, `file:///abs/path`, `file://localhost/abs/path`, `/abs/path` | [`ModelRef::File`] |
//! | `models/x.gguf`, `./x.gguf` (only with [`ModelRef::parse_with_base`]) | [`ModelRef::File`] |
//! | `https://…`, `http://…`, `s3://bucket/key`, `oci://registry/repo:tag`, `oci://registry/repo@sha256:…` | [`ModelRef::Url`] |
//! | `ollama:registry.ollama.ai/library/llama3:8b`, `ollama:llama3:8b` | [`ModelRef::Ollama`] |
//!
//! # Validation
//!
//! Every refusal is [`Error::InvalidInput`] with `field: "model_ref"` and a
//! reason saying what is wrong and what is accepted; no input panics. Refused
//! anywhere: an empty input, more than 4096 bytes, control characters
//! (including NUL), Unicode bidirectional controls and line separators,
//! white space at either end, and `..` path segments. An input that looks
//! like `scheme:` with an unknown scheme is refused with the list of
//! supported ones (write `./a:b` for a relative path with a colon).
//!
//! # Normalization
//!
//! - Scheme prefixes are case-insensitive and written lowercase.
//! - Hugging Face org and repo names keep their case and compare exactly.
//! - Paths (file paths, relative paths, paths inside a Hugging Face repo):
//!   duplicate `/` collapsed, `.` segments removed, trailing `/` removed,
//!   `..` refused rather than resolved, backslashes refused. Relative paths
//!   are joined to the base directory, itself normalized the same way.
//! - URLs: host lowercased, default ports (http 80, https 443) and leading
//!   zeros dropped, trailing `/` removed; for http(s) and oci `.` segments
//!   are removed but duplicate `/` kept; an `s3://` key is kept as given
//!   minus its trailing `/`. No percent-decoding anywhere.
//!
//! # Redaction
//!
//! [`Display`](fmt::Display), [`Debug`](fmt::Debug),
//! [`ModelRef::canonical`] and [`ModelRef::default_id`] never show a
//! secret, and neither does any error message that quotes input. Redaction
//! is by default, not by pattern list:
//!
//! - URL user information is always shown as `***@`;
//! - in every parameter list (a URL's query and fragment, the query and
//!   fragment of a `hf:` in-repo path, the `;` path parameters of a path
//!   segment) each parameter keeps its name and its value becomes
//!   `REDACTED`, and a bare item becomes `REDACTED`, unless the name is one
//!   of `branch`, `dl`, `download`, `filename`, `format`, `raw`, `ref`,
//!   `revision`;
//! - well-known token shapes (Hugging Face `hf_…`, GitHub `ghp_…`,
//!   `github_pat_…` and kin, GitLab `glpat-…`, `sk-ant-…`/`sk-proj-…` API
//!   keys, JSON Web Tokens) become `<prefix>redacted` wherever they appear.
//!
//! The redacted form parses, and is its own canonical form. Error messages
//! never quote user information, ports or hosts, and quote other input only
//! up to its first character other than a letter, digit, `.`, `_`, `-` or
//! `/`. [`ModelUrl::expose_with_credentials`] is the one way to get the
//! secrets back, for a fetcher; [`ModelRef::redact_stored`] applies today's
//! rule to a `model_ref` stored by an older version.
//!
//! ```
//! use catalog_core::ModelRef;
//!
//! let r = ModelRef::parse("hf:org/repo@main/m.gguf?token=s3cret&download=1")?;
//! assert_eq!(r.canonical(), "hf:org/repo@main/m.gguf?token=REDACTED&download=1");
//! let r = ModelRef::parse("https://h/m.gguf;jsessionid=abc?x=1#key")?;
//! assert_eq!(r.canonical(), "https://h/m.gguf;jsessionid=REDACTED?x=REDACTED#REDACTED");
//! let err = ModelRef::parse("hf:org/repo?token=s3cret").unwrap_err();
//! assert!(!err.to_string().contains("s3cret"), "{err}");
//! # Ok::<(), catalog_core::Error>(())
//! ```

mod hf;
mod ollama;
mod path;
mod redact;
mod reference;
mod text;
mod tokens;
mod url;

pub use reference::ModelRef;
pub use url::ModelUrl;

pub(crate) use ollama::{Part as OllamaPart, check_part as check_ollama_part};

pub(crate) use tokens::scrub_tokens;

use crate::entry::{MAX_ID_LEN, MAX_PATH_LEN};
use crate::error::{Error, Result};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use text::{invalid, is_forbidden_char};

impl ModelRef {
    /// Parses a model reference. Relative paths are refused: use
    /// [`parse_with_base`](ModelRef::parse_with_base) for them.
    pub fn parse(input: &str) -> Result<ModelRef> {
        parse_inner(input, None)
    }

    /// Parses a model reference, resolving a relative path against `base`,
    /// which must be absolute (and is normalized like any other path). The
    /// other forms parse exactly as with [`parse`](ModelRef::parse).
    pub fn parse_with_base(input: &str, base: &Path) -> Result<ModelRef> {
        path::check_base(base)?;
        parse_inner(input, Some(base))
    }

    /// `"hf"`, `"file"`, `"url"` or `"ollama"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelRef::HuggingFace { .. } => "hf",
            ModelRef::File { .. } => "file",
            ModelRef::Url(_) => "url",
            ModelRef::Ollama { .. } => "ollama",
        }
    }

    /// A Hugging Face reference to commit `revision` of `org/repo` (as an
    /// adoption of a cache records it), checked like any `hf:` reference.
    ///
    /// ```
    /// use catalog_core::ModelRef;
    /// let r = ModelRef::hugging_face("Qwen", "Qwen2-0.5B", Some("refs/pr/1"))?;
    /// assert_eq!(r.canonical(), "hf:Qwen/Qwen2-0.5B@refs/pr/1");
    /// let r = ModelRef::hugging_face("o", "r", Some("feature/x"))?;
    /// assert_eq!(r.canonical(), "hf:o/r@feature%2Fx");
    /// # Ok::<(), catalog_core::Error>(())
    /// ```
    pub fn hugging_face(org: &str, repo: &str, revision: Option<&str>) -> Result<ModelRef> {
        hf::check_repo_id(&format!("{org}/{repo}"))?;
        if let Some(revision) = revision {
            hf::check_revision(revision)?;
        }
        let r = ModelRef::HuggingFace {
            org: org.to_owned(),
            repo: repo.to_owned(),
            revision: revision.map(str::to_owned),
            path: None,
        };
        // Whatever is built must parse back to itself.
        ModelRef::parse(&r.render(false))
    }

    /// An Ollama reference with every part given, checked like any
    /// `ollama:` reference.
    ///
    /// ```
    /// use catalog_core::ModelRef;
    /// let r = ModelRef::ollama("registry.ollama.ai", "library", "llama3", "8b")?;
    /// assert_eq!(r.canonical(), "ollama:registry.ollama.ai/library/llama3:8b");
    /// assert_eq!(r.default_id(), "llama3:8b");
    /// # Ok::<(), catalog_core::Error>(())
    /// ```
    pub fn ollama(host: &str, namespace: &str, model: &str, tag: &str) -> Result<ModelRef> {
        for (part, value) in [
            (OllamaPart::Host, host),
            (OllamaPart::Namespace, namespace),
            (OllamaPart::Model, model),
            (OllamaPart::Tag, tag),
        ] {
            check_ollama_part(part, value)?;
        }
        Ok(ModelRef::Ollama {
            host: host.to_owned(),
            namespace: namespace.to_owned(),
            model: model.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// Checks a Hugging Face repository id (`org/repo`) as the Hub reads it:
    /// huggingface_hub's `validate_repo_id`, except that a single-segment
    /// id (a legacy name such as `gpt2`) is refused, because in `hf:` the
    /// part after the repository is the path inside it.
    ///
    /// ```
    /// use catalog_core::ModelRef;
    /// assert!(ModelRef::check_hf_repo_id("meta-llama/Meta-Llama-3-8B").is_ok());
    /// for bad in ["gpt2", "org/repo.git", "org--x/r", "a/b/c", "-org/r"] {
    ///     assert!(ModelRef::check_hf_repo_id(bad).is_err(), "{bad}");
    /// }
    /// ```
    pub fn check_hf_repo_id(repo_id: &str) -> Result<()> {
        hf::check_repo_id(repo_id)
    }

    /// The normalized, redacted string form, the same as `Display`: at most
    /// 4096 bytes, no control characters. When [`has_secrets`] is false,
    /// parsing it gives back an equal `ModelRef`.
    ///
    /// [`has_secrets`]: ModelRef::has_secrets
    pub fn canonical(&self) -> String {
        self.render(true)
    }

    /// Whether redaction hides anything (user information, a parameter
    /// value or bare item, or a token shape), so that [`canonical`] does not
    /// parse back to an equal reference.
    ///
    /// [`canonical`]: ModelRef::canonical
    pub fn has_secrets(&self) -> bool {
        self.render(true) != self.render(false)
    }

    /// A suggested catalog id, valid for the catalog (1 to 256 bytes, no
    /// control characters, no white space at either end) and redacted:
    ///
    /// - `hf:org/repo` → `org--repo`; a revision adds `@revision`; an
    ///   in-repo path adds `--` and the path with each `/` as `--`
    ///   (`hf:o/r@v1/q4/m.gguf` → `o--r@v1--q4--m.gguf`);
    /// - a file → its file name;
    /// - a URL → its last path segment, else its host.
    ///
    /// Longer ids are cut to 256 bytes (on a character boundary).
    pub fn default_id(&self) -> String {
        let raw = match self {
            ModelRef::HuggingFace {
                org,
                repo,
                revision,
                path,
            } => {
                let path = path.as_deref().map(redact::redact_in_repo_path);
                hf::default_id(org, repo, revision.as_deref(), path.as_deref())
            }
            ModelRef::File { path } => path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ModelRef::Url(url) => url.id_hint(),
            ModelRef::Ollama {
                host,
                namespace,
                model,
                tag,
            } => ollama::default_id(host, namespace, model, tag),
        };
        let mut id = tokens::scrub_tokens(&raw);
        let mut end = id.len().min(MAX_ID_LEN);
        while !id.is_char_boundary(end) {
            end -= 1;
        }
        id.truncate(end);
        match id.trim() {
            "" => "model".to_owned(),
            trimmed => trimmed.to_owned(),
        }
    }

    /// A stored `model_ref` as it may be shown today. The rule has grown
    /// stricter over versions, so a journal written by an older one can hold
    /// a parameter value or token shape that today's rule hides: the text is
    /// parsed and its current canonical form returned. Text that does not
    /// parse is cut before its first character other than an ASCII letter,
    /// digit, `.`, `_`, `-` or `/` (and token shapes are scrubbed).
    ///
    /// ```
    /// use catalog_core::ModelRef;
    ///
    /// // Stored verbatim by a version that only hid secret-looking names.
    /// let old = "hf:org/repo/m.gguf?token=s3cret&x=abc";
    /// assert_eq!(ModelRef::redact_stored(old), "hf:org/repo/m.gguf?token=REDACTED&x=REDACTED");
    /// assert_eq!(ModelRef::redact_stored("bad://u:s3cret@h"), "bad…");
    /// ```
    pub fn redact_stored(stored: &str) -> String {
        match ModelRef::parse(stored) {
            Ok(r) => r.canonical(),
            Err(_) => {
                let (plain, cut) = redact::quotable(stored);
                let mut shown = tokens::scrub_tokens(plain);
                if cut {
                    shown.push('…');
                }
                shown
            }
        }
    }

    /// Whether `stored`, a `model_ref` as stored by this or an older
    /// version, names the reference whose canonical form is `canonical`.
    /// Only text that today's rule could redact further (a `?`, `#` or `;`,
    /// or a token shape) is parsed again.
    pub(crate) fn stored_matches(stored: &str, canonical: &str) -> bool {
        stored == canonical || ModelRef::stored_redacted(stored).is_some_and(|r| r == canonical)
    }

    /// The other canonical form `stored` matches (see
    /// [`ModelRef::stored_matches`]): today's redaction of it, if that
    /// differs from it. Only text that today's rule could redact further (a
    /// `?`, `#` or `;`, or a token shape) is parsed again.
    pub(crate) fn stored_redacted(stored: &str) -> Option<String> {
        let may_differ = stored.contains(['?', '#', ';']) || tokens::scrub_tokens(stored) != stored;
        if !may_differ {
            return None;
        }
        let redacted = ModelRef::redact_stored(stored);
        (redacted != stored).then_some(redacted)
    }

    /// The string form, redacted unless `redact` is false.
    /// `render(false).len()` where it is cheap to know without rendering
    /// (a Hub reference); `None` otherwise.
    fn plain_len(&self) -> Option<usize> {
        match self {
            ModelRef::HuggingFace {
                org,
                repo,
                revision,
                path,
            } => Some(
                "hf:".len()
                    + org.len()
                    + 1
                    + repo.len()
                    + revision
                        .as_deref()
                        .map_or(0, |r| 1 + hf::encoded_revision_len(r))
                    + path.as_ref().map_or(0, |p| 1 + p.len()),
            ),
            _ => None,
        }
    }

    fn render(&self, redact: bool) -> String {
        let text = match self {
            ModelRef::HuggingFace {
                org,
                repo,
                revision,
                path,
            } => {
                let mut text = String::with_capacity(
                    8 + org.len()
                        + repo.len()
                        + revision.as_ref().map_or(0, |r| r.len() + 1)
                        + path.as_ref().map_or(0, |p| p.len() + 1),
                );
                text.push_str("hf:");
                text.push_str(org);
                text.push('/');
                text.push_str(repo);
                if let Some(revision) = revision {
                    text.push('@');
                    text.push_str(&hf::encode_revision(revision));
                }
                if let Some(path) = path {
                    text.push('/');
                    if redact {
                        text.push_str(&redact::redact_in_repo_path(path));
                    } else {
                        text.push_str(path);
                    }
                }
                text
            }
            ModelRef::File { path } => format!("file:{}", path.display()),
            ModelRef::Url(url) => return url.render(redact),
            ModelRef::Ollama {
                host,
                namespace,
                model,
                tag,
            } => ollama::render(host, namespace, model, tag),
        };
        if redact && let std::borrow::Cow::Owned(scrubbed) = tokens::scrubbed(&text) {
            scrubbed
        } else {
            text
        }
    }
}

impl FromStr for ModelRef {
    type Err = Error;

    /// Same as [`ModelRef::parse`].
    fn from_str(input: &str) -> Result<ModelRef> {
        ModelRef::parse(input)
    }
}

impl fmt::Display for ModelRef {
    /// The [canonical](ModelRef::canonical), redacted form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl fmt::Debug for ModelRef {
    /// `ModelRef("hf:org/repo")`, redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ModelRef").field(&self.canonical()).finish()
    }
}

/// `docs/MODEL_REF.md`'s example, run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/MODEL_REF.md")]
struct ModelRefDocDoctests;

/// The parser behind [`ModelRef::parse`] and [`ModelRef::parse_with_base`].
fn parse_inner(input: &str, base: Option<&Path>) -> Result<ModelRef> {
    let parsed = parse_form(input, base)?;
    check_rendered(&parsed)?;
    Ok(parsed)
}

/// Parses one of the forms, without the checks of [`check_rendered`].
fn parse_form(input: &str, base: Option<&Path>) -> Result<ModelRef> {
    check_input(input)?;
    let parsed = match split_scheme(input) {
        Some((scheme, rest)) => match scheme {
            s if s.eq_ignore_ascii_case("hf") => hf::parse(rest)?,
            s if s.eq_ignore_ascii_case("file") => parse_file(rest)?,
            s if s.eq_ignore_ascii_case("http") => ModelRef::Url(url::parse("http", rest)?),
            s if s.eq_ignore_ascii_case("https") => ModelRef::Url(url::parse("https", rest)?),
            s if s.eq_ignore_ascii_case("s3") => ModelRef::Url(url::parse("s3", rest)?),
            s if s.eq_ignore_ascii_case("oci") => ModelRef::Url(url::parse("oci", rest)?),
            s if s.eq_ignore_ascii_case("ollama") => ollama::parse(rest)?,
            other => {
                let other = other.to_ascii_lowercase();
                // Quote the scheme only when it is followed by `//`: before a
                // lone `:` it may be a user name (`user:password@host`).
                let named = if rest.starts_with("//") && other.len() <= 16 {
                    format!(" `{other}:`")
                } else {
                    String::new()
                };
                return Err(invalid(format!(
                    "unknown scheme{named}; supported are {SUPPORTED} (write `./a:b` \
                     for a relative path that contains a colon)"
                )));
            }
        },
        None if input.starts_with('/') => ModelRef::File {
            path: path::absolute("the file path", input)?,
        },
        None => match base {
            Some(base) => ModelRef::File {
                path: path::resolve(input, base)?,
            },
            None => {
                return Err(invalid(
                    "this is a relative path; use ModelRef::parse_with_base to resolve it \
                     against a directory, or give an absolute path (`/…` or `file:/…`); \
                     a Hugging Face repository is written hf:org/repo",
                ));
            }
        },
    };
    Ok(parsed)
}

/// The checks a parsed reference passes as a whole: both of its forms fit
/// the length limit. Returns the canonical (redacted) form, which a caller
/// storing the reference needs anyway.
fn check_rendered(parsed: &ModelRef) -> Result<String> {
    let canonical = parsed.render(true);
    let plain = parsed
        .plain_len()
        .unwrap_or_else(|| parsed.render(false).len());
    let longest = plain.max(canonical.len());
    if longest > MAX_PATH_LEN {
        return Err(invalid(format!(
            "the normalized reference would be {longest} bytes long, at most {MAX_PATH_LEN}"
        )));
    }
    Ok(canonical)
}

/// [`ModelRef::parse`] followed by [`ModelRef::canonical`], rendering the
/// canonical form once (a put stores only that).
pub(crate) fn parse_canonical(input: &str) -> Result<String> {
    check_rendered(&parse_form(input, None)?)
}

/// The forms accepted, for error messages.
const SUPPORTED: &str = "hf:org/repo, file:/abs/path, an absolute path, a relative path \
                         (with a base directory), http://, https://, s3://, oci:// and \
                         ollama:model:tag";

/// Checks that apply to every form, before anything else is looked at.
fn check_input(input: &str) -> Result<()> {
    if input.is_empty() {
        return Err(invalid(format!(
            "the reference is empty; give one of {SUPPORTED}"
        )));
    }
    if input.len() > MAX_PATH_LEN {
        return Err(invalid(format!(
            "the reference is {} bytes long, at most {MAX_PATH_LEN}",
            input.len()
        )));
    }
    if let Some((at, c)) = input.char_indices().find(|&(_, c)| is_forbidden_char(c)) {
        return Err(invalid(format!(
            "control character U+{:04X} at byte {at} is not allowed",
            u32::from(c)
        )));
    }
    if input.trim() != input {
        return Err(invalid("white space at either end is not allowed; trim it"));
    }
    Ok(())
}

/// Splits `scheme:rest` when the text before the first `:` is a URI scheme
/// (`[A-Za-z][A-Za-z0-9+.-]*`).
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// Parses what follows `file:`.
fn parse_file(rest: &str) -> Result<ModelRef> {
    let what = "the file path";
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = after.split_at(after.find('/').unwrap_or(after.len()));
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return Err(invalid(
                    "a file: URL may only name the local host: write file:///abs/path, \
                     file://localhost/abs/path or file:/abs/path",
                ));
            }
            path
        }
        None => rest,
    };
    if path.is_empty() {
        return Err(invalid(
            "file: needs an absolute path after it: file:/abs/path",
        ));
    }
    if !path.starts_with('/') {
        return Err(invalid(
            "file: needs an absolute path (file:/abs/path); for a path relative to a \
             directory, leave out `file:` and use ModelRef::parse_with_base",
        ));
    }
    Ok(ModelRef::File {
        path: path::absolute(what, path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::text::{quote, quote_after};
    use super::*;
    use crate::entry::check_id;

    #[test]
    fn schemes_are_split_only_when_they_look_like_schemes() {
        assert_eq!(split_scheme("HF:o/r"), Some(("HF", "o/r")));
        assert_eq!(split_scheme("s3://b"), Some(("s3", "//b")));
        assert_eq!(split_scheme("git+ssh://x"), Some(("git+ssh", "//x")));
        for none in ["/a:b", "./a:b", ":x", "1a:b", "a_b:c", "no-colon"] {
            assert_eq!(split_scheme(none), None, "{none}");
        }
    }

    #[test]
    fn the_plain_length_of_a_hub_reference_is_its_rendering_length() {
        for text in [
            "hf:o/r",
            "hf:Org/Repo@main",
            "hf:o/r@feature%2Fx%2Fy/q4/m.gguf",
            "hf:o/r@refs/pr/12/a.gguf",
            "hf:o/r@refs/convert/parquet",
            "hf:o/r/m.gguf?token=hf_abcdefghijklmnopqrstuvwx&download=1#k",
            "hf:o/r/a;s=1/b.gguf",
            "hf:o/r@v1/é/ü.gguf",
        ] {
            let parsed = ModelRef::parse(text).expect(text);
            assert_eq!(
                parsed.plain_len(),
                Some(parsed.render(false).len()),
                "{text}"
            );
        }
        let file = ModelRef::parse("/srv/m.gguf").expect("a file");
        assert_eq!(file.plain_len(), None);
    }

    #[test]
    fn forbidden_characters_include_controls_and_bidi_overrides() {
        for c in [
            '\0', '\n', '\u{7f}', '\u{85}', '\u{202E}', '\u{2066}', '\u{2028}', '\u{FEFF}',
        ] {
            assert!(is_forbidden_char(c), "{c:?}");
        }
        for c in ['a', ' ', 'é', '\u{00A0}', '/'] {
            assert!(!is_forbidden_char(c), "{c:?}");
        }
    }

    #[test]
    fn quoting_keeps_only_plain_text_scrubs_tokens_and_cuts_long_text() {
        assert_eq!(quote("org"), "`org`");
        assert_eq!(quote("hf_abcdefghijklmnopqrstuvwxyz"), "`hf_redacted`");
        assert_eq!(quote("repo?token=s3cret"), "`repo…`");
        assert_eq!(quote("main#k"), "`main…`");
        assert_eq!(quote("u:pw@h"), "`u…`");
        assert_eq!(quote_after("hf:", "org;p=s3cret"), "`hf:org…`");
        assert_eq!(quote("é"), "`…`");
        let long = quote(&"x".repeat(100));
        assert_eq!(long.chars().count(), 64 + 3, "{long}");
    }

    #[test]
    fn stored_references_are_shown_with_todays_rule() {
        for (stored, shown) in [
            ("hf:o/r", "hf:o/r"),
            ("hf:o/r/m.gguf?token=abc", "hf:o/r/m.gguf?token=REDACTED"),
            (
                "https://h/x?v=1&download=1",
                "https://h/x?v=REDACTED&download=1",
            ),
            (
                "https://***@h/x?token=REDACTED",
                "https://***@h/x?token=REDACTED",
            ),
            (
                "https://h/ghp_abcdefghijklmnopqrstuvwxyz0123456789/x",
                "https://h/ghp_redacted/x",
            ),
            ("not a reference?x=s3cret", "not…"),
            ("", ""),
        ] {
            assert_eq!(ModelRef::redact_stored(stored), shown, "{stored}");
        }
    }

    #[test]
    fn stored_references_match_the_canonical_form_of_today() {
        let canonical = |s: &str| ModelRef::parse(s).expect(s).canonical();
        let today = canonical("https://h/x?v=2&download=1");
        assert!(ModelRef::stored_matches(&today, &today));
        assert!(ModelRef::stored_matches(
            "https://h/x?v=1&download=1",
            &today
        ));
        assert!(!ModelRef::stored_matches("https://h/x?v=1", &today));
        assert!(!ModelRef::stored_matches("https://h/y", &today));
        let today = canonical("hf:o/r@ghp_abcdefghijklmnopqrstuvwxyz0123456789");
        assert!(ModelRef::stored_matches(
            "hf:o/r@ghp_zyxwvutsrqponmlkjihgfedcba9876543210",
            &today
        ));
        assert!(!ModelRef::stored_matches("hf:o/r@main", &today));
    }

    #[test]
    fn default_ids_always_pass_the_catalog_id_check() {
        let long_name = format!("/m/{}", "é".repeat(300));
        let inputs = [
            "hf:o/r",
            "hf:o/r@v/a/b.gguf",
            "/models/x.gguf",
            "/x/ a",
            "https://h",
            "https://h/a/b/",
            "s3://bucket",
            "oci://r/repo:tag",
            long_name.as_str(),
        ];
        for input in inputs {
            let r = ModelRef::parse(input).expect(input);
            let id = r.default_id();
            assert!(check_id(&id).is_ok(), "{input} -> {id:?}");
        }
        let r = ModelRef::parse(&long_name).expect("valid");
        assert_eq!(r.default_id().len(), MAX_ID_LEN - MAX_ID_LEN % 2);
        assert_eq!(ModelRef::parse("/x/ a").expect("valid").default_id(), "a");
        assert!(
            ModelRef::parse("/x/ /.").is_err(),
            "the file name would end in a space"
        );
    }

    #[test]
    fn the_normalized_form_is_bounded_too() {
        let base = format!("/{}", "b".repeat(MAX_PATH_LEN - 2));
        let err = ModelRef::parse_with_base("xy", Path::new(&base)).expect_err("too long");
        assert!(matches!(
            err,
            Error::InvalidInput {
                field: "model_ref",
                ..
            }
        ));
        let query = format!("https://h/?{}", "sig=a&".repeat(600));
        assert!(query.len() <= MAX_PATH_LEN);
        assert!(
            ModelRef::parse(&query).is_err(),
            "redaction would pass 4096 bytes"
        );
    }
}
