//! A reference with `user:token@` or a token query parameter is stored and
//! logged only in its redacted form: the secret appears in no log line, no
//! journal byte, no history event and no listing.

use catalog_core::{
    Catalog, Counters, EntrySpec, ImportOptions, Lifecycle, ModelRef, OpContext, Options,
    VerifyOptions,
};
use std::io::Write;
use std::sync::{Arc, Mutex};

const SECRETS: [&str; 4] = [
    "s3cr3t-pass",
    "tok-abc123",
    "sig-xyz789",
    "hf_AbCdEfGhIjKlMnOpQrStUvWx",
];

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

fn all_files(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            all_files(&e.path(), out);
        } else {
            out.push(std::fs::read(e.path()).unwrap());
        }
    }
}

#[test]
fn secrets_in_references_never_appear_in_logs_journal_or_history() {
    let url = format!(
        "https://alice:{}@models.example.com/org/m.gguf?token={}&X-Amz-Signature={}&v=1",
        SECRETS[0], SECRETS[1], SECRETS[2]
    );
    let hf_with_token = format!("hf:org/repo/{}.gguf", SECRETS[3]);
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let counters = Arc::new(Counters::default());
    tracing::subscriber::with_default(subscriber, || {
        let catalog =
            Catalog::open_with(root.path(), Options::default().metrics(counters.clone())).unwrap();
        let ctx = OpContext::new()
            .correlation_id("corr-7")
            .actor("provisioner");
        let entry = catalog
            .with_context(ctx.clone())
            .put(EntrySpec::new("remote", url.as_str(), "blobs/x"))
            .unwrap();
        assert!(
            entry.model_ref.contains("REDACTED") && entry.model_ref.contains("***@"),
            "{}",
            entry.model_ref
        );
        catalog
            .put(EntrySpec::new("hf", hf_with_token.as_str(), "blobs/y"))
            .unwrap();
        catalog
            .with_context(ctx.clone())
            .set_state("remote", Lifecycle::Retired)
            .unwrap();
        // An import and a verification log the model_ref too.
        let file = src.path().join("m.gguf");
        std::fs::write(&file, b"weights").unwrap();
        let r = ModelRef::parse(&format!("file:{}", file.display())).unwrap();
        catalog
            .import(
                &r,
                ImportOptions::default().id("local").context(ctx.clone()),
            )
            .unwrap();
        catalog
            .verify(
                "local",
                VerifyOptions::default().context(ctx.clone()),
                &|_| {},
            )
            .unwrap();
        let err = catalog
            .import(&ModelRef::parse(&url).unwrap(), ImportOptions::default())
            .unwrap_err();
        let message = err.to_string();
        for s in SECRETS {
            assert!(!message.contains(s), "error message leaks {s}: {message}");
        }
        assert!(catalog.with_context(ctx).delete("remote").unwrap());
        catalog.compact().unwrap();
        for e in catalog.history("remote").unwrap() {
            let shown = format!("{e:?}");
            for s in SECRETS {
                assert!(!shown.contains(s), "history leaks {s}");
            }
        }
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("model_id"), "operations are logged: {logs}");
    assert!(logs.contains("corr-7"), "with their correlation id");
    assert!(
        logs.contains("duration_ms") && logs.contains("digest"),
        "and the documented fields"
    );
    assert!(
        logs.contains("***@models.example.com"),
        "the redacted reference is logged"
    );
    for s in SECRETS {
        assert!(!logs.contains(s), "a log line leaks {s}");
    }
    let mut files = Vec::new();
    all_files(root.path(), &mut files);
    assert!(files.len() > 3);
    for bytes in files {
        for s in SECRETS {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a file under the root holds {s}"
            );
        }
    }
    // The metrics saw the operations, with fixed label values.
    let snap = counters.snapshot();
    assert_eq!(snap.puts, 3);
    assert!(snap.verifications.iter().all(|((r, why), _)| {
        ["pass", "warn", "fail"].contains(r)
            && [
                "match",
                "no_expected",
                "mismatch",
                "unreadable",
                "unchanged",
            ]
            .contains(why)
    }));
    assert_eq!(snap.verifications.iter().map(|(_, n)| n).sum::<u64>(), 2);
}
