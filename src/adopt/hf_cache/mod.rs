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
//! One candidate per snapshot: id `org/name` for the one `main` points to,
//! `org/name@<ref>` for one only another ref points to, `org/name@<7 hex>`
//! for a snapshot no ref points to; reference `hf:org/name@<commit>`. Each
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

use super::plan::{Candidate, CandidateFile, Scan, is_hex, unsafe_source};
use super::report::SkipKind;
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use std::path::{Path, PathBuf};

/// Deepest directory tree walked in a snapshot.
const MAX_DEPTH: usize = 64;
/// Most paths named in one report line.
const NAMED: usize = 5;

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
    let running = refs::running_download(&blobs)?;
    let refs = refs::read_refs(repo, scan)?;
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
        let mut walk = Walk {
            hub,
            repo,
            files: Vec::new(),
            dangling: None,
            marked: None,
        };
        match walk.dir(&dir, "", 0) {
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
        let Walk {
            mut files,
            dangling,
            ..
        } = walk;
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
        let listed = match listing::read(repo, commit) {
            Ok(listed) => listed,
            Err(listing::Unusable(why)) => {
                scan.skip(
                    repo.join("trees").join(format!("{commit}.json")),
                    SkipKind::Unsupported,
                    format!(
                        "the publisher's listing of this commit is not used ({why}); the \
                         snapshot is judged by its files alone"
                    ),
                );
                None
            }
        };
        if let Some(listed) = listed {
            let missing: Vec<&str> = listed
                .keys()
                .filter(|p| !files.iter().any(|f| &f.path == *p))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                scan.skip(
                    &dir,
                    SkipKind::Incomplete,
                    format!(
                        "partial: {} of the {} files its publisher lists for this commit \
                         (trees/{commit}.json) are not in the snapshot ({}); download them \
                         (snapshot_download without allow_patterns) and adopt again",
                        missing.len(),
                        listed.len(),
                        named(&missing)
                    ),
                );
                continue;
            }
            files.retain(|f| {
                let keep = listed.contains_key(&f.path);
                if !keep {
                    scan.skip(
                        dir.join(&f.in_place),
                        SkipKind::Unlisted,
                        format!(
                            "not a file of this commit in its publisher's listing \
                             (trees/{commit}.json); the snapshot is adopted without it"
                        ),
                    );
                }
                keep
            });
            // The listing is the reference, for a blob named by its
            // digest and a real file alike.
            for f in &mut files {
                if let Some(l) = listed.get(&f.path) {
                    f.publisher = Some(l.digest);
                }
            }
        } else if let Some(blob) = &running {
            scan.skip(
                &dir,
                SkipKind::Incomplete,
                format!(
                    "a download of this repository is running or was interrupted ({}) and \
                     this snapshot has no publisher's listing (trees/<commit>.json) to tell \
                     whether it lacks that file; finish the download (or remove the \
                     .incomplete file) and adopt again",
                    blob.display()
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

/// The first few of `paths`, for a report line.
fn named(paths: &[&str]) -> String {
    let mut out = paths
        .iter()
        .take(NAMED)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > NAMED {
        out.push_str(&format!(" and {} more", paths.len() - NAMED));
    }
    out
}

/// A walk of one snapshot: its files, each followed through its symlink
/// to its blob (and through the blob's to the shared store), and the first
/// dangling link.
struct Walk<'a> {
    hub: &'a Path,
    repo: &'a Path,
    files: Vec<CandidateFile>,
    dangling: Option<PathBuf>,
    /// Whether the hub's shared store carries its marker (looked at once).
    marked: Option<bool>,
}

impl Walk<'_> {
    /// The files under `dir` (a snapshot, or a directory in one). A link
    /// that leads anywhere but `<repo>/blobs/<hex>` (or from there into
    /// the shared store), a symlinked directory, or a blob that is neither
    /// is refused.
    fn dir(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<()> {
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
                self.dir(&path, &format!("{rel}/"), depth + 1)?;
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).map_err(|e| Error::io(&path, e))?;
                let (blob, publisher) = links::blob_of(self.repo, &path, &target)?;
                if let Some((source, tree, size)) = self.blob(&blob)? {
                    self.files.push(CandidateFile {
                        path: rel.clone(),
                        in_place: rel,
                        source,
                        tree,
                        size,
                        publisher: Some(publisher),
                        media_type: None,
                    });
                } else {
                    self.dangling.get_or_insert(path);
                }
            } else if kind.is_file() {
                // A real file in the snapshot (huggingface_hub without
                // symlinks): its digest is the listing's, if any.
                self.files.push(CandidateFile {
                    path: rel.clone(),
                    in_place: rel,
                    source: path,
                    tree: self.repo.to_path_buf(),
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
            if self.files.len() > crate::entry::MAX_MANIFEST_FILES {
                break;
            }
        }
        Ok(())
    }

    /// The file to read for the repository blob `blob`, the tree to open
    /// it in, and its size; `None` if it is not there (yet).
    fn blob(&mut self, blob: &Path) -> Result<Option<(PathBuf, PathBuf, u64)>> {
        let meta = match std::fs::symlink_metadata(blob) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(blob, e)),
        };
        if meta.is_file() {
            return Ok(Some((
                blob.to_path_buf(),
                self.repo.to_path_buf(),
                meta.len(),
            )));
        }
        if !meta.file_type().is_symlink() {
            return Err(unsafe_source(
                blob,
                "a blob is neither a regular file nor a symlink",
            ));
        }
        let target = std::fs::read_link(blob).map_err(|e| Error::io(blob, e))?;
        let shared = links::shared_of(self.hub, blob, &target)?;
        let hub = self.hub;
        if !*self
            .marked
            .get_or_insert_with(|| links::shared_store_marked(hub))
        {
            return Err(unsafe_source(
                blob,
                format!(
                    "a blob is a symlink into {}, which is not a shared blob store \
                     huggingface_hub marked ({} holding \"1\")",
                    hub.join(links::SHARED_DIR).display(),
                    links::SHARED_MARKER
                ),
            ));
        }
        // The prefix directory must be one (the open below it takes no
        // symlink either; this refuses before anything is written).
        let prefix = shared.parent().unwrap_or(hub);
        match std::fs::symlink_metadata(prefix) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(unsafe_source(
                    prefix,
                    "a directory of the shared blob store is a symlink or not a directory",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(prefix, e)),
        }
        match std::fs::symlink_metadata(&shared) {
            Ok(m) if m.is_file() => Ok(Some((shared, hub.to_path_buf(), m.len()))),
            Ok(_) => Err(unsafe_source(
                &shared,
                "a shared blob is a symlink or not a regular file",
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&shared, e)),
        }
    }
}
