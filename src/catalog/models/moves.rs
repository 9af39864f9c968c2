//! The catalog's side of `--link move` imports (P5: bytes moved in and
//! never registered are never deleted).
//!
//! Before the first file moves, the import publishes a durable intent
//! naming, for every source file, the staging name it will take. Moved
//! files keep that name until the entry's records are durable. Then:
//! success removes the staged names and the intent ([`MoveIntent::finish`]);
//! failure puts the files back before the import returns
//! ([`MoveIntent::fail`]); an interrupted import is found at the next writer
//! open, and before every gc sweep ([`recover`]). The rules are in
//! `store::put_back`.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fetch::SourceFile;
use crate::state::State;
use crate::store::STAGING_DIR;
use crate::store::Store;
use crate::store::ingest::{MoveTarget, source_error, staging_name};
use crate::store::intent::{self, Intent, IntentFile};
use crate::store::put_back::{self, KeptFile, Outcome};

/// The digest of the blob entry `id` uses for model file `rel`, if the
/// entry was written after `after_seq` (see `put_back::Registry`).
pub(crate) fn registered_digest(
    state: &State,
    id: &str,
    after_seq: u64,
    rel: &str,
) -> Option<Digest> {
    let entry = state.get(id)?;
    if entry.updated_seq <= after_seq {
        return None;
    }
    // A one-file entry lists no files: its one file is the entry's digest,
    // whatever path a fetcher gave it.
    if entry.files.is_empty() {
        return entry.digest;
    }
    entry.files.iter().find(|f| f.path == rel).map(|f| f.digest)
}

/// Resolves every move intent in the store against `state`: at writer
/// open, and in gc under the exclusive store lock (no import runs then).
pub(crate) fn recover(store: &Store, state: &State) -> Result<Outcome> {
    store.check_layout()?;
    put_back::recover(store, &|id, after, rel| {
        registered_digest(state, id, after, rel)
    })
}

/// What the intent records of `f`: opened by handle (the handle is closed
/// again: a model may have more files than a process may hold open), its
/// inode, and its directory as the kernel knows it (no symlink in the
/// path) with that directory's identity. The import opens it again to move
/// it, and moves it only if it is still that inode in that directory.
fn intent_file(store: &Store, f: &SourceFile) -> Result<IntentFile> {
    let file = store
        .fs
        .open_foreign(f.at())
        .map_err(|e| source_error(&f.path, e))?;
    let inode = file.meta().map_err(|e| Error::io(&f.path, e))?.inode;
    // A file reached through a symlink is copied, never moved.
    let (source, dir) = match (file.dir(), f.path.file_name()) {
        (Ok((dir, id)), Some(name)) if !file.via_symlink() => (dir.join(name), Some(id)),
        _ => (f.path.clone(), None),
    };
    Ok(IntentFile {
        staged: staging_name(),
        rel: f.relative_path.clone(),
        source,
        inode,
        dir,
    })
}

/// A published move intent of a running import.
#[derive(Debug)]
pub(crate) struct MoveIntent {
    name: String,
    intent: Intent,
}

impl MoveIntent {
    /// Publishes the intent for moving `files` (absolute source paths) into
    /// the store for `id`; `head_seq` is the journal's last sequence number.
    pub(crate) fn begin(
        store: &Store,
        id: &str,
        head_seq: u64,
        files: &[SourceFile],
    ) -> Result<Self> {
        let intent = Intent {
            head_seq,
            id: id.to_string(),
            files: files
                .iter()
                .map(|f| intent_file(store, f))
                .collect::<Result<_>>()?,
        };
        let name = intent::new_name();
        intent::write(store, &name, &intent)?;
        Ok(MoveIntent { name, intent })
    }

    /// Where the `i`-th file may be moved to, and what it must be then.
    pub(crate) fn target(&self, i: usize) -> Option<MoveTarget<'_>> {
        self.intent.files.get(i).map(|f| MoveTarget {
            staged: &f.staged,
            inode: f.inode,
            dir: f.dir,
        })
    }

    /// The entry is durable: the staged names and the intent go. A failure
    /// is logged and left to the next recovery (which finds the files
    /// registered).
    pub(crate) fn finish(self, store: &Store) {
        let cleaned = (|| -> Result<()> {
            for f in &self.intent.files {
                let rel = f.staged_rel();
                store
                    .fs
                    .remove_tree_beneath(store.root(), &rel)
                    .map_err(|e| store.error(&rel, e))?;
            }
            store.sync_dir(STAGING_DIR)?;
            let rel = format!("{STAGING_DIR}/{}", self.name);
            store
                .fs
                .remove_tree_beneath(store.root(), &rel)
                .map_err(|e| store.error(&rel, e))?;
            store.sync_dir(STAGING_DIR)
        })();
        if let Err(e) = cleaned {
            tracing::warn!(intent = %self.name, error = %e, "could not clean up after a move import; the next writer open does");
        }
    }

    /// The import failed with `cause`: puts every moved file back (or, if
    /// `registered` says the entry was written, keeps what it uses).
    /// Returns `cause`, or [`Error::MovedFilesKept`] if some file could not
    /// be put back.
    pub(crate) fn fail(
        self,
        store: &Store,
        registered: put_back::Registry<'_>,
        cause: Error,
    ) -> Error {
        let kept = match put_back::resolve(store, &self.name, registered) {
            Ok(outcome) => outcome.kept,
            Err(e) => {
                // Nothing is deleted on this path: every moved file that is
                // still staged stays there, and the intent names it.
                tracing::warn!(intent = %self.name, error = %e, "moved files could not be put back yet; the next writer open tries again");
                let root = store.root();
                self.intent
                    .files
                    .iter()
                    .filter(|f| {
                        store
                            .fs
                            .metadata_beneath(root, &f.staged_rel())
                            .ok()
                            .flatten()
                            .is_some()
                    })
                    .map(|f| KeptFile {
                        staged: root.join(f.staged_rel()),
                        source: f.source.clone(),
                        reason: format!("putting it back failed: {e}"),
                    })
                    .collect()
            }
        };
        if kept.is_empty() {
            cause
        } else {
            Error::MovedFilesKept {
                cause: Box::new(cause),
                kept,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntrySpec, ManifestFile};
    use crate::journal::op::Op;
    use crate::state::change_for;

    fn state_with(spec: EntrySpec) -> State {
        let mut state = State::default();
        state.apply(change_for(None, Op::Put(spec), 5, 1).unwrap());
        state
    }

    #[test]
    fn a_one_file_entry_is_registered_whatever_path_the_fetcher_gave_its_file() {
        let d = Digest::of_bytes(b"w");
        let state = state_with(EntrySpec::new("m", "hf:o/r", "blobs/x").digest(d));
        for rel in ["", "model.gguf", "dir/model.gguf"] {
            assert_eq!(registered_digest(&state, "m", 4, rel), Some(d), "{rel:?}");
        }
        assert_eq!(
            registered_digest(&state, "m", 5, ""),
            None,
            "written before the intent"
        );
        assert_eq!(registered_digest(&state, "other", 0, ""), None);
    }

    #[test]
    fn a_multi_file_entry_is_matched_file_by_file() {
        let (a, b) = (Digest::of_bytes(b"a"), Digest::of_bytes(b"b"));
        let files = vec![
            ManifestFile::new("a.bin", a, 1),
            ManifestFile::new("b.bin", b, 1),
        ];
        let state = state_with(EntrySpec::new("m", "hf:o/r", "views/x").files(files));
        assert_eq!(registered_digest(&state, "m", 0, "b.bin"), Some(b));
        assert_eq!(registered_digest(&state, "m", 0, "c.bin"), None);
    }
}
