//! `hf:` references are read as the Hub reads them: every repository id of
//! `tests/data/hf_repo_ids.jsonl` (4,000+ ids, with the verdict of
//! huggingface_hub's own `validate_repo_id`, written by
//! `scripts/hf_repo_id_corpus.py`) gets the same verdict from the parser,
//! and every revision is read as huggingface_hub writes it in a URL
//! (`refs/pr/1` is `refs%2Fpr%2F1`).
//!
//! Deliberate differences, each checked below:
//! 1. A single-segment id (`gpt2`, a legacy Hub name) is refused: in `hf:`
//!    what follows the repository is the path inside it, so `hf:gpt2/x`
//!    would be ambiguous. Its name is checked as a repository name instead
//!    (`hf:org/gpt2`), where the verdicts agree.
//! 2. A revision is refused unless every `/`-separated part is ASCII
//!    letters, digits, `-`, `_` and `.` (not `.`, no `..`): huggingface_hub
//!    does not check revisions at all, and percent-encodes whatever it is
//!    given. The refused ones of the corpus are listed in
//!    `REFUSED_REVISIONS`.

use catalog_core::ModelRef;
use serde_json::Value;

const CORPUS: &str = include_str!("../data/hf_repo_ids.jsonl");

const REFUSED_REVISIONS: &[&str] = &[
    "with space",
    "a~b",
    "a+b",
    "a@b",
    "a:b",
    "a#b",
    "a?b",
    "é",
    "v1..2",
    ".",
    "..",
    "refs/pr/",
    "x%y",
    "a%2Fb",
];

fn lines(kind: &str) -> Vec<Value> {
    CORPUS
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|v| v["kind"] == kind)
        .collect()
}

fn plain(id: &str) -> bool {
    id.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

#[test]
fn every_repository_id_gets_huggingface_hubs_verdict() {
    let ids = lines("repo_id");
    assert!(ids.len() >= 1000, "{} ids", ids.len());
    let mut disagreements = Vec::new();
    let (mut agreed, mut single) = (0, 0);
    for line in &ids {
        let id = line["id"].as_str().unwrap();
        let valid = line["valid"].as_bool().unwrap();
        match id.split('/').count() {
            1 => {
                single += 1;
                // Difference 1: refused as an id, judged as a repository name.
                if ModelRef::check_hf_repo_id(id).is_ok() {
                    disagreements.push(format!("{id:?}: a single-segment id was accepted"));
                }
                let as_name = format!("org/{id}");
                if ModelRef::check_hf_repo_id(&as_name).is_ok() != valid {
                    disagreements.push(format!("{id:?} as a repository name: hub says {valid}"));
                }
            }
            _ => {
                if ModelRef::check_hf_repo_id(id).is_ok() != valid {
                    disagreements.push(format!("{id:?}: hub says {valid}"));
                }
                // The parser agrees too, where `@`, `?`, `#` and friends
                // cannot be read as a revision or a query.
                if id.split('/').count() == 2 && plain(id) {
                    let parsed = ModelRef::parse(&format!("hf:{id}"));
                    if parsed.is_ok() != valid {
                        disagreements.push(format!(
                            "hf:{id:?} parses {}: hub says {valid}",
                            parsed.is_ok()
                        ));
                    }
                }
            }
        }
        agreed += 1;
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} ids disagree: {disagreements:#?}",
        disagreements.len(),
        ids.len()
    );
    assert!(
        single > 100,
        "single-segment ids are in the corpus ({single})"
    );
    assert_eq!(agreed, ids.len());
}

#[test]
fn ids_ending_in_dot_git_are_refused_like_the_hub_refuses_them() {
    let line = lines("repo_id")
        .into_iter()
        .find(|l| l["id"] == "meta-llama/Meta-Llama-3-8B-Instruct.git")
        .expect("in the corpus");
    assert_eq!(line["valid"], false, "the hub refuses it");
    assert!(ModelRef::parse("hf:meta-llama/Meta-Llama-3-8B-Instruct.git").is_err());
    assert!(
        ModelRef::parse("hf:org.git/repo").is_ok(),
        "only the repository name"
    );
}

#[test]
fn every_revision_is_read_as_huggingface_hub_writes_it() {
    let revisions = lines("revision");
    assert!(revisions.len() >= 30);
    for line in &revisions {
        let revision = line["revision"].as_str().unwrap();
        let quoted = line["quoted"].as_str().unwrap();
        let parsed = ModelRef::parse(&format!("hf:org/repo@{quoted}/dir/f.gguf"));
        if REFUSED_REVISIONS.contains(&revision) {
            assert!(parsed.is_err(), "{revision:?} is refused (difference 2)");
            continue;
        }
        let parsed = parsed.unwrap_or_else(|e| panic!("{revision:?} as {quoted}: {e}"));
        let ModelRef::HuggingFace {
            revision: got,
            path,
            ..
        } = &parsed
        else {
            panic!("a hf reference")
        };
        assert_eq!(got.as_deref(), Some(revision), "{quoted}");
        assert_eq!(path.as_deref(), Some("dir/f.gguf"), "{quoted}");
        assert_eq!(
            ModelRef::parse(&parsed.canonical()).unwrap(),
            parsed,
            "{revision:?} round-trips through {}",
            parsed.canonical()
        );
    }
    let accepted = revisions.len() - REFUSED_REVISIONS.len();
    assert!(accepted >= 20, "{accepted}");
}

#[test]
fn pull_request_and_conversion_revisions_are_written_as_the_hub_shows_them() {
    for (input, revision, path) in [
        ("hf:org/repo@refs/pr/1", "refs/pr/1", None),
        (
            "hf:org/repo@refs/pr/1/q4/m.gguf",
            "refs/pr/1",
            Some("q4/m.gguf"),
        ),
        ("hf:org/repo@refs%2Fpr%2F1", "refs/pr/1", None),
        (
            "hf:org/repo@refs/convert/parquet/x",
            "refs/convert/parquet",
            Some("x"),
        ),
        (
            "hf:org/repo@feature%2fx/m.gguf",
            "feature/x",
            Some("m.gguf"),
        ),
    ] {
        let r = ModelRef::parse(input).unwrap();
        let ModelRef::HuggingFace {
            revision: got,
            path: got_path,
            ..
        } = &r
        else {
            panic!("hf")
        };
        assert_eq!(got.as_deref(), Some(revision), "{input}");
        assert_eq!(got_path.as_deref(), path, "{input}");
    }
    assert_eq!(
        ModelRef::parse("hf:org/repo@refs%2Fpr%2F1")
            .unwrap()
            .canonical(),
        "hf:org/repo@refs/pr/1"
    );
    assert_eq!(
        ModelRef::parse("hf:org/repo@feature%2Fx")
            .unwrap()
            .canonical(),
        "hf:org/repo@feature%2Fx"
    );
    // `refs/` followed by anything else is refused, never split silently.
    assert!(ModelRef::parse("hf:org/repo@refs/heads/main").is_err());
    assert!(ModelRef::parse("hf:org/repo@refs/pr/x").is_err());
}
