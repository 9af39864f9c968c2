//! Making a model's files available locally before import.
//!
//! The catalog only imports files that are already on this machine. A
//! [`ModelFetcher`] turns a [`ModelRef`] into local files; this crate ships
//! only [`FileFetcher`] (local files and directories). Network fetchers
//! (Hugging Face, HTTP, S3, OCI) belong to provisioners, which implement the
//! trait and pass themselves to [`crate::Catalog::import_with`].

use crate::entry::{MAX_MANIFEST_FILES, check_relative_path};
use crate::error::{Error, Result};
use crate::fs::{FileKind, ForeignPath, Fs, StdFs};
use crate::model_ref::ModelRef;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One local file of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Its path within the model (`/`-separated); empty for a single-file model.
    pub relative_path: String,
    /// Where it is now.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

impl SourceFile {
    /// How an import opens it: inside the model directory it was listed in
    /// (`path` less `relative_path`; a Hugging Face snapshot's repository,
    /// see [`link_tree`]): no directory on the way may be a symlink, and a
    /// final symlink must stay inside. A file listed any other way (a
    /// fetcher's download) is opened as named.
    pub(crate) fn at(&self) -> ForeignPath<'_> {
        let rel = Path::new(&self.relative_path);
        if !self.relative_path.is_empty() && self.path.ends_with(rel) {
            let depth = rel.components().count();
            if let Some(dir) = self.path.ancestors().nth(depth) {
                let tree = link_tree(dir);
                if let Ok(rel) = self.path.strip_prefix(tree) {
                    return ForeignPath::inside(tree, rel);
                }
            }
        }
        ForeignPath::named(&self.path)
    }
}

/// A model whose files are on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedModel {
    /// The model is a directory of files (a Hugging Face repository) rather
    /// than one file (a GGUF).
    pub is_directory: bool,
    /// Its files; exactly one for a single-file model.
    pub files: Vec<SourceFile>,
}

impl FetchedModel {
    /// Total size in bytes.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Checks, before anything is staged, that the files can be laid out as
    /// one model: at least one file, and for a directory model relative
    /// paths that are valid, each listed once, and never both a file and
    /// the directory of another file. Any fetcher's listing goes through
    /// this (the store would otherwise fail half-way, after publishing
    /// blobs).
    pub(crate) fn check(&self) -> Result<()> {
        if self.files.is_empty() {
            return Err(Error::invalid("model_ref", "the fetcher listed no files"));
        }
        if !self.is_directory && self.files.len() == 1 {
            return Ok(());
        }
        let mut seen = HashSet::with_capacity(self.files.len());
        for f in &self.files {
            check_relative_path("model file path", &f.relative_path)?;
            if !seen.insert(f.relative_path.as_str()) {
                return Err(Error::invalid(
                    "model file path",
                    format!("`{}` is listed more than once", f.relative_path),
                ));
            }
        }
        for f in &self.files {
            let mut dir = f.relative_path.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if seen.contains(parent) {
                    return Err(Error::invalid(
                        "model file path",
                        format!(
                            "`{parent}` is listed as a file and as the directory of `{}`",
                            f.relative_path
                        ),
                    ));
                }
                dir = parent;
            }
        }
        Ok(())
    }
}

/// Makes a model available locally.
pub trait ModelFetcher: Send + Sync {
    /// Ensures the model `source` is present on this machine and lists its
    /// files. Called once per import; must not write into the catalog root.
    fn fetch(&self, source: &ModelRef) -> Result<FetchedModel>;
}

/// Fetches `file:` references (and absolute or relative paths): a file is a
/// single-file model, a directory a multi-file one. Directories are walked
/// in full, following symlinks to files (a Hugging Face cache snapshot is
/// made of them) but refusing symlinks to directories; `.git/` and
/// `.cache/` at the top of the directory are left out. A file name that is
/// not UTF-8 is refused with [`Error::NonUtf8Path`]: a model's file paths
/// are stored as UTF-8 text.
#[derive(Clone, Debug)]
pub struct FileFetcher {
    fs: Arc<dyn Fs>,
}

impl Default for FileFetcher {
    fn default() -> Self {
        FileFetcher {
            fs: Arc::new(StdFs),
        }
    }
}

impl FileFetcher {
    /// A fetcher reading through `fs`.
    pub fn with_fs(fs: Arc<dyn Fs>) -> Self {
        FileFetcher { fs }
    }
}

/// Top-level directories of a downloaded repository that are not model files.
const SKIPPED_DIRS: [&str; 2] = [".git", ".cache"];

impl ModelFetcher for FileFetcher {
    fn fetch(&self, source: &ModelRef) -> Result<FetchedModel> {
        let ModelRef::File { path } = source else {
            return Err(Error::invalid(
                "model_ref",
                format!(
                    "`{source}` is not a local file; the catalog imports only local files — \
                     fetch it first (network fetchers belong to provisioners) and import the path"
                ),
            ));
        };
        let meta = self
            .fs
            .metadata(path, true)
            .map_err(|e| Error::io(path, e))?
            .ok_or_else(|| {
                Error::invalid("model_ref", format!("{} does not exist", path.display()))
            })?;
        match meta.kind {
            FileKind::File => Ok(FetchedModel {
                is_directory: false,
                files: vec![SourceFile {
                    relative_path: String::new(),
                    path: path.clone(),
                    size: meta.len,
                }],
            }),
            FileKind::Dir => {
                let mut files = Vec::new();
                self.walk(path, path, "", &mut files)?;
                if files.is_empty() {
                    return Err(Error::invalid(
                        "model_ref",
                        format!("{} is an empty directory", path.display()),
                    ));
                }
                files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
                let model = FetchedModel {
                    is_directory: true,
                    files,
                };
                model.check()?;
                Ok(model)
            }
            _ => Err(Error::invalid(
                "model_ref",
                format!("{} is neither a file nor a directory", path.display()),
            )),
        }
    }
}

impl FileFetcher {
    fn walk(&self, root: &Path, dir: &Path, prefix: &str, out: &mut Vec<SourceFile>) -> Result<()> {
        // The names exactly as the file system has them: a lossy conversion
        // would turn `x\xfe` into `x\u{FFFD}`, a name that does not exist,
        // or that names another file.
        let mut names = self.fs.list_os(dir).map_err(|e| Error::io(dir, e))?;
        names.sort();
        for name in names {
            let name = name.into_string().map_err(|raw| Error::NonUtf8Path {
                path: dir.join(raw),
            })?;
            if prefix.is_empty() && SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            let path = dir.join(&name);
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            check_relative_path("model file path", &rel)?;
            let own = self
                .fs
                .metadata(&path, false)
                .map_err(|e| Error::io(&path, e))?;
            let target = self
                .fs
                .metadata(&path, true)
                .map_err(|e| Error::io(&path, e))?;
            match (own.map(|m| m.kind), target) {
                (Some(FileKind::Dir), _) => self.walk(root, &path, &rel, out)?,
                (Some(kind @ (FileKind::File | FileKind::Symlink)), Some(t))
                    if t.kind == FileKind::File =>
                {
                    if kind == FileKind::Symlink {
                        stays_inside(link_tree(root), &path)?;
                    }
                    if out.len() >= MAX_MANIFEST_FILES {
                        return Err(Error::invalid(
                            "model_ref",
                            format!("more than {MAX_MANIFEST_FILES} files in {}", dir.display()),
                        ));
                    }
                    out.push(SourceFile {
                        relative_path: rel,
                        path,
                        size: t.len,
                    });
                }
                (Some(FileKind::Symlink), Some(_)) => {
                    return Err(Error::invalid(
                        "model_ref",
                        format!(
                            "{} is a symlink to a directory; not followed",
                            path.display()
                        ),
                    ));
                }
                (Some(FileKind::Symlink), None) => {
                    return Err(Error::invalid(
                        "model_ref",
                        format!("{} is a dangling symlink", path.display()),
                    ));
                }
                _ => {
                    return Err(Error::invalid(
                        "model_ref",
                        format!("{} is not a regular file", path.display()),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The directory a model directory's symlinks may lead into: the
/// repository of a Hugging Face snapshot (`<repo>/snapshots/<commit>`,
/// beside `<repo>/blobs/`, whose files link to `../../blobs/<name>`), or
/// the whole cache when its repositories share a blob store; any other
/// directory itself.
pub(crate) fn link_tree(dir: &Path) -> &Path {
    let repo = dir
        .parent()
        .filter(|p| p.file_name() == Some("snapshots".as_ref()));
    match repo.and_then(Path::parent) {
        Some(repo) if std::fs::symlink_metadata(repo.join("blobs")).is_ok_and(|m| m.is_dir()) => {
            // huggingface_hub 2.x links a repository's blobs into the
            // cache's shared store: then the cache is the tree.
            match repo.parent() {
                Some(hub) if hf_shared_store(hub) => hub,
                _ => repo,
            }
        }
        _ => dir,
    }
}

/// Whether the hub cache `hub` has huggingface_hub 2.x's shared blob store
/// (`<hub>/blobs/`, a directory, marked by a `.huggingface-shared-blobs`
/// file holding `1\n`; read without following a symlink or blocking).
pub(crate) fn hf_shared_store(hub: &Path) -> bool {
    const MARKER_TEXT: &[u8] = b"1\n";
    let store = hub.join(HF_SHARED_DIR);
    std::fs::symlink_metadata(&store).is_ok_and(|m| m.is_dir())
        && crate::fs::read_regular(&store.join(HF_SHARED_MARKER), MARKER_TEXT.len() as u64 + 1)
            .is_ok_and(|text| text == MARKER_TEXT)
}

/// The shared store's directory in a hub cache (huggingface_hub 2.x).
pub(crate) const HF_SHARED_DIR: &str = "blobs";
/// The file huggingface_hub marks its shared store with.
pub(crate) const HF_SHARED_MARKER: &str = ".huggingface-shared-blobs";

/// Refuses the symlink `link` (in the model directory `root`) unless the
/// file it leads to is inside `root`: a symlink in a source may not make
/// the catalog copy a file from anywhere else (`tokenizer.json ->
/// /etc/shadow`). The import checks this again when it opens the file, by
/// handle: what is found here is only the early, friendly refusal.
fn stays_inside(root: &Path, link: &Path) -> Result<()> {
    let canonical = |p: &Path| std::fs::canonicalize(p).map_err(|e| Error::io(p, e));
    if canonical(link)?.starts_with(canonical(root)?) {
        return Ok(());
    }
    Err(Error::UnsafeSource {
        path: link.to_path_buf(),
        reason: format!(
            "a symlink that leads out of {} — a symlink in a source may only lead to a file \
             inside the directory it belongs to",
            root.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_model(paths: &[&str]) -> FetchedModel {
        FetchedModel {
            is_directory: true,
            files: paths
                .iter()
                .map(|p| SourceFile {
                    relative_path: (*p).to_string(),
                    path: PathBuf::from("/src").join(p),
                    size: 1,
                })
                .collect(),
        }
    }

    #[test]
    fn a_listing_that_cannot_be_laid_out_is_refused() {
        assert!(
            dir_model(&["config.json", "a/b.bin", "a/c/d.bin"])
                .check()
                .is_ok()
        );
        for (paths, says) in [
            (&[][..], "no files"),
            (&["x", "x"], "more than once"),
            (&["a", "a/b"], "as a file and as the directory"),
            (&["a/b/c", "a/b"], "as a file and as the directory"),
            (&["../x"], "`..`"),
            (&["a//b"], "empty path component"),
        ] {
            let err = dir_model(paths).check().unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { reason, .. } if reason.contains(says)),
                "{paths:?}: {err}"
            );
        }
        let single = FetchedModel {
            is_directory: false,
            files: vec![SourceFile {
                relative_path: String::new(),
                path: PathBuf::from("/src/m.gguf"),
                size: 1,
            }],
        };
        assert!(
            single.check().is_ok(),
            "a one-file model has no relative path"
        );
    }
}
