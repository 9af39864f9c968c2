//! A plain directory (one multi-file model) or file (one model, a GGUF):
//! no publisher's digest to check the bytes against, so the digest is
//! computed when it is adopted (`DigestSource::Import`) and the model is
//! `Warned`, as `catalog add` without `--digest` leaves it. Unlike `add`,
//! the bytes are linked (or reflinked) rather than copied; a file reached
//! through a symlink (which must stay inside the directory) is copied.
//!
//! Files are listed like `catalog add` lists them (`FileFetcher`: symlinks
//! to files followed, to directories refused, `.git/` and `.cache/` at the
//! top left out, non-UTF-8 names refused).

use super::plan::{Candidate, CandidateFile, Scan};
use crate::error::{Error, Result};
use crate::fetch::{FileFetcher, ModelFetcher};
use crate::model_ref::ModelRef;
use std::path::Path;

/// The candidate of a plain directory or file.
pub(crate) fn scan(path: &Path) -> Result<Scan> {
    let model_ref = ModelRef::parse(&format!("file:{}", path.display())).map_err(|e| match e {
        Error::InvalidInput { reason, .. } => Error::invalid("path", reason),
        other => other,
    })?;
    let fetched = FileFetcher::default().fetch(&model_ref)?;
    let single = !fetched.is_directory;
    let mut files = Vec::with_capacity(fetched.files.len());
    for f in fetched.files {
        // Opened by handle when it is read: inside the directory (a symlink
        // must stay in it, and is then copied), or, a single file, as named
        // (a symlink only if root or this user put it there; copied too).
        // Never resolved here by path: the directory may change meanwhile.
        let source = f.path.clone();
        let tree = if single {
            source.clone()
        } else {
            path.to_path_buf()
        };
        files.push(CandidateFile {
            path: f.relative_path.clone(),
            in_place: f.relative_path,
            source,
            tree,
            size: f.size,
            publisher: None,
            media_type: None,
        });
    }
    let mut scan = Scan::default();
    scan.add(Candidate {
        id: model_ref.default_id(),
        model_ref,
        origin: path.to_path_buf(),
        base: path.to_path_buf(),
        single,
        files,
        revision: None,
        partial: None,
    });
    Ok(scan)
}
