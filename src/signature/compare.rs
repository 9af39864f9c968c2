//! The signed resources against the files the catalog recorded for a
//! model, by path and SHA-256: the missing, the extra and the changed are
//! named. Paths model-signing ignores by default are not the model's.

use super::failure::Failure;
use super::statement::{Method, Statement};
use crate::digest::Digest;
use std::collections::BTreeMap;

/// The top-level paths model-signing leaves out of every signature (its
/// `--ignore-git-paths` default), besides the signature file itself.
pub const IGNORED_BY_DEFAULT: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Whether `path` (relative to the model) is, or is under, one of
/// `ignored`.
pub fn is_ignored(path: &str, ignored: &[&str]) -> bool {
    ignored
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// What is not the model's: the defaults, the signature file, the paths the
/// signed statement lists as ignored (model-signing honours them too), and
/// `extra` (the policy's).
pub(crate) fn ignored<'a>(statement: &'a Statement, extra: &'a [String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = IGNORED_BY_DEFAULT.to_vec();
    out.push(super::DEFAULT_SIGNATURE_NAME);
    for p in statement.ignore_paths.iter().chain(extra) {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        if !p.is_empty() && !p.starts_with('/') {
            out.push(p);
        }
    }
    out
}

/// Whether the statement lists whole files with SHA-256 digests: what the
/// catalog records, so it is checked without reading a byte.
pub fn is_plain(statement: &Statement) -> bool {
    statement.method == Method::Files && statement.hash_type == "sha256"
}

/// Checks a `files` + `sha256` statement against `files` (path, SHA-256 as
/// recorded), leaving out what is ignored (the defaults, the signature
/// file, the statement's `ignore_paths` and `extra_ignored`). Another
/// serialization is [`Failure::Unsupported`] here: its resources are
/// computed from the bytes and checked with [`compare_resources`].
pub fn compare(
    statement: &Statement,
    files: &[(String, Digest)],
    extra_ignored: &[String],
) -> Result<(), Failure> {
    if !is_plain(statement) {
        return Err(Failure::Unsupported(format!(
            "{} digests of {} are not recorded by the catalog",
            statement.hash_type.chars().take(32).collect::<String>(),
            match statement.method {
                Method::Files => "files",
                Method::Shards => "shards",
            },
        )));
    }
    let ours: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, d)| (p.clone(), d.as_bytes().to_vec()))
        .collect();
    compare_resources(statement, &ours, extra_ignored)
}

/// The file a resource name is about: the name itself, or the path of a
/// shard `path:start:end`.
fn file_of(statement: &Statement, name: &str) -> String {
    match statement.method {
        Method::Files => name.to_string(),
        Method::Shards => name.rsplitn(3, ':').last().unwrap_or(name).to_string(),
    }
}

/// Checks the statement's resources against `ours` (resource name, digest
/// bytes), leaving out the resources of ignored files.
pub fn compare_resources(
    statement: &Statement,
    ours: &[(String, Vec<u8>)],
    extra_ignored: &[String],
) -> Result<(), Failure> {
    let ignored = ignored(statement, extra_ignored);
    let mut signed = BTreeMap::new();
    for r in &statement.resources {
        if signed
            .insert(r.name.as_str(), r.digest.as_slice())
            .is_some()
        {
            return Err(Failure::Statement(format!("`{}` is listed twice", r.name)));
        }
    }
    let (mut missing, mut changed, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = std::collections::BTreeSet::new();
    for (name, digest) in ours {
        if is_ignored(&file_of(statement, name), &ignored) {
            continue;
        }
        match signed.get(name.as_str()) {
            Some(d) => {
                seen.insert(name.as_str());
                if *d != digest.as_slice() {
                    changed.push(name.clone());
                }
            }
            None => extra.push(name.clone()),
        }
    }
    missing.extend(
        signed
            .keys()
            .filter(|n| !seen.contains(*n))
            .map(|n| (*n).to_string()),
    );
    if missing.is_empty() && extra.is_empty() && changed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Files {
            missing,
            extra,
            changed,
        })
    }
}

/// The model's files no resource of the statement covers, in two lists:
/// those the statement's `ignore_paths` or the policy's (`extra_ignored`)
/// leave out (a signer's or an operator's explicit choice, named in the
/// outcome), and the rest, signed by nobody: a model passes only without
/// any of those. So a `.gitattributes` or a second `model.sig` model-signing
/// would skip by default fails here (stricter: the catalog records the
/// whole model as signed). Never listed: the signature itself (a file
/// whose SHA-256 is the bundle's), and in a shard statement an empty file
/// (model-signing cuts no shard from it).
pub fn uncovered(
    statement: &Statement,
    files: &[(String, Digest)],
    bundle: Digest,
    extra_ignored: &[String],
) -> (Vec<String>, Vec<String>) {
    let covered: std::collections::BTreeSet<String> = statement
        .resources
        .iter()
        .map(|r| file_of(statement, &r.name))
        .collect();
    let chosen: Vec<&str> = ignored(statement, extra_ignored)
        .into_iter()
        .skip(IGNORED_BY_DEFAULT.len() + 1)
        .collect();
    let empty = Digest::of_bytes(b"");
    let (mut unsigned, mut left_out) = (Vec::new(), Vec::new());
    for (name, digest) in files {
        if covered.contains(name)
            || *digest == bundle
            || (statement.method == Method::Shards && *digest == empty)
        {
            continue;
        }
        if is_ignored(name, &chosen) {
            left_out.push(name.clone());
        } else {
            unsigned.push(name.clone());
        }
    }
    (unsigned, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::statement::Resource;

    fn statement(files: &[(&str, &[u8])]) -> Statement {
        Statement {
            root: Digest::of_bytes(b""),
            method: Method::Files,
            hash_type: "sha256".into(),
            allow_symlinks: false,
            ignore_paths: vec![],
            shard_size: None,
            resources: files
                .iter()
                .map(|(n, b)| Resource {
                    name: (*n).into(),
                    digest: Digest::of_bytes(b).as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn missing_extra_and_changed_files_are_each_named() {
        let s = statement(&[("a", b"a"), ("b", b"b"), ("c", b"c")]);
        let ours = vec![
            ("a".to_string(), Digest::of_bytes(b"a")),
            ("b".to_string(), Digest::of_bytes(b"B")),
            ("d".to_string(), Digest::of_bytes(b"d")),
            (".git/HEAD".to_string(), Digest::of_bytes(b"h")),
            ("model.sig".to_string(), Digest::of_bytes(b"s")),
        ];
        assert_eq!(
            compare(&s, &ours, &[]),
            Err(Failure::Files {
                missing: vec!["c".into()],
                extra: vec!["d".into()],
                changed: vec!["b".into()],
            })
        );
        let same = vec![
            ("a".to_string(), Digest::of_bytes(b"a")),
            ("b".to_string(), Digest::of_bytes(b"b")),
            ("c".to_string(), Digest::of_bytes(b"c")),
        ];
        assert_eq!(compare(&s, &same, &[]), Ok(()));
        let mut extra = same.clone();
        extra.push(("ignore-me/x".to_string(), Digest::of_bytes(b"x")));
        assert!(compare(&s, &extra, &[]).is_err());
        assert_eq!(compare(&s, &extra, &["ignore-me".into()]), Ok(()));
        let mut listed = s.clone();
        listed.ignore_paths = vec!["./ignore-me".into()];
        assert_eq!(compare(&listed, &extra, &[]), Ok(()), "the statement's own");
    }

    #[test]
    fn a_file_no_resource_covers_is_unsigned_unless_chosen_or_the_signature() {
        let mut s = statement(&[("a", b"a")]);
        s.ignore_paths = vec!["by-signer".into()];
        let bundle = Digest::of_bytes(b"bundle");
        let files = vec![
            ("a".to_string(), Digest::of_bytes(b"a")),
            (".gitattributes".to_string(), Digest::of_bytes(b"g")),
            ("model.sig".to_string(), bundle),
            (
                "sub/model.sig".to_string(),
                Digest::of_bytes(b"not the bundle"),
            ),
            ("by-signer/x".to_string(), Digest::of_bytes(b"x")),
            ("by-operator".to_string(), Digest::of_bytes(b"o")),
        ];
        let (unsigned, left_out) = uncovered(&s, &files, bundle, &["by-operator".into()]);
        assert_eq!(unsigned, [".gitattributes", "sub/model.sig"]);
        assert_eq!(left_out, ["by-signer/x", "by-operator"]);
    }

    #[test]
    fn only_the_default_ignored_paths_and_the_signature_are_skipped() {
        let s = statement(&[]);
        let ignored = ignored(&s, &[]);
        for p in [
            ".git",
            ".git/config",
            ".gitattributes",
            ".github/x.yml",
            "model.sig",
        ] {
            assert!(is_ignored(p, &ignored), "{p}");
        }
        for p in [".gitx", "a/.git", "model.sig2", "sub/model.sig"] {
            assert!(!is_ignored(p, &ignored), "{p}");
        }
    }
}
