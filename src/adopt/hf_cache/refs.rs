//! A repository's refs (`refs/main`, `refs/v1.0`, `refs/pr/1`: a file
//! holding a 40-hex commit) and its downloads in progress (`blobs/*.incomplete`).

use super::super::plan::{Scan, is_hex};
use super::super::report::SkipKind;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deepest directory tree walked under `refs/`.
const MAX_DEPTH: usize = 64;
/// Longest ref file read (a commit hash and a newline fit many times).
const MAX_REF_LEN: u64 = 256;

/// The first download still running or cut short: an `.incomplete` file
/// (`<etag>.incomplete`, or 2.x's `<etag>.<8 hex>.incomplete`) whose blob
/// `<etag>` is not there. One whose blob is there was left by a download
/// killed before a later one finished: it says nothing of any snapshot.
pub(crate) fn running_download(blobs: &Path) -> Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(blobs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(blobs, e)),
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(blobs, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".incomplete") {
            continue;
        }
        let etag = name.split('.').next().unwrap_or_default();
        let done = !etag.is_empty()
            && std::fs::symlink_metadata(blobs.join(etag)).is_ok_and(|m| !m.is_dir());
        if !done {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// Every ref (`main`, a tag, `refs/pr/1`) and the commit it points to.
/// A ref that is not a regular file holding a 40-hex commit is skipped.
pub(crate) fn read_refs(repo: &Path, scan: &mut Scan) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let root = repo.join("refs");
    let mut stack = vec![(root.clone(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                scan.skip(path, SkipKind::Unsupported, "a ref name that is not UTF-8");
                continue;
            };
            let ref_name = format!("{prefix}{name}");
            let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() && depth < MAX_DEPTH {
                stack.push((path, format!("{ref_name}/"), depth + 1));
                continue;
            }
            if !meta.is_file() || meta.len() > MAX_REF_LEN {
                scan.skip(path, SkipKind::Unsupported, "not a ref file");
                continue;
            }
            // Never blocks: a FIFO swapped in since the look is not read.
            let text = crate::fs::read_regular(&path, MAX_REF_LEN)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let commit = text.trim();
            if is_hex(commit, 40) {
                out.insert(ref_name, commit.to_owned());
            } else {
                scan.skip(path, SkipKind::Unsupported, "the ref holds no commit hash");
            }
        }
    }
    Ok(out)
}
