//! What a scan of a source found, before anything is hashed or written: a
//! candidate model per snapshot, manifest or plain model, each file with
//! where to read it and the digest its store gave it.

use super::report::{SkipKind, Skipped};
use crate::digest::Digest;
use crate::entry::{DigestSource, MAX_MANIFEST_FILES, check_relative_path};
use crate::error::Error;
use crate::model_ref::ModelRef;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One model found in the source.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    /// The id it is registered under.
    pub id: String,
    /// Where it came from.
    pub model_ref: ModelRef,
    /// Where it was found, for the report.
    pub origin: PathBuf,
    /// What an entry registered in place names (`local_path`): the
    /// snapshot directory, Ollama's `blobs/`, the directory or the file.
    pub base: PathBuf,
    /// A one-file model (a plain file); every other is a directory model.
    pub single: bool,
    /// Its files.
    pub files: Vec<CandidateFile>,
    /// A Hugging Face snapshot's repository, commit and refs.
    pub revision: Option<Revision>,
    /// Why it is partial (files its publisher lists are missing): adopted
    /// only with `--allow-partial`, as `warned`.
    pub partial: Option<String>,
}

/// Which revision of a Hugging Face repository a candidate is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Revision {
    /// `org/name`.
    pub repo: String,
    /// The commit (40 hex).
    pub commit: String,
    /// The refs pointing to it (`main`, tags, `refs/pr/N`), sorted.
    pub refs: Vec<String>,
}

/// One file of a candidate.
#[derive(Clone, Debug)]
pub(crate) struct CandidateFile {
    /// Its path in the model (in the store's view).
    pub path: String,
    /// Its path relative to the candidate's `base`, as registered in place.
    pub in_place: String,
    /// The file to read: a regular file, found without following a symlink
    /// out of where its store keeps files.
    pub source: PathBuf,
    /// The directory `source` must be reached in, by handle, without
    /// following any symlink (a repository, an Ollama models directory, a
    /// plain model directory; a single file's own directory).
    pub tree: PathBuf,
    /// Its size when it was found.
    pub size: u64,
    /// The digest its store named it by: an LFS blob's SHA-256, a git blob
    /// id, an Ollama layer's digest; `None` for a plain file.
    pub publisher: Option<Digest>,
    /// Its media type (an Ollama layer's).
    pub media_type: Option<String>,
}

impl CandidateFile {
    /// How to open it: `source` inside `tree`, or (a file not below its
    /// tree) as named.
    pub fn at(&self) -> crate::fs::ForeignPath<'_> {
        match self.source.strip_prefix(&self.tree) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                crate::fs::ForeignPath::inside(&self.tree, rel)
            }
            _ => crate::fs::ForeignPath::named(&self.source),
        }
    }
}

impl Candidate {
    /// Total size.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Whether every file has a digest from its publisher.
    pub fn all_published(&self) -> bool {
        self.files.iter().all(|f| f.publisher.is_some())
    }

    /// Where its digest comes from: its publisher when every file has a
    /// publisher's digest and none its publisher lists is missing; else
    /// computed when adopted (a partial snapshot is never `verified`).
    pub fn digest_source(&self) -> DigestSource {
        if self.all_published() && self.partial.is_none() {
            DigestSource::Publisher
        } else {
            DigestSource::Import
        }
    }
}

/// What a scan found: candidates, and what it skipped.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    /// Partial snapshots (each also in `skipped`): adopted only when asked.
    pub partial: Vec<Candidate>,
}

impl Scan {
    pub fn skip(&mut self, path: impl Into<PathBuf>, kind: SkipKind, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path: path.into(),
            kind,
            reason: reason.into(),
        });
    }

    /// Keeps a partial candidate (already reported in `skipped`), for
    /// `--allow-partial`.
    pub fn add_partial(&mut self, candidate: Candidate) {
        if !candidate.files.is_empty() {
            self.partial.push(candidate);
        }
    }

    /// Adds a candidate unless it cannot be registered as it is (too many
    /// files, a file path the catalog cannot store, two files at one path
    /// of its view, an id already found): then it is skipped, with the
    /// reason, and every other candidate is still adopted.
    pub fn add(&mut self, candidate: Candidate) {
        let problem = if candidate.files.is_empty() {
            Some("it has no files".to_string())
        } else if candidate.files.len() > MAX_MANIFEST_FILES {
            Some(format!(
                "{} files, more than a model may have ({MAX_MANIFEST_FILES})",
                candidate.files.len()
            ))
        } else if self.candidates.iter().any(|c| c.id == candidate.id) {
            Some(format!(
                "another model found here has the id `{}` too",
                candidate.id
            ))
        } else if candidate.single {
            None
        } else {
            candidate
                .files
                .iter()
                .find_map(|f| check_relative_path("path", &f.path).err())
                .map(|e| e.to_string())
                .or_else(|| view_collision(&candidate.files))
        };
        match problem {
            Some(reason) => self.skip(candidate.origin, SkipKind::Unsupported, reason),
            None => self.candidates.push(candidate),
        }
    }
}

/// Why `files` cannot be laid out as one directory (the view a linked
/// model gets), if so: two files at one path (Ollama numbers repeated
/// kinds, `license`, `license-2`, and a layer of kind `license-2` takes
/// that name again), or a path that is a file and the directory of another.
fn view_collision(files: &[CandidateFile]) -> Option<String> {
    let mut paths: BTreeMap<&str, &CandidateFile> = BTreeMap::new();
    for f in files {
        if let Some(first) = paths.insert(f.path.as_str(), f) {
            return Some(format!(
                "two of its files would both be `{}` in its view ({} and {}); it cannot be \
                 registered as one directory",
                f.path,
                described(first),
                described(f)
            ));
        }
    }
    for f in files {
        let mut dir = f.path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if paths.contains_key(parent) {
                return Some(format!(
                    "`{parent}` would be a file of it and the directory of its file `{}`; it \
                     cannot be registered as one directory",
                    f.path
                ));
            }
            dir = parent;
        }
    }
    None
}

/// A file of a candidate, for a message: where it is found, and its media
/// type if it has one.
fn described(f: &CandidateFile) -> String {
    match &f.media_type {
        Some(media) => format!("{} of media type {media}", f.in_place),
        None => f.in_place.clone(),
    }
}

/// The refusal of a source that holds something hostile.
pub(crate) fn unsafe_source(path: &Path, reason: impl Into<String>) -> Error {
    Error::UnsafeSource {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Whether `name` is `len` lowercase hex digits.
pub(crate) fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> CandidateFile {
        CandidateFile {
            path: path.into(),
            in_place: path.into(),
            source: PathBuf::from("/src").join(path),
            tree: PathBuf::from("/src"),
            size: 1,
            publisher: None,
            media_type: None,
        }
    }

    fn candidate(id: &str, paths: &[&str]) -> Candidate {
        Candidate {
            id: id.into(),
            model_ref: ModelRef::parse("/src").unwrap(),
            origin: PathBuf::from("/src").join(id),
            base: PathBuf::from("/src"),
            single: false,
            files: paths.iter().map(|p| file(p)).collect(),
            revision: None,
            partial: None,
        }
    }

    #[test]
    fn a_view_path_taken_twice_or_as_file_and_directory_skips_only_that_model() {
        let mut scan = Scan::default();
        scan.add(candidate("twice", &["license", "license-2", "license-2"]));
        scan.add(candidate("file-and-dir", &["a", "a/b/c"]));
        scan.add(candidate("good", &["a/b", "a/c", "ab"]));
        let ids: Vec<&str> = scan.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["good"]);
        let reasons: Vec<(&Path, SkipKind, &str)> = scan
            .skipped
            .iter()
            .map(|s| (s.path.as_path(), s.kind, s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert_eq!(reasons[0].0, Path::new("/src/twice"));
        assert_eq!(reasons[0].1, SkipKind::Unsupported);
        assert!(reasons[0].2.contains("both be `license-2`"), "{reasons:?}");
        assert_eq!(reasons[1].0, Path::new("/src/file-and-dir"));
        assert!(reasons[1].2.contains("`a` would be a file"), "{reasons:?}");
    }
}
