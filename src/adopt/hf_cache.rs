//! A Hugging Face hub cache (huggingface_hub's layout, also used by
//! transformers, vLLM and llama.cpp's `-hf`), read offline:
//!
//! ```text
//! <hub>/models--<org>--<name>/
//!     blobs/<sha256 of an LFS file, or git blob id of a small one>
//!     blobs/<name>.incomplete            a download in progress
//!     refs/<branch, tag, or refs/pr/N>   the commit it points to (40 hex)
//!     snapshots/<commit>/<path>          -> ../../blobs/<name> (relative symlinks)
//! ```
//!
//! One candidate per snapshot: id `org/name` for the one `main` points to,
//! `org/name@<ref>` for one only another ref points to, `org/name@<7 hex>`
//! for a snapshot no ref points to; reference `hf:org/name@<commit>`. Each
//! file is followed through its symlink to its blob, which must be in that
//! repository's `blobs/` — anything else is refused before anything is
//! written. A blob's name is the digest its publisher gave it.
//!
//! Skipped and reported: a repository with an `.incomplete` blob (a
//! download running or interrupted: its snapshots may lack files), a
//! dangling symlink, a dataset or space, a single-segment legacy id.

use super::plan::{Candidate, CandidateFile, Scan, is_hex, unsafe_source};
use super::report::SkipKind;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Deepest directory tree walked in a snapshot.
const MAX_DEPTH: usize = 64;
/// Longest ref file read (a commit hash and a newline fit many times).
const MAX_REF_LEN: u64 = 256;

/// Scans every repository of a hub cache.
pub(crate) fn scan_cache(hub: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    let mut names: Vec<_> = std::fs::read_dir(hub)
        .map_err(|e| Error::io(hub, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(hub, e))?;
    names.sort();
    for name in names {
        let path = hub.join(&name);
        let Some(name) = name.to_str() else {
            scan.skip(path, SkipKind::Unsupported, "a name that is not UTF-8");
            continue;
        };
        if name.starts_with("models--") {
            scan_repo_into(&path, &mut scan)?;
        } else if name.starts_with("datasets--") || name.starts_with("spaces--") {
            scan.skip(
                path,
                SkipKind::Unsupported,
                "a dataset or space repository, not a model",
            );
        }
        // `.locks/` and anything else the cache keeps are not repositories.
    }
    Ok(scan)
}

/// Scans one `models--org--name` directory.
pub(crate) fn scan_repo(repo: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    scan_repo_into(repo, &mut scan)?;
    Ok(scan)
}

fn scan_repo_into(repo: &Path, scan: &mut Scan) -> Result<()> {
    let meta = std::fs::symlink_metadata(repo).map_err(|e| Error::io(repo, e))?;
    if !meta.is_dir() {
        return Err(unsafe_source(
            repo,
            "a repository of the cache is a symlink or not a directory (its snapshots' links \
             would resolve somewhere else)",
        ));
    }
    let folder = repo
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parts: Vec<&str> = folder
        .strip_prefix("models--")
        .unwrap_or_default()
        .split("--")
        .collect();
    let (org, name) = match parts.as_slice() {
        [org, name] => (*org, *name),
        [_] => {
            scan.skip(
                repo,
                SkipKind::Unsupported,
                "a single-segment (legacy) repository id; hf: references name org/repo — add \
                 its snapshot with `catalog add <dir> --ref hf:<org>/<repo>@<commit>`",
            );
            return Ok(());
        }
        _ => {
            scan.skip(
                repo,
                SkipKind::Unsupported,
                "not a models--<org>--<name> folder",
            );
            return Ok(());
        }
    };
    if let Err(e) = ModelRef::check_hf_repo_id(&format!("{org}/{name}")) {
        scan.skip(repo, SkipKind::Unsupported, e.to_string());
        return Ok(());
    }
    let blobs = repo.join("blobs");
    match std::fs::symlink_metadata(&blobs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(unsafe_source(
                &blobs,
                "the repository's blobs/ is a symlink or not a directory",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&blobs, e)),
    }
    let incomplete = incomplete_blob(&blobs)?;
    let refs = read_refs(repo, scan)?;
    let snapshots = repo.join("snapshots");
    match std::fs::symlink_metadata(&snapshots) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(unsafe_source(
                &snapshots,
                "the repository's snapshots/ is a symlink or not a directory",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            scan.skip(
                repo,
                SkipKind::Incomplete,
                "no snapshots/ (nothing downloaded)",
            );
            return Ok(());
        }
        Err(e) => return Err(Error::io(&snapshots, e)),
    }
    let mut commits: Vec<_> = std::fs::read_dir(&snapshots)
        .map_err(|e| Error::io(&snapshots, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(&snapshots, e))?;
    commits.sort();
    for (ref_name, commit) in &refs {
        if !commits.iter().any(|c| c.to_str() == Some(commit.as_str())) {
            scan.skip(
                repo.join("refs").join(ref_name),
                SkipKind::Incomplete,
                format!("the ref `{ref_name}` points to commit {commit}, which is not cached"),
            );
        }
    }
    for commit in commits {
        let dir = snapshots.join(&commit);
        let Some(commit) = commit.to_str().filter(|c| is_hex(c, 40)) else {
            scan.skip(
                dir,
                SkipKind::Unsupported,
                "not a snapshot (named by a 40-hex commit)",
            );
            continue;
        };
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| Error::io(&dir, e))?;
        if !meta.is_dir() {
            return Err(unsafe_source(
                &dir,
                "a snapshot is a symlink or not a directory",
            ));
        }
        // Every file is resolved (and every link checked) before anything
        // is decided about this snapshot, so a hostile link anywhere is
        // refused even in a snapshot that would be skipped.
        let mut files = Vec::new();
        let mut dangling = None;
        match walk_snapshot(repo, &dir, "", 0, &mut files, &mut dangling) {
            Ok(()) => {}
            Err(Error::NonUtf8Path { path }) => {
                scan.skip(
                    path,
                    SkipKind::Unsupported,
                    "a file name that is not UTF-8 (a model's paths are stored as UTF-8)",
                );
                continue;
            }
            Err(e) => return Err(e),
        }
        let pointing: Vec<&str> = refs
            .iter()
            .filter(|(_, c)| c.as_str() == commit)
            .map(|(r, _)| r.as_str())
            .collect();
        if let Some(blob) = &incomplete {
            scan.skip(
                &dir,
                SkipKind::Incomplete,
                format!(
                    "a download of this repository is running or was interrupted ({}); \
                     finish it (or remove the .incomplete file) and adopt again",
                    blob.display()
                ),
            );
            continue;
        }
        if let Some(link) = dangling {
            scan.skip(
                &dir,
                SkipKind::Incomplete,
                format!(
                    "{} is a dangling symlink (its blob is not downloaded)",
                    link.display()
                ),
            );
            continue;
        }
        let id = if pointing.contains(&"main") {
            format!("{org}/{name}")
        } else if let Some(first) = pointing.first() {
            format!("{org}/{name}@{first}")
        } else {
            format!("{org}/{name}@{}", &commit[..7])
        };
        let model_ref = match ModelRef::hugging_face(org, name, Some(commit)) {
            Ok(r) => r,
            Err(e) => {
                scan.skip(&dir, SkipKind::Unsupported, e.to_string());
                continue;
            }
        };
        scan.add(Candidate {
            id,
            model_ref,
            origin: dir.clone(),
            base: dir,
            single: false,
            files,
        });
    }
    Ok(())
}

/// The first `.incomplete` blob, if any.
fn incomplete_blob(blobs: &Path) -> Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(blobs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(blobs, e)),
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(blobs, e))?;
        if entry.file_name().to_string_lossy().ends_with(".incomplete") {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// Every ref (`main`, a tag, `refs/pr/1`) and the commit it points to.
/// A ref that is not a regular file holding a 40-hex commit is skipped.
fn read_refs(repo: &Path, scan: &mut Scan) -> Result<BTreeMap<String, String>> {
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

/// The files under `dir` (a snapshot, or a directory in one), each
/// followed through its symlink to its blob. A link that leads anywhere
/// but `<repo>/blobs/<hex>`, a symlinked directory, or a blob that is a
/// symlink is refused; the first dangling link is noted.
fn walk_snapshot(
    repo: &Path,
    dir: &Path,
    prefix: &str,
    depth: usize,
    files: &mut Vec<CandidateFile>,
    dangling: &mut Option<PathBuf>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(unsafe_source(dir, "a snapshot deeper than 64 directories"));
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort();
    for name in entries {
        let path = dir.join(&name);
        let Some(name) = name.to_str() else {
            return Err(Error::NonUtf8Path { path });
        };
        let rel = format!("{prefix}{name}");
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            walk_snapshot(repo, &path, &format!("{rel}/"), depth + 1, files, dangling)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| Error::io(&path, e))?;
            let (blob, publisher) = blob_of(repo, &path, &target)?;
            match std::fs::symlink_metadata(&blob) {
                Ok(m) if m.is_file() => files.push(CandidateFile {
                    path: rel.clone(),
                    in_place: rel,
                    source: blob,
                    tree: repo.to_path_buf(),
                    size: m.len(),
                    publisher: Some(publisher),
                    media_type: None,
                }),
                Ok(_) => {
                    return Err(unsafe_source(
                        &blob,
                        "a blob is a symlink or not a regular file",
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    dangling.get_or_insert(path);
                }
                Err(e) => return Err(Error::io(&blob, e)),
            }
        } else if kind.is_file() {
            // A copy in the snapshot (huggingface_hub's mode without
            // symlinks): no name to check it against.
            files.push(CandidateFile {
                path: rel.clone(),
                in_place: rel,
                source: path,
                tree: repo.to_path_buf(),
                size: meta.len(),
                publisher: None,
                media_type: None,
            });
        } else {
            return Err(unsafe_source(
                &path,
                "neither a file, a directory nor a symlink",
            ));
        }
        if files.len() > crate::entry::MAX_MANIFEST_FILES {
            break;
        }
    }
    Ok(())
}

/// Where the symlink `link` (whose target is `target`) leads, which must be
/// `<repo>/blobs/<40 or 64 hex>`, and the digest that name is.
fn blob_of(repo: &Path, link: &Path, target: &Path) -> Result<(PathBuf, Digest)> {
    let refused = || {
        unsafe_source(
            link,
            format!(
                "the symlink leads to {}, outside this repository's blobs/ (a cache only links \
                 ../../blobs/<digest>)",
                target.display()
            ),
        )
    };
    let start = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        link.parent().map(Path::to_path_buf).ok_or_else(refused)?
    };
    let resolved = lexical(&start, target).ok_or_else(refused)?;
    let name = resolved
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(refused)?
        .to_owned();
    let blobs = repo.join("blobs");
    let in_blobs = resolved.parent() == Some(blobs.as_path())
        || std::fs::canonicalize(&blobs)
            .is_ok_and(|canonical| resolved.parent() == Some(canonical.as_path()));
    if !in_blobs {
        return Err(refused());
    }
    let digest = if is_hex(&name, 64) {
        format!("sha256:{name}").parse::<Digest>()
    } else if is_hex(&name, 40) {
        format!("git-sha1:{name}").parse::<Digest>()
    } else {
        return Err(unsafe_source(
            link,
            format!("the blob it leads to, {name}, is not named by a digest"),
        ));
    };
    Ok((blobs.join(&name), digest?))
}

/// `start` joined with `target`, `.` and `..` resolved by the names alone
/// (every directory on the way was seen to be a real directory).
fn lexical(start: &Path, target: &Path) -> Option<PathBuf> {
    let mut out = start.to_path_buf();
    for part in target.components() {
        match part {
            Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_by_name_and_only_into_the_repositorys_blobs() {
        let repo = Path::new("/hub/models--o--r");
        let link = repo.join("snapshots/aaaa/sub/x.json");
        let hex = "a".repeat(64);
        let ok = blob_of(repo, &link, Path::new(&format!("../../../blobs/{hex}"))).unwrap();
        assert_eq!(ok.0, repo.join("blobs").join(&hex));
        assert!(ok.1.is_sha256());
        let git = "b".repeat(40);
        let (_, d) = blob_of(repo, &link, &repo.join("blobs").join(&git)).unwrap();
        assert_eq!(d.to_string(), format!("git-sha1:{git}"));
        for bad in [
            format!("../../blobs/{hex}"),
            format!("../../../../models--o--other/blobs/{hex}"),
            "/etc/passwd".to_string(),
            "../../../blobs/x".to_string(),
            format!("../../../blobs/{hex}/.."),
            format!("../../../blobs/../blobs2/{hex}"),
            "../../../../../../../../../../etc/shadow".to_string(),
        ] {
            let err = blob_of(repo, &link, Path::new(&bad)).unwrap_err();
            assert!(matches!(err, Error::UnsafeSource { .. }), "{bad}: {err}");
        }
    }
}
