//! Putting moved files back: the recovery rules of move intents
//! ([`super::intent`]).
//!
//! For every file an intent names, in `blobs/tmp/<staged>`:
//!
//! 1. no staged file: nothing to do (never moved, or already handled);
//! 2. **registered** — the entry being imported exists, was written after
//!    the intent's `head_seq`, and uses for this file a blob that is the
//!    staged file itself (same inode) or holds the same bytes (both hash to
//!    its digest): the import completed, the staged name is removed;
//! 3. the source path holds the staged file itself (a move whose removal
//!    of the source name was not yet durable): the staged name is removed;
//! 4. the source path is free: the staged file is moved back there
//!    (`renameat2(RENAME_NOREPLACE)`, never replacing anything) — into the
//!    source's directory reached from `/` one component at a time without
//!    following a symlink, and only if it is the very directory the intent
//!    recorded (device and inode) — then the source directory is fsynced;
//! 5. otherwise (the path is taken, its directory is gone or is another
//!    directory now, a symlink is on the way, an error): the
//!    file is **kept** where it is and reported; the intent is renamed
//!    `<stem>.kept`, and every later writer open and gc tries again.
//!
//! When no file is kept the intent is removed. The store never deletes a
//! staged file an intent names (gc leaves them and the intents alone).

use super::intent::{self, INTENT_SUFFIX, IntentFile, KEPT_SUFFIX, is_intent_name, kept_name};
pub use super::kept::KeptFile;
use super::{Object, STAGING_DIR, Store};
use crate::digest::Digest;
use crate::error::{CorruptKind, Error, Result};
use crate::fs::{FileKind, Meta, is_changed, is_not_beneath};
use crate::hashing::{FsOpener, hash_files_via};
use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

/// What putting back found and did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    /// Source paths whose bytes are back.
    pub restored: Vec<PathBuf>,
    /// Staged files the import registered (their staged names removed).
    pub registered: u64,
    /// Files kept in the store.
    pub kept: Vec<KeptFile>,
    /// Intents that could not be read or resolved (their files are left
    /// alone).
    pub errors: Vec<(PathBuf, String)>,
}

/// `registry(id, after_seq, rel)`: the digest of the blob the entry `id`
/// uses for its model file `rel` (`""`: the one file of a one-file
/// model), if that entry was written after sequence `after_seq`.
pub(crate) type Registry<'a> = &'a dyn Fn(&str, u64, &str) -> Option<Digest>;

/// Resolves the intent `blobs/tmp/<name>` by the rules above.
pub(crate) fn resolve(store: &Store, name: &str, registry: Registry<'_>) -> Result<Outcome> {
    let fs = &store.fs;
    let root = store.root();
    let intent_rel = format!("{STAGING_DIR}/{name}");
    let intent = read_own(store, name)?;
    let mut out = Outcome::default();
    let mut source_dirs = BTreeSet::new();
    for f in &intent.files {
        let staged_rel = f.staged_rel();
        let Some(staged) = fs
            .metadata_beneath(root, &staged_rel)
            .map_err(|e| store.error(&staged_rel, e))?
        else {
            continue;
        };
        let keep = |reason: String| KeptFile {
            staged: root.join(&staged_rel),
            source: f.source.clone(),
            reason,
        };
        if !is_the_moved_file(&staged, f) {
            // Not the file that was moved (a symlink, a directory, another
            // file put under its name): it is not put anywhere.
            out.kept.push(keep(
                "it is not the file the import moved (another file or a link is under its \
                 staging name); it is left where it is"
                    .into(),
            ));
            continue;
        }
        if registered(store, &intent.id, intent.head_seq, f, &staged, registry) {
            fs.remove_tree_beneath(root, &staged_rel)
                .map_err(|e| store.error(&staged_rel, e))?;
            out.registered += 1;
            continue;
        }
        let at_source = fs
            .metadata(&f.source, false)
            .map_err(|e| Error::io(&f.source, e))?;
        match at_source {
            Some(m) if m.kind == FileKind::File && m.inode == staged.inode => {
                fs.remove_tree_beneath(root, &staged_rel)
                    .map_err(|e| store.error(&staged_rel, e))?;
                out.restored.push(f.source.clone());
            }
            Some(_) => out
                .kept
                .push(keep("the source path is taken by another file".into())),
            None => match fs.move_out_beneath(root, &staged_rel, &f.source, f.dir) {
                Ok(()) => {
                    if let Some(dir) = f.source.parent() {
                        source_dirs.insert(dir.to_path_buf());
                    }
                    out.restored.push(f.source.clone());
                }
                Err(e) => out.kept.push(keep(why_not_back(&e))),
            },
        }
    }
    for dir in &source_dirs {
        fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    store.sync_dir(STAGING_DIR)?;
    let rel = intent_rel;
    if out.kept.is_empty() {
        fs.remove_tree_beneath(root, &rel)
            .map_err(|e| store.error(&rel, e))?;
        store.sync_dir(STAGING_DIR)?;
    } else if name.ends_with(INTENT_SUFFIX) {
        let kept = format!("{STAGING_DIR}/{}", kept_name(name));
        fs.rename_beneath(root, &rel, &kept)
            .map_err(|e| store.error(&kept, e))?;
        store.sync_dir(STAGING_DIR)?;
    }
    for k in &out.kept {
        tracing::warn!(staged = %k.staged.display(), source = %k.source.display(), reason = %k.reason, "a moved model file could not be put back; its bytes are kept in the store");
    }
    for p in &out.restored {
        tracing::info!(source = %p.display(), "a moved model file was put back");
    }
    Ok(out)
}

/// Why a moved file could not go back, for the report.
fn why_not_back(e: &io::Error) -> String {
    if is_not_beneath(e) || is_changed(e) {
        return format!(
            "its directory is not the one it was moved from any more ({e}): a symlink or \
             another directory is on the way, and a file is only ever put back into the very \
             directory it came from"
        );
    }
    match e.kind() {
        io::ErrorKind::AlreadyExists => "the source path is taken by another file".into(),
        io::ErrorKind::NotFound => "the source's directory no longer exists".into(),
        _ => format!("it could not be moved back: {e}"),
    }
}

/// Reads the intent `blobs/tmp/<name>` if this process's user wrote it.
/// An intent is an instruction to rename a file to any path it names: one
/// planted in `blobs/tmp/` by another user is refused (`Corrupt`), never
/// acted on.
fn read_own(store: &Store, name: &str) -> Result<intent::Intent> {
    let fs = &store.fs;
    let rel = format!("{STAGING_DIR}/{name}");
    let owner = fs
        .metadata_beneath(store.root(), &rel)
        .map_err(|e| store.error(&rel, e))?
        .map(|m| m.uid);
    if owner != Some(fs.effective_uid()) {
        return Err(Error::corrupt(
            store.root().join(&rel),
            0,
            None,
            CorruptKind::Foreign,
            format!(
                "move intent owned by user {}, not by this process's user {}: not acted on \
                 (someone else wrote it; remove it)",
                owner.map_or("-".into(), |u| u.to_string()),
                fs.effective_uid()
            ),
        ));
    }
    intent::read(store, name)
}

/// Whether `staged` is the very file the intent recorded for `f`.
fn is_the_moved_file(staged: &Meta, f: &IntentFile) -> bool {
    staged.kind == FileKind::File && staged.inode == f.inode
}

/// Whether the staged file `f` is registered: the entry uses, for it, a
/// blob that is this very file or holds its bytes.
fn registered(
    store: &Store,
    id: &str,
    head_seq: u64,
    f: &IntentFile,
    staged: &Meta,
    registry: Registry<'_>,
) -> bool {
    let Some(digest) = registry(id, head_seq, &f.rel) else {
        return false;
    };
    let blob_rel = Object::Blob(digest).rel();
    let Ok(Some(blob)) = store.fs.metadata_beneath(store.root(), &blob_rel) else {
        return false;
    };
    if blob.kind != FileKind::File {
        return false;
    }
    if blob.inode == staged.inode {
        return true;
    }
    // Deduplicated: the store already held these bytes. Only if both the
    // staged file and the blob hash to the digest is the staged one spare.
    if blob.len != staged.len {
        return false;
    }
    let paths = [
        store.root().join(&blob_rel),
        store.root().join(f.staged_rel()),
    ];
    hash_files_via(&FsOpener(&*store.fs), &paths, 1, &|_| {})
        .into_iter()
        .all(|h| h.is_ok_and(|h| h.digest.digest == digest))
}

/// Names of the intents (live and kept) in `blobs/tmp/`, sorted.
fn intent_names(store: &Store) -> Result<Vec<String>> {
    let dir = store.staging_dir();
    let mut names: Vec<String> = match store.fs.list(&dir) {
        Ok(n) => n.into_iter().filter(|n| is_intent_name(n)).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    names.sort();
    Ok(names)
}

/// Resolves every intent in the store (writer open, and gc before it
/// sweeps, with the store lock held exclusively: no import is running).
pub(crate) fn recover(store: &Store, registry: Registry<'_>) -> Result<Outcome> {
    let mut all = Outcome::default();
    for name in intent_names(store)? {
        match resolve(store, &name, registry) {
            Ok(o) => {
                all.restored.extend(o.restored);
                all.registered += o.registered;
                all.kept.extend(o.kept);
            }
            Err(e) => {
                tracing::warn!(intent = %name, error = %e, "a move intent could not be resolved; its files are left alone");
                all.errors
                    .push((store.staging_dir().join(&name), e.to_string()));
            }
        }
    }
    Ok(all)
}

/// The names in `blobs/tmp/` gc must leave alone: every intent and every
/// staged file one names. `Err` if an intent cannot be read (then no
/// staged file may be removed: it could name any of them).
pub(crate) fn protected(store: &Store) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for name in intent_names(store)? {
        let intent = intent::read(store, &name)?;
        out.extend(intent.files.into_iter().map(|f| f.staged));
        out.insert(name);
    }
    Ok(out)
}

/// A staged file an intent names, as `check` reports it.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// The intent or kept file.
    pub intent: PathBuf,
    /// Where the bytes are.
    pub staged: PathBuf,
    /// Where they came from.
    pub source: PathBuf,
    /// Recovery already tried and could not put it back (`.kept`), rather
    /// than an import that is running or was interrupted (`.intent`).
    pub kept: bool,
}

/// Every staged file that an intent names and that exists, without
/// changing anything; an intent that cannot be read is returned as an
/// error beside the others.
pub(crate) fn pending(store: &Store) -> Result<(Vec<Pending>, Vec<Error>)> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for name in intent_names(store)? {
        let intent = match read_own(store, &name) {
            Ok(i) => i,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for f in intent.files {
            let rel = f.staged_rel();
            if let Some(staged) = store.fs.metadata_beneath(store.root(), &rel).ok().flatten() {
                // A file that is not the one moved is never put back: it
                // needs someone to look at it, like a kept one.
                let foreign = !is_the_moved_file(&staged, &f);
                out.push(Pending {
                    intent: store.staging_dir().join(&name),
                    staged: store.root().join(&rel),
                    source: f.source,
                    kept: foreign || name.ends_with(KEPT_SUFFIX),
                });
            }
        }
    }
    Ok((out, errors))
}
