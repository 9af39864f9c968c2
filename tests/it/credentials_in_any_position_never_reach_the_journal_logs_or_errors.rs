//! A reference carrying a credential in any position (user information, a
//! query parameter whatever its name, a fragment, a path parameter, a
//! `hf:` in-repo path or revision, a well-known token shape anywhere) is
//! put and imported through the library and given to the `catalog` binary;
//! the credential then appears in no file under the root, no log line, no
//! output of the command line (text or `--json`, successful or failing
//! commands) and no error message (`Display` or `Debug`).

use crate::cli_support::Cli;
use catalog_core::{
    Catalog, EntrySpec, FetchedModel, ImportOptions, ModelFetcher, ModelRef, Result, SourceFile,
    VerifyOptions,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A reference and the secrets (each 8 or more characters, found nowhere
/// else) that it carries.
struct Case {
    label: &'static str,
    input: String,
    secrets: Vec<String>,
}

/// `prefix` followed by `marker`, padded with digits to `len` characters
/// after the prefix: a token of a well-known shape whose unique part is
/// `marker`.
fn token(prefix: &str, marker: &str, len: usize) -> String {
    let mut tail = marker.to_owned();
    let mut digit = 0u8;
    while tail.len() < len {
        tail.push(char::from(b'0' + digit % 10));
        digit += 1;
    }
    format!("{prefix}{tail}")
}

fn case(label: &'static str, input: impl Into<String>, secrets: &[&str]) -> Case {
    Case {
        label,
        input: input.into(),
        secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn cases() -> Vec<Case> {
    let ghp_path = token("ghp_", "GhpInUrlPath", 36);
    let gho_host = token("gho_", "ghoinhostlabel", 36);
    let pat_key = token("github_pat_", "FineGrainedPat", 82);
    let hf_path = token("hf_", "HfTokInRepoPath", 34);
    let ghs_rev = token("ghs_", "GhsAsRevision", 36);
    let hf_rev = token("hf_", "HfTokAsRevision", 34);
    let hf_query = token("hf_", "HfTokInAllowedParam", 34);
    let ghp_fragment = token("ghp_", "GhpInHfFragment", 36);
    vec![
        case(
            "userinfo",
            "https://aliceUserName:PwInUserinfo@models.example.com/m.gguf",
            &["aliceUserName", "PwInUserinfo"],
        ),
        case(
            "lone token as userinfo",
            "https://LoneTokenAsUser@models.example.com/m.gguf",
            &["LoneTokenAsUser"],
        ),
        case(
            "s3 userinfo and query",
            "s3://AKIAUSERKEY01:S3SecretKeyValue@bucket/key.gguf?versionId=S3VersionValue",
            &["AKIAUSERKEY01", "S3SecretKeyValue", "S3VersionValue"],
        ),
        case(
            "oci userinfo",
            "oci://robotUser42:RobotPassword@ghcr.io/o/m:v1",
            &["robotUser42", "RobotPassword"],
        ),
        case(
            "secret-named query",
            "https://h.example.com/m.gguf?token=TokQueryValue&download=1",
            &["TokQueryValue"],
        ),
        case(
            "pass, pw and passphrase",
            "https://h.example.com/m.gguf?pass=PassValue01&pw=PwValue0001&passphrase=PhraseValue1",
            &["PassValue01", "PwValue0001", "PhraseValue1"],
        ),
        case(
            "innocently named query",
            "https://h.example.com/m.gguf?x=InnocentXValue&format=gguf",
            &["InnocentXValue"],
        ),
        case(
            "query parameters split by semicolons",
            "https://h.example.com/m.gguf?download=1;token=SemicolonTok01",
            &["SemicolonTok01"],
        ),
        case(
            "bare query value",
            "https://h.example.com/m.gguf?BareQueryValue01",
            &["BareQueryValue01"],
        ),
        case(
            "fragment",
            "https://h.example.com/m.gguf#FragmentKey0001",
            &["FragmentKey0001"],
        ),
        case(
            "fragment parameter",
            "https://h.example.com/m.gguf#access=FragParamValue",
            &["FragParamValue"],
        ),
        case(
            "path parameter",
            "https://h.example.com/m.gguf;jsessionid=JsessionValue01",
            &["JsessionValue01"],
        ),
        case(
            "path parameter mid-path",
            "https://h.example.com/dir;auth=MidPathParam01/m.gguf",
            &["MidPathParam01"],
        ),
        case(
            "GitHub token in a URL path",
            format!("https://raw.example.com/{ghp_path}/m.gguf"),
            &["GhpInUrlPath"],
        ),
        case(
            "GitHub token as a host name",
            format!("https://{gho_host}.example.com/m.gguf"),
            &["ghoinhostlabel"],
        ),
        case(
            "fine-grained GitHub token in an S3 key",
            format!("s3://bucket/{pat_key}/m.gguf"),
            &["FineGrainedPat"],
        ),
        case(
            "hf: path with a query",
            "hf:org/repo/file.gguf?token=HfPathQueryTok",
            &["HfPathQueryTok"],
        ),
        case(
            "hf: path with an innocent query and a fragment",
            "hf:org/repo@main/q4/file.gguf?x=HfPathInnocent#HfPathFragment",
            &["HfPathInnocent", "HfPathFragment"],
        ),
        case(
            "hf: path with a path parameter",
            "hf:org/repo/dir;sid=HfPathParam01/file.gguf",
            &["HfPathParam01"],
        ),
        case(
            "hf: path with a token shape",
            format!("hf:org/repo/{hf_path}.gguf"),
            &["HfTokInRepoPath"],
        ),
        case(
            "hf: fragment with a token shape",
            format!("hf:org/repo/m.gguf#{ghp_fragment}"),
            &["GhpInHfFragment"],
        ),
        case(
            "hf: revision that is a token",
            format!("hf:org/repo@{ghs_rev}/m.gguf"),
            &["GhsAsRevision"],
        ),
        case(
            "hf: revision that is a Hugging Face token",
            format!("hf:org/repo@{hf_rev}"),
            &["HfTokAsRevision"],
        ),
        case(
            "hf: revision followed by a query (refused)",
            "hf:org/repo@main?token=HfRevQueryTok/m.gguf",
            &["HfRevQueryTok"],
        ),
        case(
            "hf: repository followed by a query (refused)",
            "hf:org/repo?token=HfRepoQueryTok",
            &["HfRepoQueryTok"],
        ),
        case(
            "hf: organization followed by a query (refused)",
            "hf:org?token=HfOrgQueryTok1",
            &["HfOrgQueryTok1"],
        ),
        case(
            "token shape in an allow-listed parameter",
            format!("https://h.example.com/m.gguf?revision={hf_query}"),
            &["HfTokInAllowedParam"],
        ),
        case(
            "query on a refused URL",
            "https://h.example.com:99999/m.gguf?token=BadPortQueryTok",
            &["BadPortQueryTok"],
        ),
        case(
            "query on an oci reference (refused)",
            "oci://ghcr.io/o/m:v1?token=OciQueryToken1",
            &["OciQueryToken1"],
        ),
    ]
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A provisioner's fetcher: every reference is "downloaded" to one local
/// file, so references of any kind import through the library.
struct Downloaded(PathBuf);

impl ModelFetcher for Downloaded {
    fn fetch(&self, _source: &ModelRef) -> Result<FetchedModel> {
        let size = std::fs::metadata(&self.0).unwrap().len();
        Ok(FetchedModel {
            is_directory: false,
            files: vec![SourceFile {
                relative_path: String::new(),
                path: self.0.clone(),
                size,
            }],
        })
    }
}

/// Fails with every secret of `case` that `text` contains.
fn assert_hidden(case: &Case, place: &str, text: &str) {
    for secret in &case.secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{}: {place} shows the secret {secret}:\n{text}",
            case.label
        );
    }
}

fn all_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            all_files(&e.path(), out);
        } else {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
}

/// Parsing, putting and importing through the library: the shown forms,
/// the errors and the log lines hide every secret. Returns the ids stored.
fn through_the_library(root: &Path, model: &Path, captured: &Captured) -> Vec<String> {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let fetcher = Downloaded(model.to_owned());
    let mut stored = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let catalog = Catalog::open(root).unwrap();
        for (i, case) in cases().iter().enumerate() {
            match ModelRef::parse(&case.input) {
                Ok(r) => {
                    for (place, text) in [
                        ("canonical()", r.canonical()),
                        ("Display", r.to_string()),
                        ("Debug", format!("{r:?}")),
                        ("default_id()", r.default_id()),
                    ] {
                        assert_hidden(case, place, &text);
                    }
                    let again = ModelRef::parse(&r.canonical()).unwrap_or_else(|e| {
                        panic!("{}: the redacted form must parse: {e}", case.label)
                    });
                    assert_eq!(again.canonical(), r.canonical(), "{}", case.label);
                    // FileFetcher refuses remote references; its error too.
                    let err = catalog.import(&r, ImportOptions::default()).unwrap_err();
                    assert_hidden(case, "the FileFetcher error", &err.to_string());
                    assert_hidden(case, "the FileFetcher error's Debug", &format!("{err:?}"));
                    let put_id = format!("put-{i}");
                    let entry = catalog
                        .put(EntrySpec::new(
                            put_id.as_str(),
                            case.input.as_str(),
                            "blobs/x",
                        ))
                        .unwrap();
                    assert_hidden(case, "the stored entry", &format!("{entry:?}"));
                    let import_id = format!("import-{i}");
                    let report = catalog
                        .import_with(
                            &fetcher,
                            &r,
                            ImportOptions::default().id(import_id.as_str()),
                            &|_| {},
                        )
                        .unwrap();
                    assert_hidden(case, "the import report", &format!("{report:?}"));
                    catalog
                        .verify(&import_id, VerifyOptions::default(), &|_| {})
                        .unwrap();
                    stored.push(put_id);
                    stored.push(import_id);
                }
                Err(err) => {
                    assert_hidden(case, "the parse error", &err.to_string());
                    assert_hidden(case, "the parse error's Debug", &format!("{err:?}"));
                    let err = catalog
                        .put(EntrySpec::new("refused", case.input.as_str(), "blobs/x"))
                        .unwrap_err();
                    assert_hidden(case, "the put error", &err.to_string());
                    assert_hidden(case, "the put error's Debug", &format!("{err:?}"));
                }
            }
        }
        catalog.compact().unwrap();
    });
    stored
}

#[test]
fn credentials_in_any_position_never_reach_the_journal_logs_or_errors() {
    let cli = Cli::new();
    let model = cli.write_src("m.gguf", b"weights");
    let captured = Captured::default();
    let stored = through_the_library(cli.root(), &model, &captured);
    assert!(
        stored.len() >= 2 * 20,
        "most cases parse and are stored: {}",
        stored.len()
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("model_ref"),
        "puts and imports log their reference: {logs}"
    );
    for case in cases() {
        assert_hidden(&case, "a log line", &logs);
    }

    // The command line: adding each reference fails (only local files are
    // imported), in text and JSON, quietly and verbosely.
    for case in cases() {
        for args in [
            vec!["add", case.input.as_str()],
            vec!["--json", "add", case.input.as_str()],
            vec!["-vv", "add", case.input.as_str()],
        ] {
            let out = cli.run(&args);
            assert!(!out.status.success(), "{}: {args:?} fails", case.label);
            assert_hidden(&case, "stdout", &String::from_utf8_lossy(&out.stdout));
            assert_hidden(&case, "stderr", &String::from_utf8_lossy(&out.stderr));
        }
    }
    // What the library stored, shown by every reading command.
    let mut reads: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["--json", "list"],
        vec!["events"],
        vec!["--json", "events"],
        vec!["-vv", "verify", "--all"],
        vec!["check", "--deep"],
    ];
    for id in &stored {
        reads.push(vec!["show", id]);
        reads.push(vec!["--json", "show", id]);
        reads.push(vec!["history", id]);
        reads.push(vec!["--json", "history", id]);
    }
    let mut shown = String::new();
    for args in &reads {
        let out = cli.run(args);
        shown.push_str(&String::from_utf8_lossy(&out.stdout));
        shown.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        shown.contains("REDACTED") && shown.contains("***@"),
        "the redacted references are shown"
    );
    for case in cases() {
        assert_hidden(&case, "the output of a reading command", &shown);
    }

    // Nothing under the root: journal segments, snapshots, the store.
    let mut files = Vec::new();
    all_files(cli.root(), &mut files);
    assert!(
        files
            .iter()
            .any(|(p, _)| p.extension().is_some_and(|e| e == "snap")),
        "a snapshot was written"
    );
    for (path, bytes) in &files {
        for case in cases() {
            for secret in &case.secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{}: {} holds the secret {secret}",
                    case.label,
                    path.display()
                );
            }
        }
    }
}
