//! `hf:org/repo[@revision][/path/in/repo]`: a Hugging Face Hub reference.
//!
//! Names follow the Hub's rules (huggingface_hub's `validate_repo_id`): 1
//! to [`MAX_HF_NAME_LEN`] characters of ASCII letters, digits, `-`, `_` and
//! `.`; not starting or ending with `-` or `.`; no `--` or `..`; and a
//! repository name does not end in `.git`. Case is preserved and compared
//! exactly (the Hub preserves case; whether it also matches
//! case-insensitively is the Hub's business, and guessing would merge
//! references that may differ). A single-segment id (`gpt2`, a legacy Hub
//! name) is refused: what follows the repository is the path inside it, so
//! `hf:gpt2/config.json` would be ambiguous.
//!
//! A revision is a branch, tag or commit, read as the Hub reads it:
//! `refs/pr/<N>` (a pull request) and `refs/convert/<name>` (a conversion
//! branch such as `refs/convert/parquet`) are written as they are; any
//! other `/` in a branch name is written `%2F` (`feature%2Fx`), as in the
//! Hub's URLs. Each `/`-separated part is 1 or more ASCII letters, digits,
//! `.`, `_` and `-`, not `.`, without `..`; at most [`MAX_REVISION_LEN`]
//! characters in all. The path inside the repository is normalized like
//! every other path (see `path.rs`); when shown, a `?` in it starts a
//! query, a `#` a fragment and a `;` path parameters, redacted like a
//! URL's (see `redact.rs`).

use super::path;
use super::reference::ModelRef;
use super::text::{invalid, quote, quote_after};
use crate::Result;

/// Longest organization or repository name the Hub accepts.
pub(super) const MAX_HF_NAME_LEN: usize = 96;
/// Longest revision accepted.
pub(super) const MAX_REVISION_LEN: usize = 128;

/// Parses what follows `hf:`.
pub(super) fn parse(rest: &str) -> Result<ModelRef> {
    if rest.starts_with("//") {
        return Err(invalid(
            "Hugging Face references are written `hf:org/repo`, without `//`",
        ));
    }
    let Some((org, after_org)) = rest.split_once('/') else {
        return Err(invalid(format!(
            "{} has no repository; write hf:org/repo (optionally \
             hf:org/repo@revision/path/in/repo)",
            quote_after("hf:", rest)
        )));
    };
    let (repo_and_rev, in_repo) = match after_org.split_once('/') {
        Some((repo_and_rev, in_repo)) => (repo_and_rev, Some(in_repo)),
        None => (after_org, None),
    };
    let (repo, revision) = match repo_and_rev.split_once('@') {
        Some((repo, revision)) => (repo, Some(revision)),
        None => (repo_and_rev, None),
    };
    check_name("organization", org)?;
    check_repo_name(repo)?;
    // `refs/pr/<N>` and `refs/convert/<name>` take the path's first parts.
    let (revision, in_repo) = match (revision, in_repo) {
        (Some("refs"), Some(in_repo)) => {
            let (kind_and_name, rest) = split_two(in_repo);
            match kind_and_name {
                Some(special) => (Some(format!("refs/{special}")), rest),
                None => {
                    return Err(invalid(
                        "a revision starting `refs/` is `refs/pr/<number>` or \
                         `refs/convert/<name>`; write a `/` in any other branch name as `%2F`",
                    ));
                }
            }
        }
        (Some(revision), in_repo) => (Some(revision.to_owned()), in_repo),
        (None, in_repo) => (None, in_repo),
    };
    let revision = match revision {
        Some(revision) => Some(decode_revision(&revision)?),
        None => None,
    };
    let path = match in_repo {
        Some(in_repo) => {
            let what = "the path inside the repository";
            let joined = path::normalize_relative(what, in_repo)?;
            Some(joined).filter(|p| !p.is_empty())
        }
        None => None,
    };
    Ok(ModelRef::HuggingFace {
        org: org.to_owned(),
        repo: repo.to_owned(),
        revision,
        path,
    })
}

/// After `@refs/`: `pr/<digits>` or `convert/<name>`, and what follows it
/// (the path inside the repository); `None` for anything else.
fn split_two(in_repo: &str) -> (Option<String>, Option<&str>) {
    let mut parts = in_repo.splitn(3, '/');
    let (kind, name, rest) = (parts.next(), parts.next(), parts.next());
    let special = match (kind, name) {
        (Some("pr"), Some(n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("pr/{n}"))
        }
        (Some("convert"), Some(n)) if is_revision_part(n) => Some(format!("convert/{n}")),
        _ => None,
    };
    (special, rest)
}

/// A revision as written after `@`, decoded: `%2F` (either case) is a `/`;
/// any other `%` is refused; then every `/`-separated part is checked.
fn decode_revision(written: &str) -> Result<String> {
    let mut decoded = String::with_capacity(written.len());
    let mut rest = written;
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3);
        if !escape.is_some_and(|e| e.eq_ignore_ascii_case("%2F")) {
            return Err(invalid(format!(
                "the revision {} has a `%` escape other than `%2F` (a `/` in a branch \
                 name); write the branch name with ASCII letters, digits, `-`, `_`, `.` \
                 and `%2F`",
                quote(written)
            )));
        }
        decoded.push('/');
        rest = &rest[at + 3..];
    }
    decoded.push_str(rest);
    check_revision(&decoded)?;
    Ok(decoded)
}

/// How a revision is written in the canonical form: `refs/pr/<N>` and
/// `refs/convert/<name>` as they are, any other `/` as `%2F`.
pub(super) fn encode_revision(revision: &str) -> String {
    if is_special_revision(revision) {
        revision.to_owned()
    } else {
        revision.replace('/', "%2F")
    }
}

/// `encode_revision(revision).len()`, without building it.
pub(super) fn encoded_revision_len(revision: &str) -> usize {
    if is_special_revision(revision) {
        revision.len()
    } else {
        revision.len() + 2 * revision.matches('/').count()
    }
}

/// `refs/pr/<N>` and `refs/convert/<name>`: kept with their `/`.
fn is_special_revision(revision: &str) -> bool {
    revision
        .strip_prefix("refs/")
        .is_some_and(|rest| matches!(split_two(rest), (Some(s), None) if s == rest))
}

/// Checks a Hub repository id, `org/repo`, as the Hub reads it (see the
/// module docs; a single-segment id is refused).
pub(super) fn check_repo_id(repo_id: &str) -> Result<()> {
    let Some((org, repo)) = repo_id.split_once('/') else {
        return Err(invalid(format!(
            "{} is a single-segment repository id; write org/repo (the Hub redirects legacy \
             single-segment names to one)",
            quote(repo_id)
        )));
    };
    if repo.contains('/') {
        return Err(invalid(format!(
            "{} has more than one `/`; a repository id is org/repo",
            quote(repo_id)
        )));
    }
    check_name("organization", org)?;
    check_repo_name(repo)
}

/// A repository name: a Hub name that does not end in `.git`.
fn check_repo_name(repo: &str) -> Result<()> {
    check_name("repository", repo)?;
    if repo.ends_with(".git") {
        return Err(invalid(format!(
            "the repository name {} ends in `.git`, which the Hub refuses; leave out `.git`",
            quote(repo)
        )));
    }
    Ok(())
}

/// Checks an organization or repository name against the Hub's rules.
pub(super) fn check_name(kind: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(format!(
            "the {kind} name is empty; write hf:org/repo"
        )));
    }
    if name.len() > MAX_HF_NAME_LEN {
        return Err(invalid(format!(
            "the {kind} name is {} bytes long, at most {MAX_HF_NAME_LEN}",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(invalid(format!(
            "the {kind} name {} contains {c:?}; Hugging Face names use only ASCII \
             letters, digits, `-`, `_` and `.`",
            quote(name)
        )));
    }
    if name.starts_with(['-', '.']) || name.ends_with(['-', '.']) {
        return Err(invalid(format!(
            "the {kind} name {} starts or ends with `-` or `.`, which the Hub refuses",
            quote(name)
        )));
    }
    if name.contains("--") || name.contains("..") {
        return Err(invalid(format!(
            "the {kind} name {} contains `--` or `..`, which the Hub refuses",
            quote(name)
        )));
    }
    Ok(())
}

/// One `/`-separated part of a revision: ASCII letters, digits, `-`, `_`
/// and `.`, not `.`, without `..`.
fn is_revision_part(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && part != "."
        && !part.contains("..")
}

/// Checks a decoded revision (branch, tag or commit).
pub(super) fn check_revision(revision: &str) -> Result<()> {
    if revision.is_empty() {
        return Err(invalid(
            "the revision after `@` is empty; write hf:org/repo@revision or leave out the `@`",
        ));
    }
    if revision.len() > MAX_REVISION_LEN {
        return Err(invalid(format!(
            "the revision is {} bytes long, at most {MAX_REVISION_LEN}",
            revision.len()
        )));
    }
    if !revision.split('/').all(is_revision_part) {
        return Err(invalid(format!(
            "the revision {} is not a branch, tag or commit name: use ASCII letters, digits, \
             `-`, `_` and `.` (no `..`), with `%2F` for a `/` in a branch name",
            quote(revision)
        )));
    }
    Ok(())
}

/// The suggested catalog id: `org--repo`, then `@revision`, then the
/// in-repo path with each `/` written as `--`. `--` cannot occur in a Hub
/// name, so the org/repo boundary stays unambiguous.
pub(super) fn default_id(
    org: &str,
    repo: &str,
    revision: Option<&str>,
    path: Option<&str>,
) -> String {
    let mut id = format!("{org}--{repo}");
    if let Some(revision) = revision {
        id.push('@');
        id.push_str(revision);
    }
    if let Some(path) = path {
        id.push_str("--");
        id.push_str(&path.replace('/', "--"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_names_follow_the_hub_rules() {
        let longest = "a".repeat(MAX_HF_NAME_LEN);
        for ok in [
            "a",
            "Qwen",
            "Meta-Llama-3_8B.v1",
            "a.b-c_d",
            longest.as_str(),
        ] {
            assert!(check_name("repository", ok).is_ok(), "{ok}");
        }
        let too_long = "a".repeat(MAX_HF_NAME_LEN + 1);
        for bad in [
            "",
            "-a",
            "a-",
            ".a",
            "a.",
            "a--b",
            "a..b",
            "a b",
            "a/b",
            "a@b",
            "é",
            too_long.as_str(),
        ] {
            assert!(check_name("repository", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn revisions_are_plain_names() {
        let longest = "0".repeat(MAX_REVISION_LEN);
        for ok in ["main", "v1.0", "refs-pr-1", "a1b2c3d", longest.as_str()] {
            assert!(check_revision(ok).is_ok(), "{ok}");
        }
        let too_long = "0".repeat(MAX_REVISION_LEN + 1);
        for bad in [
            "",
            ".",
            "a..b",
            "feature//x",
            "a b",
            "/x",
            "x/",
            too_long.as_str(),
        ] {
            assert!(check_revision(bad).is_err(), "{bad:?}");
        }
        assert!(
            check_revision("feature/x").is_ok(),
            "decoded from feature%2Fx"
        );
    }

    #[test]
    fn default_ids_join_the_parts_with_double_dashes() {
        assert_eq!(default_id("o", "r", None, None), "o--r");
        assert_eq!(
            default_id("o", "r", Some("v1"), Some("q4/m.gguf")),
            "o--r@v1--q4--m.gguf"
        );
    }
}
