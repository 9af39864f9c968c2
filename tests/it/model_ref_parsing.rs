//! Model references: every form parses to the right variant, normalization
//! is as documented in `docs/MODEL_REF.md`, bad input is a typed error
//! (never a panic), and secrets never reach a displayed form.

use catalog_core::{Error, ModelRef, ModelUrl};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

const BASE: &str = "/srv/models";
const HF_TOKEN: &str = "hf_AbCdEfGhIjKlMnOpQrStUvWx12";

fn parse(input: &str) -> ModelRef {
    ModelRef::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn url(r: &ModelRef) -> &ModelUrl {
    match r {
        ModelRef::Url(url) => url,
        other => panic!("expected a URL, got {other:?}"),
    }
}

fn hf_parts(r: &ModelRef) -> (&str, &str, Option<&str>, Option<&str>) {
    match r {
        ModelRef::HuggingFace {
            org,
            repo,
            revision,
            path,
            ..
        } => (org, repo, revision.as_deref(), path.as_deref()),
        other => panic!("expected hf, got {other:?}"),
    }
}

fn file_path(r: &ModelRef) -> &Path {
    match r {
        ModelRef::File { path, .. } => path,
        other => panic!("expected a file, got {other:?}"),
    }
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

#[test]
fn hugging_face_references_parse_to_their_parts() {
    let r = parse("hf:meta-llama/Meta-Llama-3-8B");
    assert_eq!(r.kind(), "hf");
    assert_eq!(hf_parts(&r), ("meta-llama", "Meta-Llama-3-8B", None, None));
    assert_eq!(r.canonical(), "hf:meta-llama/Meta-Llama-3-8B");

    let r = parse("hf:TheBloke/Llama-2-7B-GGUF/llama-2-7b.Q4_K_M.gguf");
    assert_eq!(
        hf_parts(&r),
        (
            "TheBloke",
            "Llama-2-7B-GGUF",
            None,
            Some("llama-2-7b.Q4_K_M.gguf")
        )
    );

    let r = parse("hf:unsloth/Qwen3-8B-GGUF@v1.2_rc-3/Q4_K_M/model-00001-of-00002.gguf");
    assert_eq!(
        hf_parts(&r),
        (
            "unsloth",
            "Qwen3-8B-GGUF",
            Some("v1.2_rc-3"),
            Some("Q4_K_M/model-00001-of-00002.gguf")
        )
    );
    assert_eq!(
        r.canonical(),
        "hf:unsloth/Qwen3-8B-GGUF@v1.2_rc-3/Q4_K_M/model-00001-of-00002.gguf"
    );

    let r = parse("hf:o/r@0123abc");
    assert_eq!(hf_parts(&r), ("o", "r", Some("0123abc"), None));
}

#[test]
fn file_references_are_absolute_and_normalized() {
    for input in [
        "file:/models/x.gguf",
        "file:///models/x.gguf",
        "file://localhost/models/x.gguf",
        "FILE://LocalHost/models/x.gguf",
        "/models/x.gguf",
        "//models/./x.gguf/",
    ] {
        let r = parse(input);
        assert_eq!(r.kind(), "file", "{input}");
        assert_eq!(file_path(&r), Path::new("/models/x.gguf"), "{input}");
        assert_eq!(r.canonical(), "file:/models/x.gguf", "{input}");
    }
}

#[test]
fn relative_paths_resolve_against_the_base_directory() {
    let base = Path::new(BASE);
    for (input, expected) in [
        ("models/x.gguf", "/srv/models/models/x.gguf"),
        ("./x.gguf", "/srv/models/x.gguf"),
        ("a//b/./c/", "/srv/models/a/b/c"),
        (".", "/srv/models"),
        ("my model v2.gguf", "/srv/models/my model v2.gguf"),
    ] {
        let r = ModelRef::parse_with_base(input, base).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(file_path(&r), Path::new(expected), "{input}");
    }
    // The other forms ignore the base.
    let r = ModelRef::parse_with_base("/abs/x", base).expect("absolute");
    assert_eq!(file_path(&r), Path::new("/abs/x"));
    let r = ModelRef::parse_with_base("hf:o/r", base).expect("hf");
    assert_eq!(r, parse("hf:o/r"));
    // A messy base is normalized like any path.
    let r = ModelRef::parse_with_base("x", Path::new("/srv//models/./")).expect("base");
    assert_eq!(file_path(&r), Path::new("/srv/models/x"));
}

#[test]
fn urls_parse_to_their_parts() {
    let r = parse("https://Example.COM:8443/models/x.gguf?download=1#part");
    assert_eq!(r.kind(), "url");
    let u = url(&r);
    assert_eq!(
        (u.scheme(), u.host(), u.port(), u.path()),
        ("https", "example.com", Some(8443), "/models/x.gguf")
    );
    // A bare fragment item is not an allow-listed name: redacted.
    assert_eq!(
        r.canonical(),
        "https://example.com:8443/models/x.gguf?download=1#REDACTED"
    );

    let r = parse("http://10.0.0.5/x");
    let u = url(&r);
    assert_eq!((u.scheme(), u.host(), u.port()), ("http", "10.0.0.5", None));

    let r = parse("http://[::1]:8080/x.gguf");
    assert_eq!((url(&r).host(), url(&r).port()), ("[::1]", Some(8080)));

    let r = parse("s3://my-bucket/models/llama/x.gguf");
    let u = url(&r);
    assert_eq!(
        (u.scheme(), u.host(), u.path()),
        ("s3", "my-bucket", "/models/llama/x.gguf")
    );

    let r = parse("oci://ghcr.io/org/models/llama:q4_k_m");
    let u = url(&r);
    assert_eq!(
        (u.scheme(), u.host(), u.path()),
        ("oci", "ghcr.io", "/org/models/llama:q4_k_m")
    );

    let digest = format!("oci://registry.local:5000/llama@sha256:{}", "0f".repeat(32));
    let r = parse(&digest);
    assert_eq!(url(&r).port(), Some(5000));
    assert_eq!(r.canonical(), digest);
}

#[test]
fn normalization_follows_the_documented_rules() {
    let table: &[(&str, &str)] = &[
        // Scheme prefixes are case-insensitive and written lowercase.
        ("HF:org/repo", "hf:org/repo"),
        ("Hf:Org/Repo", "hf:Org/Repo"),
        ("HTTPS://example.com/x", "https://example.com/x"),
        ("S3://bucket/k", "s3://bucket/k"),
        ("OCI://ghcr.io/o/m:v1", "oci://ghcr.io/o/m:v1"),
        // HF names keep their case; in-repo paths are normalized.
        ("hf:Qwen/Qwen2-7B//a/./b.gguf/", "hf:Qwen/Qwen2-7B/a/b.gguf"),
        ("hf:o/r/", "hf:o/r"),
        ("hf:o/r/./", "hf:o/r"),
        ("hf:o/r@main/", "hf:o/r@main"),
        // File paths.
        ("file:/a//b/./c/", "file:/a/b/c"),
        ("file:////a", "file:/a"),
        ("/a/./b//", "file:/a/b"),
        // URL hosts lowercased, default ports and leading zeros dropped.
        ("https://Example.com:443/x", "https://example.com/x"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("http://example.com:0080/x", "http://example.com/x"),
        ("http://example.com:443/x", "http://example.com:443/x"),
        ("https://example.com:80/x", "https://example.com:80/x"),
        ("https://example.com:08443", "https://example.com:8443"),
        ("https://[0:0:0:0:0:0:0:1]:443/", "https://[::1]"),
        // URL paths: trailing '/' removed, '.' segments removed, '//' kept.
        ("https://example.com/", "https://example.com"),
        ("https://example.com/a/b/", "https://example.com/a/b"),
        ("https://example.com/a//b", "https://example.com/a//b"),
        ("https://example.com/a/./b/.", "https://example.com/a/b"),
        ("https://example.com/A/B", "https://example.com/A/B"),
        ("https://example.com/x?", "https://example.com/x"),
        ("https://example.com/x#", "https://example.com/x"),
        ("https://@example.com/x", "https://example.com/x"),
        (
            "https://example.com?download=1",
            "https://example.com?download=1",
        ),
        // s3: the key as given minus a trailing '/'.
        ("s3://Bucket/a//./b/", "s3://bucket/a//./b"),
        ("s3://bucket/", "s3://bucket"),
        ("s3://bucket", "s3://bucket"),
    ];
    for (input, expected) in table {
        let r = parse(input);
        assert_eq!(&r.canonical(), expected, "canonical of {input}");
        assert_eq!(&r.to_string(), expected, "Display of {input}");
        assert_eq!(parse(expected), r, "{expected} parses to the same ref");
    }
}

#[test]
fn default_ids_are_readable_and_valid_catalog_ids() {
    let base = Path::new(BASE);
    for (input, expected) in [
        (
            "hf:meta-llama/Meta-Llama-3-8B",
            "meta-llama--Meta-Llama-3-8B",
        ),
        ("hf:o/r/x.gguf", "o--r--x.gguf"),
        ("hf:o/r@v2/q4/x.gguf", "o--r@v2--q4--x.gguf"),
        ("file:/models/llama.gguf", "llama.gguf"),
        ("./shards", "shards"),
        ("https://example.com/dl/x.gguf?download=1", "x.gguf"),
        ("https://Example.com", "example.com"),
        ("s3://bucket/a/b.gguf", "b.gguf"),
        ("oci://ghcr.io/o/llama:q4", "llama:q4"),
    ] {
        let r = ModelRef::parse_with_base(input, base).expect(input);
        let id = r.default_id();
        assert_eq!(id, expected, "{input}");
    }
    let long = parse(&format!("hf:o/r/{}", "x".repeat(1000)));
    let id = long.default_id();
    assert_eq!(id.len(), 256, "ids are cut to the catalog's limit");
    assert!(id.starts_with("o--r--xxx"), "{id}");
}

#[test]
fn invalid_inputs_are_typed_errors_with_a_reason() {
    let too_long = format!("hf:o/{}", "r".repeat(4097 - 5));
    assert_eq!(too_long.len(), 4097);
    let long_hf_name = format!("hf:{}/r", "o".repeat(97));
    let long_rev = format!("hf:o/r@{}", "1".repeat(129));
    let bad: Vec<String> = [
        // empty input or empty parts
        "",
        "hf:",
        "hf:org",
        "hf:/repo",
        "hf:org/",
        "hf:org/@main",
        "hf:org/repo@",
        "hf://org/repo",
        "https://",
        "http:///path",
        "s3://",
        "s3:///key",
        "oci://",
        "oci://ghcr.io",
        "file:",
        "file://",
        "file://localhost",
        // `..` anywhere in a path
        "hf:org/repo/../x.gguf",
        "hf:org/repo/a/..",
        "/models/../etc/passwd",
        "file:/a/../b",
        "https://example.com/a/../b",
        "https://example.com/%2e%2e/b",
        "s3://bucket/a/../b",
        // control characters, NUL, bidi overrides, white space at the ends
        "hf:org/re\0po",
        "hf:org/repo\n",
        "/models/x\u{7}.gguf",
        "https://example.com/\u{1b}[31m",
        "/models/\u{202E}fuge.gguf",
        " hf:org/repo",
        "hf:org/repo\t",
        "hf:org/repo ",
        "\u{3000}/x",
        // Hugging Face names the Hub would refuse
        "hf:-org/repo",
        "hf:org-/repo",
        "hf:.org/repo",
        "hf:org/repo.",
        "hf:o--rg/repo",
        "hf:org/re..po",
        "hf:org/re po",
        "hf:org/rep!o",
        "hf:orgé/repo",
        "hf:org/repo@feature/x/../y",
        "hf:org/repo@v 1",
        "hf:org/repo@..",
        "hf:org/repo?x=1",
        // file: with a relative path or a foreign host
        "file:models/x.gguf",
        "file:./x.gguf",
        "file://server/share/x.gguf",
        // unknown schemes
        "ftp://example.com/x.gguf",
        "gs://bucket/x",
        "ssh://host/x",
        "c:\\models\\x.gguf",
        "https:example.com",
        // ports
        "https://example.com:0/x",
        "https://example.com:65536/x",
        "https://example.com:99999999999999999999/x",
        "https://example.com:/x",
        "https://example.com:-1/x",
        "https://example.com:http/x",
        "s3://bucket:9000/key",
        // hosts
        "https://exa mple.com/x",
        "https://exa_mple!.com/x",
        "https://example..com/x",
        "https://-example.com/x",
        "https://exämple.com/x",
        "https://256.1.1.1/x",
        "https://[::1/x",
        "https://[not-ipv6]/x",
        // other URL problems
        "https://example.com/a b",
        "https://example.com/a\\b",
        "oci://ghcr.io/Org/Model:v1",
        "oci://ghcr.io/org/model:-v1",
        "oci://ghcr.io/org/model@sha256:abc",
        "oci://ghcr.io/org/model:v1?x=1",
        // backslashes and home directories in paths
        "/models\\x.gguf",
        "hf:org/repo/a\\..\\b",
        // a relative path given to parse()
        "models/x.gguf",
        "./x.gguf",
        "x.gguf",
        "~/models/x.gguf",
        // the root is not a model
        "/",
        "file:///",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([too_long, long_hf_name, long_rev])
    .collect();
    assert!(bad.len() >= 30, "{} invalid inputs", bad.len());
    for input in &bad {
        let err = ModelRef::parse(input).expect_err(&format!("{input:?} should be refused"));
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "model_ref",
                    ..
                }
            ),
            "{input:?}: {err:?}"
        );
        if let Error::InvalidInput { reason, .. } = &err {
            assert!(!reason.trim().is_empty(), "{input:?} has an empty reason");
        }
        assert!(
            !err.to_string().contains(|c: char| c.is_control()),
            "{input:?}: the message must not echo control characters: {err}"
        );
    }
}

#[test]
fn parse_with_base_refuses_a_relative_or_unusable_base() {
    for base in ["models", "./models", "", "/a/../b", "/a\u{0}b"] {
        let err = ModelRef::parse_with_base("x.gguf", Path::new(base))
            .expect_err(&format!("base {base:?} should be refused"));
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "model_ref",
                    ..
                }
            ),
            "{base:?}: {err:?}"
        );
    }
    let err = ModelRef::parse_with_base("~/x", Path::new(BASE)).expect_err("tilde");
    assert!(err.to_string().contains('~'), "{err}");
    let err = ModelRef::parse_with_base("../x", Path::new(BASE)).expect_err("dot dot");
    assert!(err.to_string().contains(".."), "{err}");
}

#[test]
fn error_messages_say_what_is_accepted() {
    let message = |input: &str| ModelRef::parse(input).expect_err(input).to_string();
    let unknown = message("ftp://example.com/x");
    for scheme in [
        "`ftp:`", "hf:", "file:", "https://", "http://", "s3://", "oci://",
    ] {
        assert!(unknown.contains(scheme), "{unknown} should name {scheme}");
    }
    assert!(message("models/x.gguf").contains("parse_with_base"));
    assert!(message("file:x").contains("absolute"));
    assert!(message("https://h:70000").contains("1..=65535"));
    assert!(message("hf:o--o/r").contains("--"));
    assert!(message("hf:o/r/../x").contains(".."));
    assert!(message("hf:org").contains("hf:org/repo"));
    assert!(message(&"x".repeat(5000)).contains("4096"));
    assert!(message("/x\0").contains("U+0000"));
}

#[test]
fn secrets_never_appear_in_any_displayed_form() {
    let cases: &[(&str, &[&str])] = &[
        (
            "https://alice:Pa55word@example.com/x.gguf",
            &["alice", "Pa55word"],
        ),
        (
            "https://ghp_tokenonly1234@github.com/o/r",
            &["ghp_tokenonly1234"],
        ),
        ("https://example.com/x.gguf?token=tok123&x=1", &["tok123"]),
        ("https://example.com/x?access_token=at999", &["at999"]),
        (
            "https://example.com/x?api_key=k1k2k3&apikey=k4k5",
            &["k1k2k3", "k4k5"],
        ),
        (
            "https://bucket.s3.amazonaws.com/x.gguf?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=deadbeef42\
             &X-Amz-Security-Token=sessTok77",
            &["AKIAEXAMPLE", "deadbeef42", "sessTok77"],
        ),
        (
            "https://storage.googleapis.com/b/x?X-Goog-Signature=goog5ig&X-Goog-Credential=gc1",
            &["goog5ig", "gc1"],
        ),
        (
            "https://acct.blob.core.windows.net/c/x?sv=2022-11-02&se=2030&sp=r&sig=azSig%3D",
            &["azSig", "2022-11-02"],
        ),
        (
            "https://example.com/x?SIG=upper1&Password=upper2",
            &["upper1", "upper2"],
        ),
        ("https://example.com/x#access_token=frag42", &["frag42"]),
        (
            "s3://AKIAKEY:s3secretkey@bucket/key",
            &["AKIAKEY", "s3secretkey"],
        ),
        ("oci://robot:r0b0tpw@ghcr.io/o/m:v1", &["robot", "r0b0tpw"]),
        (
            "https://example.com/x?q=hf_AbCdEfGhIjKlMnOpQrStUvWx12",
            &[HF_TOKEN],
        ),
        (
            "https://example.com/hf_AbCdEfGhIjKlMnOpQrStUvWx12/x",
            &[HF_TOKEN],
        ),
        (
            "https://hf_AbCdEfGhIjKlMnOpQrStUvWx12.example.com/x",
            &["AbCdEfGhIjKlMnOpQrStUvWx12"],
        ),
    ];
    for (input, secrets) in cases {
        let r = parse(input);
        assert!(r.has_secrets(), "{input} has secrets");
        let exposed = url(&r).expose_with_credentials();
        for secret in *secrets {
            for text in shown(&r) {
                assert!(
                    !text.contains(secret),
                    "{secret} leaked from {input}: {text}"
                );
            }
            assert!(
                exposed.to_lowercase().contains(&secret.to_lowercase()),
                "expose_with_credentials keeps {secret}: {exposed}"
            );
        }
        assert!(
            !format!("{:?}", url(&r)).contains(secrets[0]),
            "ModelUrl's Debug is redacted too"
        );
    }
    let r = parse("https://alice:Pa55word@example.com/x?token=t&sig=s");
    assert_eq!(
        r.canonical(),
        "https://***@example.com/x?token=REDACTED&sig=REDACTED"
    );
    assert_eq!(
        url(&r).expose_with_credentials(),
        "https://alice:Pa55word@example.com/x?token=t&sig=s"
    );
}

#[test]
fn hugging_face_token_shapes_are_never_displayed() {
    for input in [
        format!("hf:org/repo/{HF_TOKEN}.gguf"),
        format!("hf:org/repo@{HF_TOKEN}"),
        format!("hf:{HF_TOKEN}/repo"),
        format!("/models/{HF_TOKEN}/x.gguf"),
        format!("file:/models/{HF_TOKEN}"),
        format!("oci://ghcr.io/o/m:{HF_TOKEN}"),
    ] {
        let r = parse(&input);
        assert!(r.has_secrets(), "{input}");
        for text in shown(&r) {
            assert!(
                !text.contains(HF_TOKEN),
                "token leaked from {input}: {text}"
            );
        }
        assert!(
            r.canonical().contains("hf_redacted"),
            "{} says what was hidden",
            r.canonical()
        );
    }
    // Nor in error messages, nor the user information of a malformed URL.
    for input in [
        format!("hf:{HF_TOKEN}/bad..name"),
        format!("hf:{HF_TOKEN}"),
        format!("hf:o/r@{HF_TOKEN}/../x"),
        "https://admin:S3cretPass/word@example.com/x".to_owned(),
        "https://admin:S3cret!Pass@exa mple.com".to_owned(),
        "https://us!er:S3cretPass/x@example.com".to_owned(),
        "user:S3cretPass@example.com/x".to_owned(),
    ] {
        let err = ModelRef::parse(&input).expect_err(&input).to_string();
        for secret in [HF_TOKEN, "S3cret", "us!er"] {
            assert!(
                !err.contains(secret),
                "{secret} leaked into the error: {err}"
            );
        }
    }
}

#[test]
fn debug_and_display_are_the_canonical_form() {
    let r: ModelRef = "HF:org/repo".parse().expect("FromStr");
    assert_eq!(r, ModelRef::parse("hf:org/repo").expect("parse"));
    assert_eq!(format!("{r:?}"), r#"ModelRef("hf:org/repo")"#);
    assert_eq!(format!("{r}"), r.canonical());
    let u = parse("https://u:p@h/x");
    assert_eq!(format!("{u:?}"), r#"ModelRef("https://***@h/x")"#);
    assert!(
        "".parse::<ModelRef>().is_err(),
        "FromStr refuses like parse"
    );
}

#[test]
fn references_without_secrets_round_trip_through_canonical() {
    let digest = format!("oci://r.io/a/b@sha512:{}", "e".repeat(128));
    let inputs = [
        "hf:o/r",
        "hf:Org.Name_1/Repo-Name.v2@refs-pr-7/dir with space/x.gguf",
        "hf:o/r/a@b/c?download=1&revision=v2.gguf",
        "file:/a/b c/d.gguf",
        "file:/a?b#c%20d",
        "/x/é/ü.gguf",
        "https://example.com",
        "https://example.com:8443/a//b?ref=d&raw#format=f?g",
        "http://[2001:db8::1]:8080/x",
        "https://example.com?dl=1",
        "https://example.com/%2e/x",
        "s3://bucket/a/./b",
        "s3://bucket/.",
        "oci://localhost:5000/m:v1",
        digest.as_str(),
        "hf:o/r@refs/pr/12/m.gguf",
        "hf:o/r@refs/convert/parquet",
        "hf:o/r@user%2Ffeature",
        "ollama:registry.ollama.ai/library/llama3:8b",
        "ollama:h.example/team/m.v2:q4_K_M",
    ];
    for input in inputs {
        let r = parse(input);
        assert!(!r.has_secrets(), "{input} has no secrets");
        let again = ModelRef::parse(&r.canonical())
            .unwrap_or_else(|e| panic!("canonical of {input} parses: {e}"));
        assert_eq!(again, r, "{input} round-trips via {}", r.canonical());
        assert_eq!(again.canonical(), r.canonical(), "{input}");
    }
    let r = ModelRef::parse_with_base("x/./y", Path::new(BASE)).expect("relative");
    assert_eq!(ModelRef::parse(&r.canonical()).expect("canonical"), r);
    assert_eq!(file_path(&r), PathBuf::from("/srv/models/x/y"));
}

#[test]
fn ollama_references_name_host_namespace_model_and_tag() {
    for (input, canonical, id) in [
        (
            "ollama:llama3",
            "ollama:registry.ollama.ai/library/llama3:latest",
            "llama3:latest",
        ),
        (
            "OLLAMA:llama3:8b",
            "ollama:registry.ollama.ai/library/llama3:8b",
            "llama3:8b",
        ),
        (
            "ollama:me/tiny:q4",
            "ollama:registry.ollama.ai/me/tiny:q4",
            "me/tiny:q4",
        ),
        ("ollama:h.io/ns/m:t", "ollama:h.io/ns/m:t", "h.io/ns/m:t"),
    ] {
        let r = parse(input);
        assert_eq!(r.kind(), "ollama");
        assert_eq!(r.canonical(), canonical, "{input}");
        assert_eq!(r.default_id(), id, "{input}");
        assert_eq!(parse(canonical), r, "{input} round-trips");
        let ModelRef::Ollama { model, tag, .. } = &r else {
            panic!("{input} is an Ollama reference")
        };
        assert!(!model.is_empty() && !tag.is_empty());
    }
    for bad in [
        "ollama:",
        "ollama://llama3",
        "ollama:../x",
        "ollama:a/b/c/d:t",
        "ollama:m:t:u",
        "ollama:m@sha256-00",
        "ollama:ns.x/m:t",
    ] {
        let err = ModelRef::parse(bad).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "model_ref",
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn references_with_secrets_compare_by_their_secrets() {
    let a = parse("https://u:one@h/x");
    let b = parse("https://u:two@h/x");
    assert_ne!(a, b, "equality sees the credentials");
    assert_eq!(a.canonical(), b.canonical(), "the canonical form does not");
    let redacted = parse(&a.canonical());
    assert_ne!(redacted, a, "a redacted form is a different reference");
    assert_eq!(
        redacted.canonical(),
        a.canonical(),
        "but redacting again is stable"
    );
}

/// Checks what must hold for every successfully parsed reference.
fn check_invariants(r: &ModelRef) -> Result<(), TestCaseError> {
    let canonical = r.canonical();
    prop_assert!(
        !canonical.contains(|c: char| c.is_control()),
        "{canonical:?}"
    );
    prop_assert!(!canonical.is_empty() && canonical.len() <= 4096);
    prop_assert_eq!(canonical.trim(), canonical.as_str());
    prop_assert_eq!(&r.to_string(), &canonical);
    let id = r.default_id();
    prop_assert!(!id.is_empty() && id.len() <= 256, "{id:?}");
    prop_assert!(!id.contains(|c: char| c.is_control()), "{id:?}");
    prop_assert_eq!(id.trim(), id.as_str());
    // The canonical form is a fixed point, and equal when nothing is hidden.
    let again = ModelRef::parse(&canonical);
    prop_assert!(
        again.is_ok(),
        "{:?} does not re-parse: {:?}",
        canonical,
        again
    );
    if let Ok(again) = again {
        prop_assert_eq!(again.canonical(), canonical.clone());
        if !r.has_secrets() {
            prop_assert_eq!(&again, r);
        }
    }
    Ok(())
}

/// Strings shaped like references (a prefix, then `/`-joined pieces that
/// are mostly valid names plus the usual troublemakers), so that about a
/// third of them parse and the invariants are exercised on every variant.
fn reference_like() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "",
        "hf:",
        "HF:",
        "file:",
        "file://localhost",
        "/",
        "./",
        "https://",
        "HTTP://",
        "s3://",
        "oci://",
        "ftp://",
        "ollama:",
        "hf:o/r@refs/",
    ]);
    let piece = prop_oneof![
        3 => "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,8}",
        1 => prop::sample::select(vec![
            "", ".", "..", "%2e%2E", "x@main", "h:8080", "h:0", "[::1]", "u:pw@h", "a b",
            "m?token=s3cret&x=1", "p#f", "r:v1", "Ab--c", "hf_abcdefghijklmnopqrstuvwxyz",
            "pr", "convert", "x%2Fy", "%2f", "r.git", "m:latest",
            "é", "a\u{0}b", "x\\y", " ", "\u{202E}",
        ])
        .prop_map(str::to_owned),
    ];
    (prefix, prop::collection::vec(piece, 0..5))
        .prop_map(|(prefix, pieces)| format!("{prefix}{}", pieces.join("/")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_on_arbitrary_strings(input in any::<String>()) {
        if let Ok(r) = ModelRef::parse(&input) {
            check_invariants(&r)?;
        }
        if let Ok(r) = ModelRef::parse_with_base(&input, Path::new(BASE)) {
            check_invariants(&r)?;
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let input = String::from_utf8_lossy(&bytes);
        if let Ok(r) = ModelRef::parse(&input) {
            check_invariants(&r)?;
        }
    }

    #[test]
    fn reference_like_strings_parse_or_fail_cleanly(input in reference_like()) {
        match ModelRef::parse_with_base(&input, Path::new(BASE)) {
            Ok(r) => check_invariants(&r)?,
            Err(err) => {
                let is_model_ref_error = matches!(err, Error::InvalidInput { field: "model_ref", .. });
                prop_assert!(is_model_ref_error, "{:?}", err);
                prop_assert!(!err.to_string().contains(|c: char| c.is_control()));
            }
        }
    }
}
