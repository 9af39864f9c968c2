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

/// Whether `path` (relative to the model) is left out of the comparison:
/// it is, or is under, a default-ignored path or the signature file.
pub fn is_ignored(path: &str, signature_name: &str) -> bool {
    IGNORED_BY_DEFAULT
        .iter()
        .chain(std::iter::once(&signature_name))
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// Checks a `files` + `sha256` statement against `files` (path, SHA-256 as
/// recorded). Anything else is [`Failure::Unsupported`] (shards and BLAKE
/// digests need hashing as the statement says: not in this build).
pub fn compare(
    statement: &Statement,
    files: &[(String, Digest)],
    signature_name: &str,
) -> Result<(), Failure> {
    if statement.method != Method::Files || statement.hash_type != "sha256" {
        return Err(Failure::Unsupported(format!(
            "serialization {} with {} digests (this build checks files with sha256, as the \
             model_signing command line does)",
            match statement.method {
                Method::Files => "files",
                Method::Shards => "shards",
            },
            statement.hash_type.chars().take(32).collect::<String>()
        )));
    }
    let mut signed = BTreeMap::new();
    for r in &statement.resources {
        if signed
            .insert(r.name.as_str(), r.digest.as_slice())
            .is_some()
        {
            return Err(Failure::Statement(format!("`{}` is listed twice", r.name)));
        }
    }
    let mut missing = Vec::new();
    let mut changed = Vec::new();
    let mut extra = Vec::new();
    let mut seen = 0;
    for (path, digest) in files {
        if is_ignored(path, signature_name) {
            continue;
        }
        match signed.get(path.as_str()) {
            Some(d) => {
                seen += 1;
                if *d != digest.as_bytes() {
                    changed.push(path.clone());
                }
            }
            None => extra.push(path.clone()),
        }
    }
    if seen < signed.len() {
        let ours: std::collections::BTreeSet<&str> =
            files.iter().map(|(p, _)| p.as_str()).collect();
        missing.extend(
            signed
                .keys()
                .filter(|n| !ours.contains(*n))
                .map(|n| (*n).to_string()),
        );
    }
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
            compare(&s, &ours, "model.sig"),
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
        assert_eq!(compare(&s, &same, "model.sig"), Ok(()));
    }

    #[test]
    fn only_the_default_ignored_paths_and_the_signature_are_skipped() {
        for p in [
            ".git",
            ".git/config",
            ".gitattributes",
            ".github/x.yml",
            "model.sig",
        ] {
            assert!(is_ignored(p, "model.sig"), "{p}");
        }
        for p in [".gitx", "a/.git", "model.sig2", "sub/model.sig"] {
            assert!(!is_ignored(p, "model.sig"), "{p}");
        }
    }
}
