//! A file a move import could not put back (a leaf: [`crate::Error`]
//! carries it, so it imports nothing from the crate).

use std::path::PathBuf;

/// A file a move import took from its source that could not be put back.
/// Its bytes stay where `staged` says until someone moves them; the
/// catalog never deletes them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeptFile {
    /// Where the bytes are now (a file in `<root>/blobs/tmp/`).
    pub staged: PathBuf,
    /// Where they came from.
    pub source: PathBuf,
    /// Why they were not put back.
    pub reason: String,
}

impl std::fmt::Display for KeptFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (moved from {}; {})",
            self.staged.display(),
            self.source.display(),
            self.reason
        )
    }
}
