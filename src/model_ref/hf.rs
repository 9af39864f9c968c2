//! `hf:org/repo[@revision][/path/in/repo]`: a Hugging Face Hub reference.
//!
//! Names follow the Hub's rules: 1 to [`MAX_HF_NAME_LEN`] characters of
//! ASCII letters, digits, `-`, `_` and `.`; not starting or ending with `-`
//! or `.`; no `--` or `..`. Case is preserved and compared exactly (the Hub
//! preserves case; whether it also matches case-insensitively is the Hub's
//! business, and guessing would merge references that may differ). A
//! revision is a branch, tag or commit: 1 to [`MAX_REVISION_LEN`]
//! characters of ASCII letters, digits, `.`, `_` and `-`, without `..`
//! (so no `/` in branch names). The path inside the repository is
//! normalized like every other path (see `path.rs`); when shown, a `?` in
//! it starts a query, a `#` a fragment and a `;` path parameters, redacted
//! like a URL's (see `redact.rs`).

use super::{ModelRef, invalid, path, quote, quote_after};
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
    check_name("repository", repo)?;
    if let Some(revision) = revision {
        check_revision(revision)?;
    }
    let path = match in_repo {
        Some(in_repo) => {
            let what = "the path inside the repository";
            let joined = path::join(what, &path::segments(what, in_repo)?, false)?;
            Some(joined).filter(|p| !p.is_empty())
        }
        None => None,
    };
    Ok(ModelRef::HuggingFace {
        org: org.to_owned(),
        repo: repo.to_owned(),
        revision: revision.map(str::to_owned),
        path,
    })
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

/// Checks a revision (branch, tag or commit).
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
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !revision.chars().all(allowed) || revision == "." || revision.contains("..") {
        return Err(invalid(format!(
            "the revision {} is not a plain branch, tag or commit name: use ASCII \
             letters, digits, `-`, `_` and `.` (no `/`, no `..`)",
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
        for bad in ["", ".", "a..b", "feature/x", "a b", too_long.as_str()] {
            assert!(check_revision(bad).is_err(), "{bad:?}");
        }
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
