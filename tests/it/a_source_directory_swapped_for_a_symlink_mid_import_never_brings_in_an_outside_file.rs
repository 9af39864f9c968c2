//! Issue 19, finding N7, as a real race. A `--link move` (or `hardlink`)
//! import looks at each source file (its move intent records the inode)
//! and later moves or links it by path. The directory's owner exchanges
//! `DIR/sub` with a symlink to another directory `V` of the same file
//! system (`renameat2(RENAME_EXCHANGE)`, in a tight loop) while `a.bin`,
//! first in the model, is hashed. Whatever the interleaving, `V/b.bin` is
//! never moved, hard-linked, changed or registered: it stays the one name
//! of its inode, with its bytes, and no entry holds its digest. Each import
//! either registers `DIR`'s own bytes or fails, and every byte of `DIR` is
//! then back in `DIR`, registered, or kept in the store and reported.

use catalog_core::{Catalog, Digest, Error, ImportOptions, LinkMode, ModelRef};
use rustix::fs::{CWD, RenameFlags, renameat_with};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `a.bin`: hashed first, so the import is busy while the swaps run.
const A_LEN: usize = 2 << 20;
/// `sub/b.bin`, and the victim `V/b.bin` of the same size.
const B_LEN: usize = 64 << 10;
/// Swaps (in all rounds together) the race must see at least.
const MIN_SWAPS: u64 = 1_000;
/// Imports at least, and at most (a bound, whatever the swap rate).
const MIN_ROUNDS: u64 = 30;
const MAX_ROUNDS: u64 = 300;

fn fill(len: usize, tag: &str) -> Vec<u8> {
    let mut out = format!("{tag} ").into_bytes();
    let mut x: u32 = tag
        .bytes()
        .fold(0x811c_9dc5, |h, b| (h ^ u32::from(b)).wrapping_mul(31))
        | 1;
    out.extend((out.len()..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x >> 24) as u8
    }));
    out
}

/// The victim: a directory of the same file system, outside every model
/// directory, whose `b.bin` has other bytes.
struct Victim {
    dir: PathBuf,
    bytes: Vec<u8>,
    inode: u64,
}

impl Victim {
    fn new(base: &Path) -> Victim {
        let dir = base.join("outside/V");
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = fill(B_LEN, "the victim's b.bin, never to be taken");
        std::fs::write(dir.join("b.bin"), &bytes).unwrap();
        let inode = std::fs::metadata(dir.join("b.bin")).unwrap().ino();
        Victim { dir, bytes, inode }
    }

    fn digest(&self) -> Digest {
        Digest::of_bytes(&self.bytes)
    }

    fn assert_untouched(&self, catalog: &Catalog, what: &str) {
        let file = self.dir.join("b.bin");
        let meta = std::fs::symlink_metadata(&file).unwrap_or_else(|e| {
            panic!(
                "{what}: {} (outside the model directory) must stay where it is, but: {e}",
                file.display()
            )
        });
        assert_eq!(
            (meta.is_file(), meta.ino(), meta.nlink()),
            (true, self.inode, 1),
            "{what}: {} must stay the same file (inode {}) with one name (nlink 1): it was \
             never moved or hard-linked into the store",
            file.display(),
            self.inode
        );
        assert!(
            std::fs::read(&file).unwrap() == self.bytes,
            "{what}: {} keeps its bytes",
            file.display()
        );
        let names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            1,
            "{what}: nothing is put into {}: {names:?}",
            self.dir.display()
        );
        let victim = self.digest();
        for e in catalog.list() {
            assert!(
                e.digest != Some(victim) && e.files.iter().all(|f| f.digest != victim),
                "{what}: entry `{}` holds the bytes of {} (digest {victim}): {e:?}",
                e.id,
                file.display()
            );
        }
    }
}

/// Exchanges `a` and `b` as fast as it can until stopped; counts swaps.
fn swapper(a: PathBuf, b: PathBuf, stop: Arc<AtomicBool>, swaps: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        if renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).is_ok() {
            swaps.fetch_add(1, Ordering::Relaxed);
        } else {
            std::thread::yield_now();
        }
    }
}

/// Runs `op` while a thread exchanges `a` and `b`; returns its result and
/// the number of exchanges. Afterwards `a` is what it was before.
fn race<T>(a: &Path, b: &Path, op: impl FnOnce() -> T) -> (T, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let handle = {
        let (a, b) = (a.to_path_buf(), b.to_path_buf());
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || swapper(a, b, stop, swaps))
    };
    while swaps.load(Ordering::Relaxed) < 2 {
        std::thread::yield_now();
    }
    let out = op();
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let n = swaps.load(Ordering::Relaxed);
    if n % 2 == 1 {
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).unwrap();
    }
    (out, n)
}

/// Whether `bytes` are registered for `id` as its file `rel` (the entry
/// names them and the store holds them).
fn registered(catalog: &Catalog, root: &Path, id: &str, rel: &str, bytes: &[u8]) -> bool {
    let digest = Digest::of_bytes(bytes);
    catalog.get(id).ok().is_some_and(|e| {
        e.files.iter().any(|f| f.path == rel && f.digest == digest)
            && std::fs::read(root.join("blobs/sha256").join(digest.hex()))
                .ok()
                .as_deref()
                == Some(bytes)
    })
}

fn imports_never_take_the_victim(mode: LinkMode) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    let victim = Victim::new(base.path());
    let catalog = Catalog::open(&root).unwrap();
    let (mut swaps, mut rounds, mut outcomes) = (0u64, 0u64, [0u64; 2]);
    while rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || swaps < MIN_SWAPS) {
        rounds += 1;
        let round = base.path().join(format!("round-{rounds}"));
        let dir = round.join("DIR");
        let (a, b) = (
            fill(A_LEN, &format!("a.bin of round {rounds}")),
            fill(B_LEN, &format!("b.bin of round {rounds}")),
        );
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.bin"), &a).unwrap();
        std::fs::write(dir.join("sub/b.bin"), &b).unwrap();
        let link = round.join("link");
        std::os::unix::fs::symlink(&victim.dir, &link).unwrap();
        let id = format!("m{rounds}");
        let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();

        let (result, n) = race(&dir.join("sub"), &link, || {
            catalog.import(&source, ImportOptions::default().id(&id).link(mode))
        });
        swaps += n;
        let what = format!("{mode:?} import, round {rounds} ({n} exchanges during it)");
        victim.assert_untouched(&catalog, &what);
        let kept = match &result {
            Ok(report) => {
                outcomes[0] += 1;
                let mut own: Vec<_> = report
                    .entry
                    .files
                    .iter()
                    .map(|f| (f.path.as_str(), f.digest))
                    .collect();
                own.sort_by_key(|(path, _)| *path);
                assert_eq!(
                    own,
                    [
                        ("a.bin", Digest::of_bytes(&a)),
                        ("sub/b.bin", Digest::of_bytes(&b))
                    ],
                    "{what}: a successful import registers DIR's own bytes"
                );
                Vec::new()
            }
            Err(Error::MovedFilesKept { kept, .. }) => {
                outcomes[1] += 1;
                kept.clone()
            }
            Err(_) => {
                outcomes[1] += 1;
                Vec::new()
            }
        };
        for (rel, bytes) in [("a.bin", &a), ("sub/b.bin", &b)] {
            let back = std::fs::read(dir.join(rel)).ok().as_ref() == Some(bytes);
            let kept_here = kept
                .iter()
                .any(|k| std::fs::read(&k.staged).ok().as_ref() == Some(bytes));
            assert!(
                back || registered(&catalog, &root, &id, rel, bytes) || kept_here,
                "{what}: the bytes of DIR/{rel} are neither back in DIR, nor registered, nor \
                 kept in the store and reported (result: {result:?})"
            );
        }
    }
    eprintln!(
        "{mode:?}: {rounds} imports, {swaps} exchanges; {} succeeded, {} failed; the victim \
         was never taken",
        outcomes[0], outcomes[1]
    );
    assert!(
        swaps >= MIN_SWAPS,
        "the race ran: at least {MIN_SWAPS} exchanges during the imports (got {swaps} in \
         {rounds} imports)"
    );
}

#[test]
fn a_move_import_never_moves_a_file_of_a_directory_swapped_in() {
    imports_never_take_the_victim(LinkMode::Move);
}

#[test]
fn a_hard_link_import_never_links_a_file_of_a_directory_swapped_in() {
    imports_never_take_the_victim(LinkMode::HardLink);
}
