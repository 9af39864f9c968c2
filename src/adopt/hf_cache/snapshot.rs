//! One snapshot of a repository: its files, each followed through its
//! symlink to its blob (checked by `links`), judged against the
//! publisher's listing of its commit (`listing`), and the candidate it
//! makes — whole, partial (adopted only with `--allow-partial`), or
//! skipped.

use super::super::plan::{Candidate, CandidateFile, Revision, Scan, is_hex, unsafe_source};
use super::super::report::SkipKind;
use super::repo::{MAX_DEPTH, Repo, named};
use super::{links, listing};
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use std::path::{Path, PathBuf};

/// Scans the snapshot directory `dir` of `repo` into `scan`.
pub(super) fn scan(repo: &Repo, dir: &Path, scan: &mut Scan) -> Result<()> {
    let Some(commit) = dir
        .file_name()
        .and_then(|c| c.to_str())
        .filter(|c| is_hex(c, 40))
    else {
        scan.skip(
            dir,
            SkipKind::Unsupported,
            "not a snapshot (named by a 40-hex commit)",
        );
        return Ok(());
    };
    let Some(files) = walk(repo, dir, scan)? else {
        return Ok(());
    };
    let partial = match judge(repo, dir, commit, files, scan) {
        Judged::Whole(files) => Ok(files),
        Judged::Partial(files, reason) => Err((files, reason)),
        Judged::Skipped => return Ok(()),
    };
    let (org, name) = repo.id.split_once('/').unwrap_or((&repo.id, ""));
    let model_ref = match ModelRef::hugging_face(org, name, Some(commit)) {
        Ok(r) => r,
        Err(e) => {
            scan.skip(dir, SkipKind::Unsupported, e.to_string());
            return Ok(());
        }
    };
    let refs: Vec<String> = repo
        .refs
        .iter()
        .filter(|(_, c)| c.as_str() == commit)
        .map(|(r, _)| r.clone())
        .collect();
    let mut candidate = Candidate {
        id: id_of(&repo.id, commit, &refs),
        model_ref,
        origin: dir.to_path_buf(),
        base: dir.to_path_buf(),
        single: false,
        files: Vec::new(),
        revision: Some(Revision {
            repo: repo.id.clone(),
            commit: commit.to_owned(),
            refs,
        }),
        partial: None,
    };
    match partial {
        Ok(files) => {
            candidate.files = files;
            scan.add(candidate);
        }
        Err((files, reason)) => {
            scan.skip(dir, SkipKind::Incomplete, reason.clone());
            candidate.files = files;
            candidate.partial = Some(reason);
            scan.add_partial(candidate);
        }
    }
    Ok(())
}

/// The id of a repository's snapshot (docs/MODEL_REF.md §6): `org/name`
/// for the commit `main` points to, `org/name@<first 7 hex of the commit>`
/// for any other. A tag or any other ref never names an entry: it is an
/// alias of its commit's, recorded in the journal as it moves.
fn id_of(repo: &str, commit: &str, refs: &[String]) -> String {
    if refs.iter().any(|r| r == "main") {
        repo.to_owned()
    } else {
        snapshot_id(repo, commit)
    }
}

/// The id of a commit `main` does not point to: `org/name@<7 hex>`.
pub(crate) fn snapshot_id(repo: &str, commit: &str) -> String {
    format!("{repo}@{}", &commit[..7.min(commit.len())])
}

/// What the listing says of a snapshot.
enum Judged {
    /// Every file the listing names (or, without one, every file).
    Whole(Vec<CandidateFile>),
    /// Some listed files are missing: what is there, and why it is partial.
    Partial(Vec<CandidateFile>, String),
    /// Skipped (and reported).
    Skipped,
}

/// Every file of the snapshot `dir`, resolved (and every link checked)
/// before anything is decided about it, so a hostile link anywhere is
/// refused even in a snapshot that would be skipped. `None` when it is
/// skipped (a dangling link, a name that is not UTF-8).
fn walk(repo: &Repo, dir: &Path, scan: &mut Scan) -> Result<Option<Vec<CandidateFile>>> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(unsafe_source(
            dir,
            "a snapshot is a symlink or not a directory",
        ));
    }
    let mut walk = Walk {
        hub: repo.hub,
        repo: repo.path,
        files: Vec::new(),
        dangling: None,
        marked: None,
    };
    match walk.dir(dir, "", 0) {
        Ok(()) => {}
        Err(Error::NonUtf8Path { path }) => {
            scan.skip(
                path,
                SkipKind::Unsupported,
                "a file name that is not UTF-8 (a model's paths are stored as UTF-8)",
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    }
    if let Some(link) = walk.dangling {
        scan.skip(
            dir,
            SkipKind::Incomplete,
            format!(
                "{} is a dangling symlink (its blob is not downloaded)",
                link.display()
            ),
        );
        return Ok(None);
    }
    Ok(Some(walk.files))
}

/// Judges `files` against the publisher's listing of `commit`: files it
/// does not name are left out (reported), each file gets the listing's
/// digest, and a file it names that is missing makes the snapshot
/// partial. Without a listing, a download running makes it unknowable.
fn judge(
    repo: &Repo,
    dir: &Path,
    commit: &str,
    mut files: Vec<CandidateFile>,
    scan: &mut Scan,
) -> Judged {
    let listed = match listing::read(repo.path, commit) {
        Ok(Some(listed)) => listed,
        Ok(None) => {
            if let Some(blob) = &repo.running {
                scan.skip(
                    dir,
                    SkipKind::Incomplete,
                    format!(
                        "a download of this repository is running or was interrupted ({}) \
                         and this snapshot has no publisher's listing (trees/<commit>.json) \
                         to tell whether it lacks that file; finish the download (or remove \
                         the .incomplete file) and adopt again",
                        blob.display()
                    ),
                );
                return Judged::Skipped;
            }
            return Judged::Whole(files);
        }
        Err(listing::Unusable(why)) => {
            scan.skip(
                repo.path.join("trees").join(format!("{commit}.json")),
                SkipKind::Unsupported,
                format!(
                    "the publisher's listing of this commit is not used ({why}); the \
                     snapshot is judged by its files alone"
                ),
            );
            return Judged::Whole(files);
        }
    };
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
    // The listing is the reference, for a blob named by its digest and a
    // real file alike.
    for f in &mut files {
        if let Some(l) = listed.get(&f.path) {
            f.publisher = Some(l.digest);
        }
    }
    let missing: Vec<&str> = listed
        .keys()
        .filter(|p| !files.iter().any(|f| &f.path == *p))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Judged::Whole(files);
    }
    let reason = format!(
        "partial: {} of the {} files its publisher lists for this commit \
         (trees/{commit}.json) are not in the snapshot ({}); download them \
         (snapshot_download without allow_patterns) and adopt again, or adopt it as it is \
         with --allow-partial (warned, never verified)",
        missing.len(),
        listed.len(),
        named(&missing)
    );
    Judged::Partial(files, reason)
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
