//! The store's side of the check: every file an entry uses exists (every
//! view complete), every blob hashes to its name when deep, and no moved-in
//! file is left behind by an import that could not finish. A file is
//! looked at by its metadata first and named by what it is (`found`): a
//! FIFO, socket, device or directory where a file should be is never
//! opened (opening a FIFO blocks), and never called missing.

use super::super::options::Options;
use super::found::Found;
use super::report::{CheckReport, ProblemKind, problem};
use crate::error::{Error, Result};
use crate::hashing::{FsOpener, hash_files_via};
use crate::layout::Layout;
use crate::state::State;
use crate::store::confine::confined;
use crate::store::usage::objects_of;
use crate::store::{BLOBS_DIR, Object, Store, put_back, view};

/// Files `--link move` imports took from their sources and did not
/// register: one that recovery could not put back is a problem naming
/// where the bytes are and where they came from; one of an import that is
/// running or was interrupted is a note (the next writer open puts it
/// back). An unreadable intent is a problem.
pub(super) fn check_moves(layout: &Layout, opts: &Options, report: &mut CheckReport) -> Result<()> {
    let store = Store::new(opts.fs.clone(), layout.root());
    let (pending, errors) = put_back::pending(&store)?;
    for p in pending {
        if p.kept {
            problem(
                report,
                ProblemKind::Store,
                &p.staged,
                0,
                None,
                format!(
                    "the bytes of {} were moved into the store by an import that failed or was \
                     interrupted and could not be put back (the path is taken or its directory \
                     is gone); they are kept here and never deleted: move them where you want \
                     them, or free the path and open the catalog for writing",
                    p.source.display()
                ),
            );
        } else {
            report.notes.push(format!(
                "{}: moved from {} by an import that is running or was interrupted ({}); the \
                 next writer open puts it back if the import did not finish",
                p.staged.display(),
                p.source.display(),
                p.intent.display()
            ));
        }
    }
    for e in errors {
        let (file, offset) = match &e {
            Error::Corrupt { file, offset, .. } => (file.clone(), *offset),
            Error::UnsupportedVersion { file, .. } => (file.clone(), 0),
            _ => (store.staging_dir(), 0),
        };
        problem(
            report,
            ProblemKind::Store,
            &file,
            offset,
            None,
            format!(
                "a move intent cannot be read ({e}); gc removes no staged file while it is there"
            ),
        );
    }
    Ok(())
}

/// A model registered in place: each of its files must still be a file
/// where it was registered (looked at through the links that lead to it,
/// like a Hugging Face snapshot's symlinks). Read only, as always.
fn check_in_place(opts: &Options, entry: &crate::entry::ModelEntry, report: &mut CheckReport) {
    let base = std::path::PathBuf::from(&entry.local_path);
    let paths: Vec<std::path::PathBuf> = if entry.files.is_empty() {
        vec![base]
    } else {
        entry.files.iter().map(|f| base.join(&f.path)).collect()
    };
    for path in paths {
        let found = Found::at(&*opts.fs, &path, true);
        let what = match &found {
            Found::File => continue,
            gone if gone.is_gone() => format!(
                "model `{}` was registered in place and this file of it {} (the catalog never \
                 removes it: it was removed or moved outside the catalog); adopt it again, or \
                 delete the entry",
                entry.id,
                gone.describe()
            ),
            other => format!(
                "model `{}` was registered in place and this file of it {} (the catalog never \
                 replaces it: it was replaced outside the catalog, and is not opened); put the \
                 model's file back and adopt it again, or delete the entry",
                entry.id,
                other.describe()
            ),
        };
        problem(
            report,
            ProblemKind::Store,
            &path,
            0,
            Some(entry.updated_seq),
            what,
        );
    }
}

/// Every stored file an entry uses must exist (and every view be complete);
/// with `deep`, every blob must hash to its name.
pub(super) fn check_store(
    layout: &Layout,
    opts: &Options,
    deep: bool,
    state: &State,
    report: &mut CheckReport,
) -> Result<()> {
    let store = Store::new(opts.fs.clone(), layout.root());
    for entry in state.values() {
        if entry.external {
            check_in_place(opts, entry, report);
            continue;
        }
        for object in objects_of(entry) {
            let rel = object.rel();
            let found = match object {
                Object::Blob(_) => match confined(&store, &rel) {
                    Ok(p) => Found::at(&*opts.fs, &p, false),
                    Err(e) => Found::Unreadable(e.to_string()),
                },
                Object::View(_) => match view::is_complete(&store, &rel, &entry.files) {
                    Ok(true) => continue,
                    _ => Found::Incomplete,
                },
            };
            if matches!(found, Found::File) {
                continue;
            }
            let what = format!(
                "model `{}` uses {rel}, which {}",
                entry.id,
                found.describe()
            );
            problem(
                report,
                ProblemKind::Store,
                &store.path(object),
                0,
                Some(entry.updated_seq),
                what,
            );
        }
    }
    if !deep {
        return Ok(());
    }
    let dir = store.blobs_dir();
    let names = match opts.fs.list(&dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    for name in names {
        let Some(Object::Blob(d)) = Object::from_rel(&format!("{BLOBS_DIR}/{name}")) else {
            continue;
        };
        let path = dir.join(&name);
        let found = Found::at(&*opts.fs, &path, false);
        if !matches!(found, Found::File) {
            let what = format!("this blob {}; it is not read", found.describe());
            problem(report, ProblemKind::Store, &path, 0, None, what);
            continue;
        }
        let fs = FsOpener(&*opts.fs);
        let hashed = hash_files_via(&fs, std::slice::from_ref(&path), 1, &|_| {}).pop();
        match hashed.unwrap_or_else(|| Err(Error::io(&path, std::io::Error::other("not hashed")))) {
            Ok(got) if got.digest.digest == d => report.blobs_hashed += 1,
            Ok(got) => {
                report.blobs_hashed += 1;
                problem(
                    report,
                    ProblemKind::Store,
                    &path,
                    0,
                    None,
                    format!("blob content hashes to {}, not its name", got.digest.digest),
                );
            }
            Err(e) => problem(report, ProblemKind::Store, &path, 0, None, e.to_string()),
        }
    }
    Ok(())
}
