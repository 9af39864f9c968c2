//! A Hugging Face hub cache (huggingface_hub's layout, also used by
//! transformers, vLLM and llama.cpp's `-hf`), read offline. What
//! huggingface_hub 2.5.0 writes (checked against the real client by
//! `tests/it/caches_written_by_huggingface_hub_are_adopted_as_it_sees_them.rs`):
//!
//! ```text
//! <hub>/models--<org>--<name>/
//!     blobs/<etag>                       the bytes; <etag> is the sha256 of an
//!                                        LFS file, the git blob id of a small one;
//!                                        a Xet file's is a symlink into <hub>/blobs/
//!     blobs/<etag>.<8 hex>.incomplete    a download running, or killed
//!     refs/<branch, tag, or refs/pr/N>   the commit it points to (40 hex)
//!     snapshots/<commit>/<path>          -> ../../blobs/<etag> (relative symlinks),
//!                                        or the file itself (no symlinks)
//!     trees/<commit>.json                the publisher's listing of the commit
//!                                        (`snapshot_download` writes it)
//! <hub>/blobs/<2 hex>/<xet hash>         the shared blob store (see `links`)
//! <hub>/datasets--*, spaces--*           not models: reported, skipped
//! ```
//!
//! One candidate per snapshot (one entry per commit, never two): id
//! `org/name` for the one `main` points to, `org/name@<7 hex>` for any
//! other; reference `hf:org/name@<commit>`. Every ref (tags, `refs/pr/N`)
//! is an alias of its commit's entry, recorded in the journal as it moves
//! (`Op::RefMoved`, docs/MODEL_REF.md §6). Each
//! file is followed through its symlink to its blob, which must be in that
//! repository's `blobs/` or, through the blob's own symlink, in the cache's
//! shared store (such a file is opened inside the cache root, even when
//! only one `models--` folder was named) — anything else is refused before
//! anything is written.
//!
//! The publisher's listing, where the snapshot has one, is the reference:
//! a file it names that the snapshot lacks makes the snapshot partial
//! (skipped, [`SkipKind::Incomplete`]); a file it does not name is left
//! out and reported ([`SkipKind::Unlisted`]); every file is checked
//! against its digest there (`lfs_sha256`, else the git blob id), real
//! files included. Without a listing, a symlinked blob's name is its
//! digest and a real file has none.
//!
//! Skipped and reported: a partial snapshot; a snapshot with a dangling
//! symlink; when the snapshot has no listing, a repository with a download
//! running (an `.incomplete` file whose blob is not there; one left beside
//! its finished blob is stale and ignored); a dataset or space; a
//! single-segment legacy id.

mod links;
mod listing;
mod refs;
mod repo;
mod snapshot;

use repo::Repo;

pub(crate) use snapshot::snapshot_id;

use super::plan::{Scan, unsafe_source};
use super::report::SkipKind;
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use std::path::Path;

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
            scan_repo_into(hub, &path, &mut scan)?;
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
    // The cache the repository is in: its shared blob store is there.
    let hub = repo.parent().unwrap_or(repo);
    scan_repo_into(hub, repo, &mut scan)?;
    Ok(scan)
}

fn scan_repo_into(hub: &Path, repo: &Path, scan: &mut Scan) -> Result<()> {
    let meta = std::fs::symlink_metadata(repo).map_err(|e| Error::io(repo, e))?;
    if !meta.is_dir() {
        return Err(unsafe_source(
            repo,
            "a repository of the cache is a symlink or not a directory (its snapshots' links \
             would resolve somewhere else)",
        ));
    }
    let Some(id) = repo_id(repo, scan) else {
        return Ok(());
    };
    let blobs = repo.join("blobs");
    directory_or_absent(&blobs, "the repository's blobs/")?;
    let running = refs::running_download(&blobs)?;
    let refs = refs::read_refs(repo, scan)?;
    let snapshots = repo.join("snapshots");
    if !directory_or_absent(&snapshots, "the repository's snapshots/")? {
        scan.skip(
            repo,
            SkipKind::Incomplete,
            "no snapshots/ (nothing downloaded)",
        );
        return Ok(());
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
    let repo = Repo {
        hub,
        path: repo,
        id,
        refs,
        running,
    };
    for commit in commits {
        snapshot::scan(&repo, &snapshots.join(commit), scan)?;
    }
    Ok(())
}

/// The `org/name` a `models--org--name` folder holds; `None` (skipped and
/// reported) for a single-segment legacy id or a name outside the rules.
fn repo_id(repo: &Path, scan: &mut Scan) -> Option<String> {
    let folder = repo
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parts: Vec<&str> = folder
        .strip_prefix("models--")
        .unwrap_or_default()
        .split("--")
        .collect();
    let id = match parts.as_slice() {
        [org, name] => format!("{org}/{name}"),
        [_] => {
            scan.skip(
                repo,
                SkipKind::Unsupported,
                "a single-segment (legacy) repository id; hf: references name org/repo — add \
                 its snapshot with `catalog add <dir> --ref hf:<org>/<repo>@<commit>`",
            );
            return None;
        }
        _ => {
            scan.skip(
                repo,
                SkipKind::Unsupported,
                "not a models--<org>--<name> folder",
            );
            return None;
        }
    };
    match ModelRef::check_hf_repo_id(&id) {
        Ok(()) => Some(id),
        Err(e) => {
            scan.skip(repo, SkipKind::Unsupported, e.to_string());
            None
        }
    }
}

/// Whether `dir` is there (`false` if absent); one that is a symlink or
/// not a directory is refused.
fn directory_or_absent(dir: &Path, what: &str) -> Result<bool> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err(unsafe_source(
            dir,
            format!("{what} is a symlink or not a directory"),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(dir, e)),
    }
}
