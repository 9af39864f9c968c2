//! `/`-separated path normalization, shared by file paths, relative paths
//! and paths inside a Hugging Face repository.
//!
//! Empty segments (`//`, a trailing `/`) and `.` segments are dropped;
//! `..` is refused, never resolved (resolving it lexically can escape a
//! directory through a symlink, and refusing is the safer default); a
//! backslash is refused (some fetchers treat it as a separator, which would
//! smuggle a `..` past the check); and the last segment must not end in
//! white space (the canonical form could not be parsed back).

use super::text::{invalid, is_forbidden_char};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The segments of `path` that survive normalization.
pub(super) fn segments<'a>(what: &str, path: &'a str) -> Result<Vec<&'a str>> {
    if path.contains('\\') {
        return Err(backslash(what));
    }
    let mut out = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                return Err(dot_dot(what));
            }
            kept => out.push(kept),
        }
    }
    Ok(out)
}

/// `join(what, &segments(what, path)?, false)` in one pass, without the
/// list of segments: a relative path, normalized.
pub(super) fn normalize_relative(what: &str, path: &str) -> Result<String> {
    if path.contains('\\') {
        return Err(backslash(what));
    }
    let mut out = String::with_capacity(path.len());
    let mut last = "";
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                return Err(dot_dot(what));
            }
            kept => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(kept);
                last = kept;
            }
        }
    }
    if last.ends_with(char::is_whitespace) {
        return Err(trailing_space(what));
    }
    Ok(out)
}

fn backslash(what: &str) -> Error {
    invalid(format!(
        "{what} contains a backslash; separate path components with `/`"
    ))
}

fn dot_dot(what: &str) -> Error {
    invalid(format!(
        "{what} contains a `..` component; `..` is refused rather than resolved: \
         give the path without it"
    ))
}

fn trailing_space(what: &str) -> Error {
    invalid(format!(
        "{what} ends in white space; rename the file or drop the trailing space"
    ))
}

/// Joins normalized segments with `/`, with a leading `/` when `absolute`.
/// An absolute path must name something below the root.
pub(super) fn join(what: &str, segments: &[&str], absolute: bool) -> Result<String> {
    if let Some(last) = segments.last()
        && last.ends_with(char::is_whitespace)
    {
        return Err(trailing_space(what));
    }
    if absolute && segments.is_empty() {
        return Err(invalid(format!(
            "{what} names the root directory `/`; name a model file or directory below it"
        )));
    }
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if absolute || i > 0 {
            out.push('/');
        }
        out.push_str(segment);
    }
    Ok(out)
}

/// Normalizes an absolute path (one that starts with `/`).
pub(super) fn absolute(what: &str, path: &str) -> Result<PathBuf> {
    if !path.starts_with('/') {
        return Err(invalid(format!(
            "{what} is relative; give an absolute path starting with `/`"
        )));
    }
    Ok(PathBuf::from(join(what, &segments(what, path)?, true)?))
}

/// Resolves a relative path against an absolute base directory.
pub(super) fn resolve(path: &str, base: &Path) -> Result<PathBuf> {
    if path.starts_with('~') {
        return Err(invalid(
            "the path starts with `~`, which is not expanded to a home directory; \
             give an absolute path",
        ));
    }
    let base = check_base(base)?;
    let mut all = segments("the base directory", base)?;
    all.extend(segments("the path", path)?);
    Ok(PathBuf::from(join("the resolved path", &all, true)?))
}

/// The base directory as text, if it is usable: valid UTF-8, absolute,
/// without control characters.
pub(super) fn check_base(base: &Path) -> Result<&str> {
    let Some(text) = base.to_str() else {
        return Err(invalid(
            "the base directory is not valid UTF-8; model references are text",
        ));
    };
    if !text.starts_with('/') {
        return Err(invalid(
            "the base directory is relative; parse_with_base needs an absolute base directory",
        ));
    }
    if let Some(c) = text.chars().find(|&c| is_forbidden_char(c)) {
        return Err(invalid(format!(
            "the base directory contains the control character U+{:04X}",
            u32::from(c)
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_dot_segments_are_dropped() {
        let segs = segments("p", "/a//b/./c/").expect("valid");
        assert_eq!(segs, ["a", "b", "c"]);
        assert_eq!(join("p", &segs, true).expect("valid"), "/a/b/c");
        assert_eq!(join("p", &segs, false).expect("valid"), "a/b/c");
        assert_eq!(join("p", &[], false).expect("valid"), "");
    }

    #[test]
    fn dot_dot_backslash_root_and_trailing_space_are_refused() {
        for bad in ["a/../b", "..", "/x/..", "a\\b"] {
            assert!(segments("p", bad).is_err(), "{bad}");
        }
        assert!(join("p", &[], true).is_err(), "root");
        assert!(join("p", &["a", "b "], true).is_err(), "trailing space");
        assert!(join("p", &["a ", "b"], true).is_ok(), "inner space is fine");
    }

    #[test]
    fn relative_paths_resolve_against_an_absolute_base() {
        let base = Path::new("/srv//models/");
        assert_eq!(
            resolve("./x/y.gguf", base).expect("valid"),
            PathBuf::from("/srv/models/x/y.gguf")
        );
        assert_eq!(
            resolve(".", base).expect("valid"),
            PathBuf::from("/srv/models")
        );
        assert!(resolve("~/x", base).is_err(), "tilde");
        assert!(resolve("x", Path::new("rel")).is_err(), "relative base");
        assert!(resolve("x", Path::new("/a/../b")).is_err(), "base with ..");
        assert!(
            resolve("x", Path::new("/a\nb")).is_err(),
            "base with control"
        );
        assert!(resolve(".", Path::new("/")).is_err(), "root");
    }

    #[test]
    fn the_one_pass_normalization_equals_segments_then_join() {
        let pieces = ["a", "b ", " c", ".", "..", "", "d\\e", "f.gguf", "é"];
        // Every path of one to four pieces joined by `/`, with and without
        // a leading `/`.
        let mut level: Vec<String> = pieces.iter().map(|x| x.to_string()).collect();
        let mut paths = Vec::new();
        for _ in 0..4 {
            paths.extend(level.iter().flat_map(|p| [p.clone(), format!("/{p}")]));
            level = level
                .iter()
                .flat_map(|p| pieces.iter().map(move |x| format!("{p}/{x}")))
                .collect();
        }
        assert!(paths.len() > 10_000);
        for path in &paths {
            let two_pass = segments("p", path).and_then(|s| join("p", &s, false));
            let one_pass = normalize_relative("p", path);
            match (two_pass, one_pass) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{path:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{path:?}"),
                (a, b) => panic!("{path:?}: {a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn absolute_paths_must_start_with_a_slash() {
        assert_eq!(
            absolute("p", "//a/./b").expect("valid"),
            PathBuf::from("/a/b")
        );
        assert!(absolute("p", "a/b").is_err());
    }
}
