//! What an adoption conflict is ([`AdoptConflict`], [`ConflictKind`]) and
//! how it is told ([`describe`]): a leaf, because [`crate::Error`] carries
//! it. Finding conflicts is `conflict.rs`.

use std::fmt;
use std::path::PathBuf;

/// Why an id the source offers cannot be adopted as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// The catalog's entry is another model: another repository, Ollama
    /// name, file or URL.
    OtherModel,
    /// The catalog's entry is this model registered in place at another
    /// path.
    OtherPath,
}

impl ConflictKind {
    /// `"other-model"` or `"other-path"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::OtherModel => "other-model",
            ConflictKind::OtherPath => "other-path",
        }
    }
}

/// An id the source offers that the catalog holds for a model from
/// elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdoptConflict {
    /// The id both claim.
    pub id: String,
    /// Another model, or this one at another path.
    pub kind: ConflictKind,
    /// Where the catalog's entry came from: its reference.
    pub existing_ref: String,
    /// The path the catalog's entry names when it is registered in place
    /// (`None`: its files are in the store).
    pub existing_path: Option<PathBuf>,
    /// What the source offers under that id: its reference.
    pub offered_ref: String,
    /// Where the source has it: the snapshot directory, manifest or file
    /// found (for [`ConflictKind::OtherPath`], the path an entry in place
    /// would name).
    pub offered_path: PathBuf,
}

impl fmt::Display for AdoptConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: the catalog's entry is {}",
            self.id, self.existing_ref
        )?;
        match &self.existing_path {
            Some(path) => write!(f, " registered in place at {}", path.display())?,
            None => write!(f, " (its files in the store)")?,
        }
        match self.kind {
            ConflictKind::OtherModel => write!(
                f,
                "; the source offers {} ({})",
                self.offered_ref,
                self.offered_path.display()
            ),
            ConflictKind::OtherPath => write!(
                f,
                "; the source offers {} at another path, {}",
                self.offered_ref,
                self.offered_path.display()
            ),
        }
    }
}

/// The message of [`crate::Error::AdoptConflict`]: every conflict, and what
/// to do.
pub(crate) fn describe(conflicts: &[AdoptConflict]) -> String {
    let listed: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
    let example = conflicts.first().map_or("ID", |c| c.id.as_str());
    format!(
        "refusing to adopt: {} id{} the source offers already belong{} to a model from \
         elsewhere, and adopting never replaces one — {}; nothing was written — adopt it under \
         another id (`catalog adopt PATH --as {example}=NEW_ID`, `AdoptOptions::rename`), or, if \
         the catalog's entry is no longer wanted, remove it first (`catalog delete {example}`)",
        conflicts.len(),
        if conflicts.len() == 1 { "" } else { "s" },
        if conflicts.len() == 1 { "s" } else { "" },
        listed.join("; ")
    )
}
