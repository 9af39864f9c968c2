//! An id the source offers that the catalog already holds for a model from
//! somewhere else. Adoption never replaces such an entry: a fine-tune moved
//! into the store as `org/name` is not the Hub's `org/name`, and replacing
//! it would leave its blobs to gc — the user's only copy.
//!
//! Two entries are of the same model when their references name the same
//! origin, whatever its revision: a Hugging Face repository (and path in
//! it) at any commit — re-adopting a cache after `main` moved is an update —
//! an Ollama name (`host/namespace/model:tag`), a file path, a URL. An
//! entry registered in place is also bound to its path: the same
//! repository found at another path is a conflict too (the entry would
//! silently change which files it names). For a Hugging Face snapshot the
//! path that counts is its repository's (`…/models--org--name`, the
//! `snapshots/<commit>` below it dropped), so a new commit of the same
//! cache, in place, is an update too.
//!
//! Conflicts are found while planning ([`Catalog::plan_adoption`], and
//! again by [`Catalog::adopt_planned`] before anything is written), so the
//! whole adoption is refused ([`Error::AdoptConflict`]) with no record
//! written; a dry run lists them. `AdoptOptions::rename` (`--as
//! OLD_ID=NEW_ID`) adopts a model under another id.
//!
//! [`Catalog::plan_adoption`]: crate::Catalog::plan_adoption
//! [`Catalog::adopt_planned`]: crate::Catalog::adopt_planned
//! [`Error::AdoptConflict`]: crate::Error::AdoptConflict

pub(crate) use super::conflict_kind::describe;
pub use super::conflict_kind::{AdoptConflict, ConflictKind};
use super::plan::Candidate;
use crate::catalog::Catalog;
use crate::entry::ModelEntry;
use crate::model_ref::ModelRef;
use std::path::{Path, PathBuf};

/// Every candidate whose id the catalog holds for a model from elsewhere.
pub(super) fn find(catalog: &Catalog, candidates: &[Candidate]) -> Vec<AdoptConflict> {
    candidates
        .iter()
        .filter_map(|c| catalog.lookup(&c.id).and_then(|e| between(&e, c)))
        .collect()
}

/// The conflict between the catalog's entry `e` and the candidate `c` of
/// the same id, if they are not the same model (at the same path, for an
/// entry in place).
pub(super) fn between(e: &ModelEntry, c: &Candidate) -> Option<AdoptConflict> {
    let offered_ref = c.model_ref.canonical();
    let existing_path = e.external.then(|| PathBuf::from(&e.local_path));
    let offered = origin(&offered_ref);
    let (kind, offered_path) = if origin(&e.model_ref) != offered {
        (ConflictKind::OtherModel, c.origin.clone())
    } else if existing_path
        .as_deref()
        .is_some_and(|p| place(p, &offered) != place(&c.base, &offered))
    {
        (ConflictKind::OtherPath, c.base.clone())
    } else {
        return None;
    };
    Some(AdoptConflict {
        id: c.id.clone(),
        kind,
        existing_ref: e.model_ref.clone(),
        existing_path,
        offered_ref,
        offered_path,
    })
}

/// What names a model's origin, revision left out.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    /// A Hugging Face repository, and the path in it if one was given.
    HuggingFace {
        org: String,
        repo: String,
        path: Option<String>,
    },
    /// Any other reference, whole (an Ollama name, a file path, a URL), or
    /// a stored reference that no longer parses, as stored.
    Other(String),
}

/// Where a model of `origin` registered in place at `path` is kept: a
/// Hugging Face snapshot (`<repo>/snapshots/<commit>`) by its repository,
/// anything else by its path.
fn place<'a>(path: &'a Path, origin: &Origin) -> &'a Path {
    let snapshots = path.parent().filter(|p| p.ends_with("snapshots"));
    match (origin, snapshots.and_then(Path::parent)) {
        (Origin::HuggingFace { .. }, Some(repo)) => repo,
        _ => path,
    }
}

fn origin(stored: &str) -> Origin {
    match ModelRef::parse(stored) {
        Ok(ModelRef::HuggingFace {
            org, repo, path, ..
        }) => Origin::HuggingFace { org, repo, path },
        Ok(other) => Origin::Other(other.canonical()),
        Err(_) => Origin::Other(stored.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_the_repository_not_the_revision() {
        let same = [
            ("hf:org/name@abc", "hf:org/name@def"),
            ("hf:org/name", "hf:org/name@main"),
            ("hf:org/name@v1/q4/m.gguf", "hf:org/name@v2/q4/m.gguf"),
            (
                "ollama:registry.ollama.ai/library/llama3:8b",
                "ollama:llama3:8b",
            ),
            ("file:/m/x.gguf", "/m/x.gguf"),
        ];
        for (a, b) in same {
            assert_eq!(origin(a), origin(b), "{a} and {b} are one origin");
        }
        let other = [
            ("hf:org/name@abc", "hf:org/other@abc"),
            ("hf:org/name@abc", "hf:Org/name@abc"),
            ("hf:org/name@v1/a.gguf", "hf:org/name@v1/b.gguf"),
            ("hf:org/name@abc", "file:/hub/models--org--name"),
            ("ollama:llama3:8b", "ollama:llama3:70b"),
            ("file:/a/x.gguf", "file:/b/x.gguf"),
            ("https://h/x.gguf", "https://h/y.gguf"),
        ];
        for (a, b) in other {
            assert_ne!(origin(a), origin(b), "{a} and {b} are two origins");
        }
    }

    #[test]
    fn a_snapshot_is_kept_where_its_repository_is() {
        let hf = origin("hf:org/name@abc");
        let file = origin("file:/data/snapshots/abc");
        let snap = Path::new("/hub/models--org--name/snapshots/abc");
        assert_eq!(place(snap, &hf), Path::new("/hub/models--org--name"));
        assert_eq!(place(snap, &file), snap);
        let blobs = Path::new("/ollama/models/blobs");
        assert_eq!(place(blobs, &origin("ollama:m:1")), blobs);
    }
}
