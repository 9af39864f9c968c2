//! Issue 19, a hole found after the fix of N8: an import lists its source
//! directory first and reads the files one after the other. While the
//! first, large, file is being copied, the directory's owner replaces a
//! later one, `b.bin`, by a FIFO. Opening a FIFO for reading waits for a
//! writer forever (before the fix, the import hung there holding the
//! writer lock; once released by a writer it registered an empty file).
//! The import must finish within a deadline, fail (or register `b.bin`'s
//! real bytes, if it read them before the swap), and never register an
//! empty file, in every link mode.

use catalog_core::{Catalog, Digest, ImportOptions, LinkMode, ModelRef};
use rustix::fs::{CWD, Mode, OFlags};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `a.bin`: large, so the swap lands while it is copied.
const A_LEN: usize = 64 << 20;
const B: &[u8] = &[2u8; 1024];
/// How long an import may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(30);

/// Waits (at most `DEADLINE`) until a file appears in `staging`.
fn wait_for_staging(staging: &Path) -> bool {
    let started = Instant::now();
    while started.elapsed() < DEADLINE {
        if std::fs::read_dir(staging).is_ok_and(|mut d| d.next().is_some()) {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

fn an_import_finishes(mode: LinkMode) {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("DIR");
    std::fs::create_dir_all(&dir).unwrap();
    let a = vec![1u8; A_LEN];
    std::fs::write(dir.join("a.bin"), &a).unwrap();
    std::fs::write(dir.join("b.bin"), B).unwrap();
    let root = base.path().join("root");
    let catalog = Catalog::open(&root).unwrap();

    let (tx, rx) = mpsc::channel();
    let importer = {
        let catalog = catalog.clone();
        let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();
        std::thread::spawn(move || {
            let _ = tx.send(catalog.import(&source, ImportOptions::default().id("m").link(mode)));
        })
    };
    // A copy stages `a.bin` under `blobs/tmp/`; a move import writes its
    // intent there first. Either way `b.bin` is not read yet.
    assert!(
        wait_for_staging(&root.join("blobs/tmp")),
        "{mode:?}: the import started staging within {DEADLINE:?}"
    );
    std::fs::remove_file(dir.join("b.bin")).unwrap();
    rustix::fs::mkfifoat(CWD, dir.join("b.bin"), Mode::from(0o644)).unwrap();

    let result = match rx.recv_timeout(DEADLINE) {
        Ok(result) => result,
        Err(_) => {
            // Release a reader blocked on the FIFO, so the test ends.
            let _ = rustix::fs::open(
                dir.join("b.bin"),
                OFlags::WRONLY | OFlags::NONBLOCK,
                Mode::empty(),
            );
            let late = rx.recv_timeout(DEADLINE);
            panic!(
                "{mode:?}: the import did not finish within {DEADLINE:?} of `b.bin` becoming a \
                 FIFO (after a writer opened it: {late:?})"
            );
        }
    };
    importer.join().unwrap();
    let empty = Digest::of_bytes(b"");
    for e in catalog.list() {
        assert!(
            e.digest != Some(empty) && e.files.iter().all(|f| f.digest != empty),
            "{mode:?}: an empty file is registered: {e:?}"
        );
    }
    match &result {
        Ok(report) => {
            let b = report.entry.files.iter().find(|f| f.path == "b.bin");
            assert_eq!(
                b.map(|f| f.digest),
                Some(Digest::of_bytes(B)),
                "{mode:?}: an import that succeeded read b.bin's real bytes before the swap: \
                 {report:?}"
            );
        }
        Err(e) => assert!(
            catalog.get("m").is_err(),
            "{mode:?}: a failed import ({e}) registers nothing"
        ),
    }
    assert_eq!(
        std::fs::read(dir.join("a.bin"))
            .ok()
            .as_deref()
            .map(<[u8]>::len)
            .or_else(|| catalog.get("m").ok().map(|_| A_LEN)),
        Some(A_LEN),
        "{mode:?}: a.bin is back in DIR or registered ({result:?})"
    );
    eprintln!(
        "{mode:?}: the import finished: {:?}",
        result.map(|r| r.entry.id)
    );
}

#[test]
fn a_copy_import_finishes_and_never_registers_an_empty_file() {
    an_import_finishes(LinkMode::Copy);
}

#[test]
fn a_move_import_finishes_and_never_registers_an_empty_file() {
    an_import_finishes(LinkMode::Move);
}
