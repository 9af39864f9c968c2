//! Issue 19 (finding N8, "never hangs"), attacked after the fix. The fix
//! opens model files `O_NONBLOCK` and refuses anything but a regular file,
//! but the scan of a store still reads its small files by path with a
//! plain, blocking `open`: an Ollama manifest (`adopt::ollama`,
//! `read_manifest`), a Hugging Face ref (`adopt::hf_cache`,
//! `read_to_string(refs/<name>)`) and a GGUF file's magic (`adopt::detect`),
//! each after a `metadata` that said "a regular file". The store's owner exchanges that file with a
//! FIFO (`renameat2(RENAME_EXCHANGE)`, in a tight loop): an `open` that
//! lands on the FIFO waits for a writer that never comes.
//!
//! An adoption must finish, whatever the interleaving.
//!
//! Failed before the fix (the attack of 2026-12-07): an adoption hangs within a few
//! attempts. With the `catalog` binary as root on `nobody`'s stores,
//! `catalog adopt` hung in `wait_for_partner` on the 4th to 12th attempt
//! (Ollama manifest) and on the 4th (Hugging Face `refs/main`); the
//! writer lock is not held yet, so other commands go on.

use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, commit};
use crate::support::swap_race::race;
use catalog_core::{AdoptOptions, Catalog};
use rustix::fs::{CWD, Mode, OFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long one adoption may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(5);
/// Adoptions tried while the exchanges run.
const ATTEMPTS: u32 = 300;

/// Adopts `source` again and again while `file` (a regular file the scan
/// reads) is exchanged with a FIFO beside it; panics if one hangs.
fn never_hangs(base: &Path, source: &Path, file: &Path) {
    let fifo: PathBuf = file.with_file_name(".swap.fifo");
    rustix::fs::mkfifoat(CWD, &fifo, Mode::from(0o644)).unwrap();
    let catalog = Catalog::open(base.join("root")).unwrap();
    let (hung, swaps) = race(file, &fifo, || {
        for attempt in 1..=ATTEMPTS {
            let (tx, rx) = mpsc::channel();
            let (catalog, source) = (catalog.clone(), source.to_path_buf());
            std::thread::spawn(move || {
                let _ = tx.send(
                    catalog
                        .adopt(&source, AdoptOptions::default(), &|_| {})
                        .is_ok(),
                );
            });
            if rx.recv_timeout(DEADLINE).is_err() {
                return Some(attempt);
            }
        }
        None
    });
    if let Some(attempt) = hung {
        // Let the blocked open go on, so the test binary can end.
        for name in [file, fifo.as_path()] {
            let _ = rustix::fs::open(name, OFlags::WRONLY | OFlags::NONBLOCK, Mode::empty());
        }
        panic!(
            "adoption {attempt} of {} did not finish within {DEADLINE:?} ({swaps} exchanges of \
             {} with a FIFO)",
            source.display(),
            file.display()
        );
    }
}

#[test]
fn adopting_an_ollama_store_whose_manifest_is_swapped_for_a_fifo_never_hangs() {
    let base = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(&base.path().join("models"));
    let manifest = ollama.model(
        ("registry.ollama.ai", "library", "tiny", "latest"),
        b"{}",
        &[(MODEL, b"GGUF tiny")],
    );
    never_hangs(base.path(), &ollama.models, &manifest);
}

#[test]
fn adopting_a_hugging_face_cache_whose_ref_is_swapped_for_a_fifo_never_hangs() {
    let base = tempfile::tempdir().unwrap();
    let cache = HfCache::new(&base.path().join("hub"));
    let repo = cache.repo("org", "tiny");
    let c = commit("tiny");
    repo.snapshot(&c, &[("model.safetensors", b"weights", Kind::Lfs)]);
    repo.set_ref("main", &c);
    never_hangs(base.path(), &cache.hub, &repo.dir.join("refs/main"));
}

#[test]
fn adopting_a_gguf_file_swapped_for_a_fifo_never_hangs() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("models");
    std::fs::create_dir_all(&dir).unwrap();
    let gguf = dir.join("tiny.gguf");
    std::fs::write(&gguf, b"GGUF tiny weights").unwrap();
    never_hangs(base.path(), &gguf, &gguf);
}
