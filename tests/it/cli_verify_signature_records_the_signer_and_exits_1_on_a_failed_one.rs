//! `catalog verify ID --signature model.sig --key pub.pem`: a signature
//! made by model-signing verifies (exit 0), `show` and `list --json` carry
//! the signer and trust reads `verified (signed by key …)`; a signature
//! checked with another key, or over a changed model, is `failed` with the
//! reason and exits 1; a key file that is not a key is bad input (exit 2,
//! nothing recorded).

use crate::cli_support::Cli;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oms")
        .join(rel)
        .display()
        .to_string()
}

fn add_model(cli: &Cli, from: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oms")
        .join(from);
    for rel in [
        "config.json",
        "model.safetensors",
        "tokenizer/tokenizer.json",
        "extra.bin",
    ] {
        if let Ok(bytes) = std::fs::read(dir.join(rel)) {
            cli.write_src(&format!("model/{rel}"), &bytes);
        }
    }
    cli.ok(&["add", "model", "--id", "m"]);
    cli.src.path().join("model")
}

#[test]
fn a_good_signature_verifies_and_is_shown_with_its_signer() {
    let cli = Cli::new();
    add_model(&cli, "model");
    let key = fixture("keys/p256.pub.pem");
    let out = cli.ok(&[
        "verify",
        "m",
        "--signature",
        &fixture("p256.sig"),
        "--key",
        &key,
    ]);
    assert!(out.contains("signature pass"), "{out}");
    let listed = cli.listed("m").unwrap();
    assert_eq!(listed["trust"], "verified");
    assert_eq!(listed["digest_source"], "signature");
    assert_eq!(listed["signature"]["signer"]["kind"], "key");
    let hint = listed["signature"]["signer"]["hint"]
        .as_str()
        .unwrap()
        .to_string();
    let bundle = std::fs::read_to_string(fixture("p256.sig")).unwrap();
    assert!(
        bundle.contains(&hint),
        "the hint model-signing wrote: {hint}"
    );
    let show = cli.ok(&["show", "m"]);
    assert!(
        show.contains(&format!("verified (signed by key {})", &hint[..16])),
        "{show}"
    );
    // The bundle is kept in the store, and check --deep finds all well.
    let digest = listed["signature"]["bundle"].as_str().unwrap();
    let kept = cli
        .root()
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    assert_eq!(std::fs::read_to_string(kept).unwrap(), bundle);
    cli.ok(&["check", "--deep"]);
    // The journal event says who signed, and which bundle.
    let events = cli.json_lines(&["events"]);
    let signed = events
        .iter()
        .find(|e| e["kind"] == "verify_signature")
        .expect("a verify_signature event");
    assert_eq!(signed["result"], "pass");
    assert_eq!(signed["bundle"], listed["signature"]["bundle"]);
    assert!(
        signed["signer"].as_str().unwrap().starts_with("key "),
        "{signed}"
    );
}

#[test]
fn a_wrong_key_or_a_changed_model_is_failed_with_the_reason_and_exit_1() {
    let cli = Cli::new();
    add_model(&cli, "model");
    let out = cli.expect(
        1,
        &[
            "verify",
            "m",
            "--signature",
            &fixture("p256.sig"),
            "--key",
            &fixture("keys/other-p256.pub.pem"),
        ],
    );
    assert!(out.contains("signed with another key"), "{out}");
    assert_eq!(cli.listed("m").unwrap()["trust"], "failed");

    let cli = Cli::new();
    add_model(&cli, "model-changed");
    let key = fixture("keys/p256.pub.pem");
    let out = cli.expect(
        1,
        &[
            "verify",
            "m",
            "--signature",
            &fixture("p256.sig"),
            "--key",
            &key,
        ],
    );
    assert!(out.contains("changed: config.json"), "{out}");
    let listed = cli.listed("m").unwrap();
    assert_eq!(listed["trust"], "failed");
    assert!(
        listed["last_verification"]["reason"]
            .as_str()
            .unwrap()
            .contains("changed: config.json")
    );
}

#[test]
fn a_key_file_that_is_not_a_key_is_bad_input_and_nothing_is_recorded() {
    let cli = Cli::new();
    add_model(&cli, "model");
    let before = cli.ok(&["history", "m"]);
    let not_a_key = cli.write_src("not-a-key.pem", b"hello");
    let out = cli.run(&[
        "verify",
        "m",
        "--signature",
        &fixture("p256.sig"),
        "--key",
        &not_a_key.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(cli.ok(&["history", "m"]), before, "nothing recorded");
}

#[test]
fn a_certificate_signature_verifies_against_the_roots_given_with_cert_chain() {
    let cli = Cli::new();
    add_model(&cli, "model");
    let sig = fixture("cert.sig");
    cli.ok(&[
        "verify",
        "m",
        "--signature",
        &sig,
        "--cert-chain",
        &fixture("certs/ca.pem"),
    ]);
    let signer = &cli.listed("m").unwrap()["signature"]["signer"];
    assert_eq!(signer["kind"], "certificate");
    assert_eq!(signer["subject"], "CN=signer@cert.example");
    assert_eq!(signer["issuer"], "CN=Test Intermediate CA");
    let other = fixture("certs/other-ca.pem");
    let out = cli.expect(
        1,
        &["verify", "m", "--signature", &sig, "--cert-chain", &other],
    );
    assert!(out.contains("certificate not trusted"), "{out}");
}

/// A FIFO (or any file that is not a regular one) given as the signature
/// or the key is bad input at once, never waited on (it was: the command
/// blocked forever on a FIFO nobody wrote to).
#[test]
fn a_fifo_as_the_signature_or_the_key_is_refused_not_waited_on() {
    let cli = Cli::new();
    add_model(&cli, "model");
    let fifo = cli.write_src("placeholder", b"");
    std::fs::remove_file(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = fifo.display().to_string();
    let (sig, key) = (fixture("p256.sig"), fixture("keys/p256.pub.pem"));
    for (s, k) in [(&fifo, &key), (&sig, &fifo)] {
        let out = cli.run(&["verify", "m", "--signature", s, "--key", k]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a regular file"), "{err}");
    }
}
