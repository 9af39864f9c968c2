//! The redaction rule of `docs/MODEL_REF.md` §4, as canonical forms:
//! every parameter value (query, fragment, path parameter, `hf:` in-repo
//! path) is `REDACTED` unless its name is on the short allow-list; user
//! information is `***`; token shapes are replaced wherever they are. The
//! redacted form parses and is its own canonical form.

use catalog_core::{Error, ModelRef};
use proptest::prelude::*;

fn parse(input: &str) -> ModelRef {
    ModelRef::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

/// Everything a reference shows without being asked for its secrets.
fn shown(r: &ModelRef) -> [String; 4] {
    [
        r.to_string(),
        format!("{r:?}"),
        r.canonical(),
        r.default_id(),
    ]
}

const ALLOW_LISTED: [&str; 8] = [
    "branch", "dl", "download", "filename", "format", "raw", "ref", "revision",
];

#[test]
fn values_are_redacted_by_default() {
    let table: &[(&str, &str)] = &[
        // Any name, secret-looking or not.
        (
            "https://h/m.gguf?pass=p1&pw=p2&passphrase=p3&x=p4",
            "https://h/m.gguf?pass=REDACTED&pw=REDACTED&passphrase=REDACTED&x=REDACTED",
        ),
        ("https://h/m.gguf?v=1", "https://h/m.gguf?v=REDACTED"),
        // Bare items and fragments.
        ("https://h/m.gguf?abc123", "https://h/m.gguf?REDACTED"),
        (
            "https://mega.example/file/x#k3y",
            "https://mega.example/file/x#REDACTED",
        ),
        (
            "https://h/x#access_token=t&state=s",
            "https://h/x#access_token=REDACTED&state=REDACTED",
        ),
        // `;` separates query items too.
        (
            "https://h/x?download=1;token=t",
            "https://h/x?download=1;token=REDACTED",
        ),
        // Empty values and empty items stay: nothing to hide.
        ("https://h/x?a=&&b=", "https://h/x?a=&&b="),
        // Path parameters, in any segment, for every URL scheme.
        (
            "https://h/m.gguf;jsessionid=abc",
            "https://h/m.gguf;jsessionid=REDACTED",
        ),
        (
            "https://h/a;x=1;flag/b.gguf",
            "https://h/a;x=REDACTED;REDACTED/b.gguf",
        ),
        (
            "s3://b/k;v=1?versionId=7",
            "s3://b/k;v=REDACTED?versionId=REDACTED",
        ),
        // hf: in-repo paths split like URLs.
        (
            "hf:org/repo/file.gguf?token=abc",
            "hf:org/repo/file.gguf?token=REDACTED",
        ),
        (
            "hf:org/repo@v1/q4/m.gguf?download=true&x=1#frag",
            "hf:org/repo@v1/q4/m.gguf?download=true&x=REDACTED#REDACTED",
        ),
        ("hf:o/r/a;sid=1/b", "hf:o/r/a;sid=REDACTED/b"),
        ("hf:o/r/a@b/c#d?e.gguf", "hf:o/r/a@b/c#REDACTED"),
        // User information, always.
        ("https://u:p@h/x", "https://***@h/x"),
        ("oci://robot@ghcr.io/o/m:v1", "oci://***@ghcr.io/o/m:v1"),
        // Allow-listed names keep their values, in any case and escaped.
        (
            "https://h/x?Download=1&REF=main&dow%6Eload=2&raw&format=gguf",
            "https://h/x?Download=1&REF=main&dow%6Eload=2&raw&format=gguf",
        ),
        // ... but token shapes are scrubbed even there.
        (
            "https://h/x?revision=hf_abcdefghijklmnopqrstuvwx",
            "https://h/x?revision=hf_redacted",
        ),
    ];
    for (input, expected) in table {
        let r = parse(input);
        assert_eq!(&r.canonical(), expected, "canonical of {input}");
        assert_eq!(&r.to_string(), expected, "Display of {input}");
        let again = parse(expected);
        assert_eq!(&again.canonical(), expected, "{expected} is a fixed point");
        assert_eq!(r.has_secrets(), expected != input, "has_secrets of {input}");
    }
}

#[test]
fn token_shapes_are_replaced_wherever_they_are() {
    let ghp = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    let pat = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl";
    let table = [
        (
            format!("https://h/{ghp}/m.gguf"),
            "https://h/ghp_redacted/m.gguf",
        ),
        (
            format!("https://{ghp}.h/m.gguf"),
            "https://ghp_redacted.h/m.gguf",
        ),
        (
            format!("s3://b/{pat}/m.gguf"),
            "s3://b/github_pat_redacted/m.gguf",
        ),
        (format!("hf:org/repo@{ghp}"), "hf:org/repo@ghp_redacted"),
        (format!("hf:org/{ghp}"), "hf:org/ghp_redacted"),
        (
            "hf:o/r/glpat-abcdefghijKLMNOPQRST12.gguf".to_owned(),
            "hf:o/r/glpat-redacted.gguf",
        ),
        (
            format!("https://h/t/{jwt}/m.gguf"),
            "https://h/t/jwt_redacted/m.gguf",
        ),
        (
            format!("oci://ghcr.io/o/m:{ghp}"),
            "oci://ghcr.io/o/m:ghp_redacted",
        ),
        (
            format!("/models/{ghp}/m.gguf"),
            "file:/models/ghp_redacted/m.gguf",
        ),
    ];
    for (input, expected) in table {
        let r = parse(&input);
        assert_eq!(r.canonical(), expected, "canonical of {input}");
        assert!(r.has_secrets(), "{input}");
        assert_eq!(parse(expected).canonical(), expected, "{expected}");
        for text in shown(&r) {
            for secret in ["abcdefghijklmnop", "hbGciOiJIUzI1NiJ9", "KLMNOPQRST"] {
                assert!(!text.contains(secret), "{input}: {text}");
            }
        }
    }
}

#[test]
fn default_ids_are_redacted_too() {
    for (input, id) in [
        (
            "https://h/dl/m.gguf;jsessionid=abc",
            "m.gguf;jsessionid=REDACTED",
        ),
        ("hf:o/r/m.gguf?token=abc", "o--r--m.gguf?token=REDACTED"),
        ("hf:o/r/m.gguf?download=1", "o--r--m.gguf?download=1"),
    ] {
        assert_eq!(parse(input).default_id(), id, "{input}");
    }
}

#[test]
fn errors_quote_only_the_plain_start_of_what_they_name() {
    for (input, quoted) in [
        ("hf:org/repo?token=s3cretvalue", "`repo…`"),
        ("hf:org?token=s3cretvalue", "`hf:org…`"),
        ("hf:org/repo@main?token=s3cretvalue/m.gguf", "`main…`"),
        ("hf:org/repo@main#s3cretvalue", "`main…`"),
        ("hf:org;jsessionid=s3cretvalue/repo", "`org…`"),
        ("hf:alice:s3cretvalue@org/repo", "`alice…`"),
    ] {
        let err = ModelRef::parse(input).expect_err(input);
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "model_ref",
                    ..
                }
            ),
            "{input}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(quoted), "{input}: {message}");
        assert!(!message.contains("s3cretvalue"), "{input}: {message}");
        assert!(!format!("{err:?}").contains("s3cretvalue"), "{input}");
    }
}

#[test]
fn stored_forms_of_older_versions_are_shown_with_todays_rule() {
    // Written by a version that redacted only secret-looking names.
    let old = "hf:org/repo/file.gguf?token=s3cretvalue&x=abcdefgh";
    assert_eq!(
        ModelRef::redact_stored(old),
        "hf:org/repo/file.gguf?token=REDACTED&x=REDACTED"
    );
    let today = "https://h/x?download=1";
    assert_eq!(ModelRef::redact_stored(today), today);
}

/// A piece of a parameter list: a secret value under a name that is not
/// allow-listed, a bare secret, or an allow-listed name with a plain value.
#[derive(Clone, Debug)]
enum Item {
    Secret(String, String),
    Bare(String),
    Shown(&'static str, String),
}

/// Secret values: 9 or more characters starting with `9`, from an alphabet
/// (uppercase and digits) that no base, name or shown value uses, so a
/// secret can only appear in the output by leaking.
fn secret_value() -> impl Strategy<Value = String> {
    "9[A-Z0-9]{7,15}"
}

fn item() -> impl Strategy<Value = Item> {
    let name = "[a-z_][a-z_.-]{0,6}"
        .prop_filter("not allow-listed", |n| !ALLOW_LISTED.contains(&n.as_str()));
    prop_oneof![
        3 => (name, secret_value()).prop_map(|(n, v)| Item::Secret(n, v)),
        1 => secret_value().prop_map(Item::Bare),
        1 => (prop::sample::select(ALLOW_LISTED.to_vec()), "[a-z]{0,8}")
            .prop_map(|(n, v)| Item::Shown(n, v)),
    ]
}

fn list() -> impl Strategy<Value = Vec<(Item, bool)>> {
    prop::collection::vec((item(), any::<bool>()), 0..4)
}

/// `items` joined with `&` or `;`, and the secrets among them.
fn render(items: &[(Item, bool)], secrets: &mut Vec<String>) -> String {
    let mut out = String::new();
    for (i, (item, amp)) in items.iter().enumerate() {
        if i > 0 {
            out.push(if *amp { '&' } else { ';' });
        }
        match item {
            Item::Secret(name, value) => {
                secrets.push(value.clone());
                out.push_str(&format!("{name}={value}"));
            }
            Item::Bare(value) => {
                secrets.push(value.clone());
                out.push_str(value);
            }
            Item::Shown(name, value) => out.push_str(&format!("{name}={value}")),
        }
    }
    out
}

proptest! {
    // 3,000 cases by default; `PROPTEST_CASES` runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_secret_value_survives_in_any_position(
        base in prop::sample::select(vec![
            "https://h.example.com/a/m.gguf", "http://[::1]:8080/p", "s3://bucket/k",
            "hf:o/r/x.gguf", "hf:o/r@main/q4/x.gguf", "hf:o/r", "hf:o/r@main",
            "oci://r.io/m:v1", "/models/x.gguf", "https://u:p@h.example.com",
        ]),
        path_params in list(),
        query in list(),
        fragment in list(),
    ) {
        let mut secrets = Vec::new();
        let mut input = base.to_owned();
        for (mark, items) in [(';', &path_params), ('?', &query), ('#', &fragment)] {
            if !items.is_empty() {
                input.push(mark);
                input.push_str(&render(items, &mut secrets));
            }
        }
        // A local path has no parameters: `?`, `#` and `;` are part of the
        // file name, shown as given. Only its token shapes are scrubbed.
        if base.starts_with('/') {
            secrets.clear();
        }
        match ModelRef::parse(&input) {
            Ok(r) => {
                for text in shown(&r) {
                    for secret in &secrets {
                        prop_assert!(!text.contains(secret.as_str()), "{} shows {}: {}", input, secret, text);
                    }
                }
                let again = ModelRef::parse(&r.canonical());
                prop_assert!(again.is_ok(), "{:?} does not re-parse", r.canonical());
                if let Ok(again) = again {
                    prop_assert_eq!(again.canonical(), r.canonical());
                }
            }
            Err(err) => {
                for text in [err.to_string(), format!("{err:?}")] {
                    for secret in &secrets {
                        prop_assert!(!text.contains(secret.as_str()), "{} shows {}: {}", input, secret, text);
                    }
                }
            }
        }
    }
}
