//! `catalog add <path> --ref <ModelRef>` records where a local model came
//! from (a Hub revision, a URL, an OCI image, an Ollama tag) instead of the
//! path it was copied from: stored canonical and redacted like every
//! reference, and the default id is made from it. `show --json` and
//! `list --json` carry where the digest came from.

use crate::cli_support::{Cli, bytes, digest_of};

fn journal_bytes(cli: &Cli) -> Vec<u8> {
    let dir = cli.root().join("catalog/journal");
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn the_reference_given_is_recorded_instead_of_the_path() {
    let cli = Cli::new();
    let weights = bytes(4000, 3);
    cli.write_src("m.gguf", &weights);
    let out = cli.json(&["add", "m.gguf", "--ref", "hf:org/repo@refs/pr/1/m.gguf"]);
    assert_eq!(out["ref"], "hf:org/repo@refs/pr/1/m.gguf");
    assert_eq!(out["id"], "org--repo@refs/pr/1--m.gguf", "the default id");
    assert_eq!(out["digest_source"], "import", "no --digest: computed now");
    assert_eq!(out["trust"], "warned");

    let out = cli.json(&[
        "add",
        "m.gguf",
        "--id",
        "llama",
        "--ref",
        "ollama:llama3:8b",
        "--digest",
        &digest_of(&weights),
    ]);
    assert_eq!(out["ref"], "ollama:registry.ollama.ai/library/llama3:8b");
    assert_eq!(out["digest_source"], "publisher");
    assert_eq!(out["trust"], "verified");
    let shown = cli.json(&["show", "llama"]);
    assert_eq!(shown["digest_source"], "publisher");
    assert_eq!(shown["external"], false);
    let listed = cli.listed("llama").unwrap();
    assert_eq!(listed["digest_source"], "publisher");
}

#[test]
fn a_reference_with_credentials_is_stored_redacted() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(4000, 4));
    let out = cli.json(&[
        "add",
        "m.gguf",
        "--id",
        "m",
        "--ref",
        "https://alice:pa55w0rd-s3cret@cdn.example/m.gguf?X-Amz-Signature=deadbeefcafe1234",
    ]);
    assert_eq!(
        out["ref"],
        "https://***@cdn.example/m.gguf?X-Amz-Signature=REDACTED"
    );
    let journal = journal_bytes(&cli);
    for secret in ["pa55w0rd-s3cret", "deadbeefcafe1234", "alice"] {
        assert!(
            !journal
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} reached the journal"
        );
    }
}

#[test]
fn a_reference_that_does_not_parse_is_bad_input_and_writes_nothing() {
    let cli = Cli::new();
    cli.write_src("m.gguf", &bytes(100, 5));
    let out = cli.run(&["add", "m.gguf", "--ref", "hf:org/repo.git"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(cli.root_is_empty(), "nothing written, no catalog created");
}
