//! Well-known access-token shapes, replaced wherever they appear: in any
//! part of a displayed reference, in a suggested id and in every error
//! message that quotes input.
//!
//! | shape | issued by | shown as |
//! |---|---|---|
//! | `hf_` + 20 or more letters or digits | Hugging Face access tokens | `hf_redacted` |
//! | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 20 or more letters or digits | GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens | the prefix + `redacted` |
//! | `github_pat_` + 20 or more letters, digits or `_` | GitHub fine-grained personal access tokens | `github_pat_redacted` |
//! | `glpat-` + 20 or more letters, digits, `_` or `-` | GitLab personal access tokens | `glpat-redacted` |
//! | `sk-ant-`, `sk-proj-` + 20 or more letters, digits, `_` or `-` | Anthropic and OpenAI API keys | the prefix + `redacted` |
//! | `eyJ…` `.` `eyJ…`, optionally `.` and a signature | JSON Web Tokens (bearer tokens) | `jwt_redacted` |
//!
//! Every replacement is lowercase, made of characters that every part of a
//! reference accepts (a Hub name, a revision, a host label, an OCI
//! repository or tag, a path), shorter than what it replaces and not itself
//! a token shape, so a redacted form still parses and redacting it again
//! changes nothing.

use std::borrow::Cow;

/// One prefix-and-tail token shape.
struct Shape {
    prefix: &'static str,
    /// Whether a byte may continue the token after its prefix.
    tail: fn(u8) -> bool,
    replacement: &'static str,
}

/// Fewest tail bytes for a run to count as a token. Real tokens are longer
/// (GitHub 36, Hugging Face 34, GitLab 20, API keys 40 and more).
const MIN_TAIL: usize = 20;

/// Fewest base64url bytes in each of a JSON Web Token's first two parts
/// after their `eyJ` (the encoding of `{"`).
const MIN_JWT_PART: usize = 8;

/// What a JSON Web Token is shown as.
const JWT_REDACTED: &str = "jwt_redacted";

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn alnum_underscore(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The shapes, in the order they are tried at each position.
const SHAPES: &[Shape] = &[
    Shape {
        prefix: "hf_",
        tail: alnum,
        replacement: "hf_redacted",
    },
    Shape {
        prefix: "ghp_",
        tail: alnum,
        replacement: "ghp_redacted",
    },
    Shape {
        prefix: "gho_",
        tail: alnum,
        replacement: "gho_redacted",
    },
    Shape {
        prefix: "ghu_",
        tail: alnum,
        replacement: "ghu_redacted",
    },
    Shape {
        prefix: "ghs_",
        tail: alnum,
        replacement: "ghs_redacted",
    },
    Shape {
        prefix: "ghr_",
        tail: alnum,
        replacement: "ghr_redacted",
    },
    Shape {
        prefix: "github_pat_",
        tail: alnum_underscore,
        replacement: "github_pat_redacted",
    },
    Shape {
        prefix: "glpat-",
        tail: base64url,
        replacement: "glpat-redacted",
    },
    Shape {
        prefix: "sk-ant-",
        tail: base64url,
        replacement: "sk-ant-redacted",
    },
    Shape {
        prefix: "sk-proj-",
        tail: base64url,
        replacement: "sk-proj-redacted",
    },
];

/// Replaces every token shape in `text` (see the module docs).
pub(crate) fn scrub_tokens(text: &str) -> String {
    scrubbed(text).into_owned()
}

/// [`scrub_tokens`], borrowing `text` when it holds no token (most text):
/// no copy is made.
pub(crate) fn scrubbed(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        match token_at(bytes, at) {
            Some((end, replacement)) => {
                // Tokens start and end on ASCII bytes: both are char boundaries.
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push_str(replacement);
                copied = end;
                at = end;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// The bytes a token can start with: the first byte of every shape's
/// prefix, and the `e` of a JSON Web Token's `eyJ`. Most bytes of a
/// reference are none of them, and are passed over with one table lookup.
const STARTS: [bool; 256] = {
    let mut starts = [false; 256];
    let mut i = 0;
    while i < SHAPES.len() {
        starts[SHAPES[i].prefix.as_bytes()[0] as usize] = true;
        i += 1;
    }
    starts[b'e' as usize] = true;
    starts
};

/// The end of the token starting at `at`, and its replacement.
fn token_at(bytes: &[u8], at: usize) -> Option<(usize, &'static str)> {
    let rest = bytes.get(at..)?;
    if !STARTS[usize::from(*rest.first()?)] {
        return None;
    }
    for shape in SHAPES {
        if let Some(tail) = rest.strip_prefix(shape.prefix.as_bytes()) {
            let run = run_len(tail, shape.tail);
            if run >= MIN_TAIL {
                return Some((at + shape.prefix.len() + run, shape.replacement));
            }
        }
    }
    jwt_len(rest).map(|len| (at + len, JWT_REDACTED))
}

/// How many leading bytes of `bytes` satisfy `ok`.
fn run_len(bytes: &[u8], ok: fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&b| ok(b)).count()
}

/// The length of a JSON Web Token at the start of `bytes`:
/// `eyJ<8+ base64url>.eyJ<8+ base64url>`, then `.<signature>` if present.
fn jwt_len(bytes: &[u8]) -> Option<usize> {
    let mut len = 0;
    for part in 0..2 {
        if part == 1 {
            bytes.get(len).filter(|&&b| b == b'.')?;
            len += 1;
        }
        bytes.get(len..)?.strip_prefix(b"eyJ")?;
        len += 3;
        let run = run_len(bytes.get(len..)?, base64url);
        if run < MIN_JWT_PART {
            return None;
        }
        len += run;
    }
    if bytes.get(len) == Some(&b'.') {
        len += 1 + run_len(bytes.get(len + 1..).unwrap_or_default(), base64url);
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HF: &str = "hf_abcdefghijKLMNOPQRST0123";
    const GHP: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl-_x";

    #[test]
    fn hugging_face_token_shapes_are_scrubbed_everywhere() {
        assert_eq!(scrub_tokens(HF), "hf_redacted");
        assert_eq!(
            scrub_tokens(&format!("x{HF}.y/{HF}")),
            "xhf_redacted.y/hf_redacted"
        );
        // Too short, or not followed by letters and digits: left alone.
        assert_eq!(scrub_tokens("hf_short hf_ hf"), "hf_short hf_ hf");
        assert_eq!(
            scrub_tokens("hf_hf_abcdefghijklmnopqrstu"),
            "hf_hf_redacted"
        );
        assert_eq!(scrub_tokens("é hf_€"), "é hf_€");
    }

    #[test]
    fn every_listed_shape_is_replaced_by_its_prefix_and_redacted() {
        for (token, shown) in [
            (GHP, "ghp_redacted"),
            ("gho_abcdefghijklmnopqrstuvwxyz", "gho_redacted"),
            ("ghu_abcdefghijklmnopqrstuvwxyz", "ghu_redacted"),
            ("ghs_abcdefghijklmnopqrstuvwxyz", "ghs_redacted"),
            ("ghr_abcdefghijklmnopqrstuvwxyz", "ghr_redacted"),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                "github_pat_redacted",
            ),
            ("glpat-abcdefghij-KLMNOPQRST", "glpat-redacted"),
            ("sk-ant-api03-abcdefghijklmnopqrstuv", "sk-ant-redacted"),
            ("sk-proj-abcdefghijklmnopqrstuv_wx-yz", "sk-proj-redacted"),
            (JWT, "jwt_redacted"),
        ] {
            assert_eq!(scrub_tokens(token), shown, "{token}");
            assert_eq!(
                scrub_tokens(&format!("/a/{token}/b.gguf")),
                format!("/a/{shown}/b.gguf"),
                "{token} inside a path"
            );
        }
    }

    #[test]
    fn look_alikes_are_left_alone() {
        for text in [
            "ghp_short",
            "task-specific-model",
            "sk-abcdefghijklmnopqrstuvwxyz",
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJhbGciOiJIUzI1NiJ9.notjwtpayload",
            "eyJa.eyJb.c",
            "github_pat_short",
        ] {
            assert_eq!(scrub_tokens(text), text);
        }
        // A prefix inside a word still counts: over-redacting a name costs
        // readability, never a leak.
        assert_eq!(
            scrub_tokens("risk-ant-abcdefghijklmnopqrstuvwxyz"),
            "risk-ant-redacted"
        );
    }

    #[test]
    fn text_without_a_token_is_borrowed_not_copied() {
        assert!(matches!(scrubbed("hf:org/repo/m.gguf"), Cow::Borrowed(_)));
        assert!(matches!(scrubbed(""), Cow::Borrowed(_)));
        assert_eq!(scrubbed(HF), Cow::<str>::Owned("hf_redacted".into()));
        // A token at the very start leaves nothing before it to copy.
        assert_eq!(scrubbed(&format!("{HF}/x")), "hf_redacted/x");
    }

    #[test]
    fn only_the_first_bytes_of_shapes_start_a_token() {
        let firsts: Vec<u8> = SHAPES
            .iter()
            .map(|s| s.prefix.as_bytes()[0])
            .chain([b'e'])
            .collect();
        for b in 0..=255u8 {
            assert_eq!(STARTS[usize::from(b)], firsts.contains(&b), "byte {b}");
        }
    }

    #[test]
    fn scrubbing_is_idempotent_and_never_leaves_a_shape() {
        let text = format!("{HF}/{GHP}?q={JWT}&x=sk-ant-{HF}#glpat-{GHP}");
        let once = scrub_tokens(&text);
        assert_eq!(scrub_tokens(&once), once);
        for secret in ["abcdefghij", "0123456789abcdef", "hbGciOiJIUzI1"] {
            assert!(!once.contains(secret), "{once}");
        }
        for shape in SHAPES {
            assert_eq!(scrub_tokens(shape.replacement), shape.replacement);
            assert!(shape.replacement.len() < shape.prefix.len() + MIN_TAIL);
        }
        assert_eq!(scrub_tokens(JWT_REDACTED), JWT_REDACTED);
    }
}
