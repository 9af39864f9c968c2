//! What the parts of a repository's scan share: the repository being read
//! ([`Repo`]), the depth bound, and how a report line names paths. A leaf:
//! the snapshot and refs readers and the repository scan import it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deepest directory tree walked in a snapshot.
pub(super) const MAX_DEPTH: usize = 64;
/// Most paths named in one report line.
const NAMED: usize = 5;

/// What a snapshot of one repository is read against: where the cache and
/// the repository are, the repository's id, its refs and its download in
/// progress, if any.
pub(crate) struct Repo<'a> {
    /// The cache (its shared blob store is there).
    pub hub: &'a Path,
    /// The `models--org--name` directory.
    pub path: &'a Path,
    /// `org/name`.
    pub id: String,
    /// Every ref (`main`, a tag, `refs/pr/1`) and its commit.
    pub refs: BTreeMap<String, String>,
    /// The first `.incomplete` file whose blob is not there.
    pub running: Option<PathBuf>,
}

/// The first few of `paths`, for a report line.
pub(super) fn named(paths: &[&str]) -> String {
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
