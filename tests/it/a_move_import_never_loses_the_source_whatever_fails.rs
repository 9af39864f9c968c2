//! Matrix row 17 (finding F1, part a; property P5): a `--link move` import
//! of a multi-file model, with an I/O error injected at every single
//! file-system call it makes, and with a crash (the process gone, unsynced
//! changes lost) before every single call. Afterwards the catalog is
//! reopened and gc runs with no grace period at all. Each source file's
//! bytes must then be back at the source path, or registered (the entry
//! names them and the store holds them), or kept in the store and reported
//! by `check` as not put back — never gone.
//!
//! (A crash here loses every unsynced directory change together: the move
//! relies on a rename between two directories of one file system being
//! atomic across a crash, as journaled file systems make it.)

use crate::support::mem_fs::{Call, CrashMode, MemFs};
use catalog_core::fs::Fs;
use catalog_core::{Catalog, Digest, GcOptions, ImportOptions, LinkMode, ModelRef, Options};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ROOT: &str = "/mem/root";
const SRC: &str = "/mem/src/repo";

/// The model: (path in the model, bytes). `dup.bin` has the bytes of a
/// model already in the store, so its import is deduplicated.
fn files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("config.json", b"{\"arch\":\"llama\"}".to_vec()),
        ("dup.bin", vec![3u8; 700]),
        ("weights/a.safetensors", vec![1u8; 5000]),
        ("weights/b.safetensors", vec![2u8; 3000]),
    ]
}

fn opts(fs: &MemFs) -> Options {
    Options::default().fs(Arc::new(fs.clone()))
}

fn write_file(fs: &MemFs, path: &Path, bytes: &[u8]) {
    fs.create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = fs.create(path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_data().unwrap();
    fs.sync_dir(path.parent().unwrap()).unwrap();
}

/// A disk with the source model and a catalog holding `dup.bin`'s bytes.
fn setup() -> MemFs {
    let fs = MemFs::new();
    for (rel, bytes) in files() {
        write_file(&fs, &Path::new(SRC).join(rel), &bytes);
    }
    write_file(&fs, Path::new("/mem/other/dup.bin"), &[3u8; 700]);
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    catalog
        .import(
            &ModelRef::parse("file:/mem/other/dup.bin").unwrap(),
            ImportOptions::default().id("existing"),
        )
        .unwrap();
    fs
}

fn import(catalog: &Catalog) -> catalog_core::Result<catalog_core::ImportReport> {
    catalog.import(
        &ModelRef::parse(&format!("file:{SRC}")).unwrap(),
        ImportOptions::default().id("moved").link(LinkMode::Move),
    )
}

/// Reopens, collects garbage with no grace period, and checks P5 for every
/// source file. Returns how many files were back, registered and kept.
fn assert_nothing_lost(fs: &MemFs, what: &str) -> [u32; 3] {
    let catalog =
        Catalog::open_with(ROOT, opts(fs)).unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    catalog
        .gc(
            GcOptions::default().grace(std::time::Duration::ZERO),
            &|_| {},
        )
        .unwrap_or_else(|e| panic!("{what}: gc failed: {e}"));
    let check = Catalog::check(ROOT, opts(fs), false).unwrap();
    let staged: Vec<PathBuf> = fs.files_under(Path::new(ROOT).join("blobs/tmp").as_path());
    let mut counts = [0; 3];
    for (rel, bytes) in files() {
        let source = Path::new(SRC).join(rel);
        if fs.bytes(&source).as_deref() == Some(&bytes[..]) {
            counts[0] += 1;
            continue;
        }
        let registered = catalog.get("moved").ok().is_some_and(|e| {
            e.files.iter().any(|f| {
                f.path == rel
                    && f.digest == Digest::of_bytes(&bytes)
                    && fs
                        .bytes(&Path::new(ROOT).join(format!("blobs/sha256/{}", f.digest.hex())))
                        .as_deref()
                        == Some(&bytes[..])
            })
        });
        if registered {
            counts[1] += 1;
            continue;
        }
        let kept = staged
            .iter()
            .find(|p| fs.bytes(p).as_deref() == Some(&bytes[..]));
        let reported = check
            .problems
            .iter()
            .any(|p| p.what.contains(&source.display().to_string()));
        assert!(
            kept.is_some() && reported,
            "{what}: the bytes of {rel} are neither back at {}, nor registered, nor kept and \
             reported (kept at {kept:?}, problems {:?})",
            source.display(),
            check.problems
        );
        counts[2] += 1;
    }
    counts
}

/// Every kind of call the injected faults can hit.
const CALLS: [Call; 8] = [
    Call::Write,
    Call::Sync,
    Call::Rename,
    Call::SyncDir,
    Call::Create,
    Call::Remove,
    Call::SetLen,
    Call::Link,
];

#[test]
fn a_fault_at_every_file_system_call_of_a_move_import_loses_no_source_bytes() {
    // Count the calls of each kind a clean import makes.
    let fs = setup();
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    let before: Vec<u64> = CALLS.iter().map(|&c| fs.calls(c)).collect();
    import(&catalog).expect("the import runs through without faults");
    let counts: Vec<u64> = CALLS
        .iter()
        .zip(&before)
        .map(|(&c, b)| fs.calls(c) - b)
        .collect();
    drop(catalog);
    assert_eq!(assert_nothing_lost(&fs, "no fault"), [0, 4, 0]);

    let started = std::time::Instant::now();
    let mut faulted = 0;
    let mut outcomes = [0; 3];
    for (&call, &n_calls) in CALLS.iter().zip(&counts) {
        for n in 1..=n_calls {
            let fs = setup();
            let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
            fs.fail_nth(call, n, std::io::ErrorKind::Other);
            let result = import(&catalog);
            fs.clear_faults();
            drop(catalog);
            let what = format!("fault at {call:?} #{n} (import: {:?})", result.map(|_| ()));
            let got = assert_nothing_lost(&fs, &what);
            for (o, g) in outcomes.iter_mut().zip(got) {
                *o += g;
            }
            faulted += 1;
        }
    }
    eprintln!(
        "{faulted} faulted imports ({counts:?} calls of {CALLS:?}) in {:?}: source files back \
         {}, registered {}, kept and reported {}; none lost",
        started.elapsed(),
        outcomes[0],
        outcomes[1],
        outcomes[2]
    );
}

#[test]
fn a_crash_before_every_file_system_call_of_a_move_import_loses_no_source_bytes() {
    let fs = setup();
    let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    let start = fs.mutating_ops();
    import(&catalog).expect("the import runs through");
    let end = fs.mutating_ops();
    drop(catalog);
    assert!(end > start + 10, "the import does work");

    let started = std::time::Instant::now();
    let mut outcomes = [0; 3];
    for n in start + 1..=end {
        // A process kill (everything written stays) and a power loss
        // (everything unsynced is lost).
        for power_loss in [false, true] {
            let fs = setup();
            let catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
            if power_loss {
                fs.crash_before_op(n, CrashMode::DropUnsynced);
            } else {
                fs.kill_before_op(n);
            }
            let result = import(&catalog);
            drop(catalog);
            assert!(
                fs.crashed(),
                "op {n} was reached ({:?})",
                result.map(|_| ())
            );
            let kind = if power_loss { "power loss" } else { "kill" };
            let what = format!("{kind} before op {n} ({})", fs.op_name(n));
            fs.revive();
            let got = assert_nothing_lost(&fs, &what);
            for (o, g) in outcomes.iter_mut().zip(got) {
                *o += g;
            }
        }
    }
    eprintln!(
        "{} crashes (a kill and a power loss before each of the import's {} file-system \
         calls) in {:?}: source files back {}, registered {}, kept and reported {}; none lost",
        2 * (end - start),
        end - start,
        started.elapsed(),
        outcomes[0],
        outcomes[1],
        outcomes[2]
    );
}
