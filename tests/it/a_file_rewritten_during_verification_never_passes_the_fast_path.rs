//! Issue 19, finding N3. A verification hashes a model's files, then
//! records each file's fingerprint (size, mtime, inode) for the fast path
//! of later verifications. A file rewritten in place after it was hashed,
//! while a bigger one still is, must not get its new fingerprint recorded
//! beside the old bytes' result: a later `verify --fast` would then say
//! "unchanged" forever about bytes nobody hashed. Whatever the timing, a
//! fast-path verification never passes (or warns) while `small.bin` holds
//! other bytes than the ones registered: it re-hashes and fails. The same
//! when the rewrite puts the old mtime back (`File::set_modified`): the
//! change time still tells.
//!
//! Both kinds of model whose files someone else can write: adopted
//! `--in-place`, and imported with `--link hardlink`.

use catalog_core::{
    AdoptOptions, Catalog, Digest, ImportOptions, LinkMode, ModelRef, VerifyOptions, VerifyResult,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Hashing it takes a while (tens of milliseconds with SHA extensions).
const BIG: usize = 64 << 20;
const SMALL: usize = 64 << 10;
/// Rounds per kind of model.
const ROUNDS: u64 = 3;

#[derive(Clone, Copy, Debug)]
enum Registered {
    AdoptedInPlace,
    ImportedByHardLink,
    /// Copied into the store: the store's own blob (0444, the catalog's)
    /// is the file rewritten — by root, who can write it anyway; its
    /// fingerprint is the one trusted by the fast path.
    CopiedIntoTheStore,
}

fn small(round: u64, version: &str) -> Vec<u8> {
    let mut out = vec![0u8; SMALL];
    for (i, b) in out.iter_mut().enumerate() {
        *b = (i as u8) ^ (round as u8);
    }
    let tag = format!("small.bin of round {round}, {version}");
    out[..tag.len()].copy_from_slice(tag.as_bytes());
    out
}

/// A two-file model in `dir`, registered as `how`; returns its id.
fn register(catalog: &Catalog, dir: &Path, round: u64, how: Registered) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let mut big = vec![(round as u8) | 0x40; BIG];
    let tag = format!("big.bin of round {round}");
    big[..tag.len()].copy_from_slice(tag.as_bytes());
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    std::fs::write(dir.join("small.bin"), small(round, "as registered")).unwrap();
    match how {
        Registered::AdoptedInPlace => {
            let report = catalog
                .adopt(dir, AdoptOptions::default().in_place(true), &|_| {})
                .unwrap();
            let model = &report.models[0];
            assert!(
                model.entry.as_ref().is_some_and(|e| e.external),
                "adopted in place: {report:?}"
            );
            model.id.clone()
        }
        Registered::CopiedIntoTheStore => {
            let id = format!("copied-{round}");
            let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();
            catalog
                .import(&source, ImportOptions::default().id(&id))
                .unwrap();
            id
        }
        Registered::ImportedByHardLink => {
            let id = format!("hardlinked-{round}");
            let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();
            let report = catalog
                .import(
                    &source,
                    ImportOptions::default().id(&id).link(LinkMode::HardLink),
                )
                .unwrap();
            assert_eq!(
                report.files_linked_or_moved, 2,
                "both files are hard-linked into the store"
            );
            id
        }
    }
}

/// Rewrites `path` in place (same inode, same size), with other bytes;
/// with `keep_mtime`, puts its modification time back.
fn rewrite(path: &Path, bytes: &[u8], keep_mtime: bool) {
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
    if keep_mtime {
        file.set_modified(before).unwrap();
    }
    file.sync_all().unwrap();
}

fn fast_path_never_passes_a_file_rewritten_mid_verification(keep_mtime: bool) {
    let base = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let mut raced = 0;
    let mut kinds = vec![Registered::AdoptedInPlace, Registered::ImportedByHardLink];
    // Only root can write the store's read-only copy in place.
    if rustix::process::geteuid().is_root() {
        kinds.push(Registered::CopiedIntoTheStore);
    }
    for how in kinds {
        for round in 1..=ROUNDS {
            let dir: PathBuf = base.path().join(format!("{how:?}-{round}/model-{round}"));
            let id = register(&catalog, &dir, round, how);
            let small_path = match how {
                Registered::CopiedIntoTheStore => base
                    .path()
                    .join("root/blobs/sha256")
                    .join(Digest::of_bytes(&small(round, "as registered")).hex()),
                _ => dir.join("small.bin"),
            };
            let changed = small(round, "rewritten");

            // Once a quarter of big.bin is hashed (small.bin, on the other
            // hashing thread, was long done), small.bin is rewritten.
            let hashed = AtomicU64::new(0);
            let rewritten = AtomicBool::new(false);
            let progress = |n: u64| {
                let total = hashed.fetch_add(n, Ordering::SeqCst) + n;
                if total >= (SMALL + BIG / 4) as u64 && !rewritten.swap(true, Ordering::SeqCst) {
                    rewrite(&small_path, &changed, keep_mtime);
                }
            };
            let mut full = VerifyOptions::default();
            full.threads = 2;
            // It may fail, or refuse to record anything (it noticed the
            // change); what matters is what the fast path says afterwards.
            let first = catalog.verify(&id, full, &progress);
            assert!(
                rewritten.load(Ordering::SeqCst),
                "{how:?}, round {round}: small.bin was rewritten while big.bin was hashed"
            );
            let what = format!(
                "{how:?}, round {round} (mtime put back: {keep_mtime}); the verification during \
                 which small.bin was rewritten gave {:?}",
                first
                    .as_ref()
                    .map(|r| (r.outcome.result, &r.outcome.reason))
            );
            // A verification that hashed small.bin's new bytes fails: then
            // the rewrite came too early for the race.
            raced += u64::from(
                first
                    .as_ref()
                    .map_or(true, |r| r.outcome.result != VerifyResult::Fail),
            );

            let fast = catalog
                .verify(&id, VerifyOptions::default().fast_path(true), &|_| {})
                .unwrap();
            assert_eq!(
                fast.outcome.result,
                VerifyResult::Fail,
                "{what}: a fast-path verification must re-hash small.bin, whose bytes are no \
                 longer the registered ones, and fail; it returned {:?} (fast path used: {}, \
                 reason: {})",
                fast.outcome.result,
                fast.fast_path_used,
                fast.outcome.reason
            );
            let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        }
    }
    assert!(
        raced >= 1,
        "the race ran: in at least one round small.bin was hashed before it was rewritten \
         (the verification during the rewrite did not fail)"
    );
}

#[test]
fn a_file_rewritten_after_it_was_hashed_fails_every_later_fast_verification() {
    fast_path_never_passes_a_file_rewritten_mid_verification(false);
}

#[test]
fn a_file_rewritten_with_its_old_mtime_put_back_fails_every_later_fast_verification() {
    fast_path_never_passes_a_file_rewritten_mid_verification(true);
}
