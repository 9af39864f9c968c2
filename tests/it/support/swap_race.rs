//! The race of issue 19: a directory's owner exchanges a directory of
//! their model with a symlink to another directory of the same file system
//! (`renameat2(RENAME_EXCHANGE)`, in a tight loop) while the catalog
//! imports or adopts the model, hoping it takes a file of that other
//! directory (the victim). Shared by the modules that run it.

use catalog_core::{Catalog, Digest, Error, ImportOptions, LinkMode, ModelRef};
use rustix::fs::{CWD, RenameFlags, renameat_with};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `len` bytes that differ for every `tag` (and start with it).
pub fn fill(len: usize, tag: &str) -> Vec<u8> {
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
/// directory, holding one file `name` with bytes no model has.
pub struct Victim {
    pub dir: PathBuf,
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub inode: u64,
}

impl Victim {
    /// `base/outside/V/<name>`, `len` bytes.
    pub fn new(base: &Path, name: &'static str, len: usize) -> Victim {
        let dir = base.join("outside/V");
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = fill(len, &format!("the victim's {name}, never to be taken"));
        std::fs::write(dir.join(name), &bytes).unwrap();
        let inode = std::fs::metadata(dir.join(name)).unwrap().ino();
        Victim {
            dir,
            name,
            bytes,
            inode,
        }
    }

    pub fn digest(&self) -> Digest {
        Digest::of_bytes(&self.bytes)
    }

    /// The victim's file is where it was, the one name of its inode, with
    /// its bytes; nothing was put beside it; no entry of `catalog` holds
    /// its bytes.
    pub fn assert_untouched(&self, catalog: &Catalog, what: &str) {
        let file = self.dir.join(self.name);
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
pub fn race<T>(a: &Path, b: &Path, op: impl FnOnce() -> T) -> (T, u64) {
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
/// names them and the store under `root` holds them).
pub fn registered(catalog: &Catalog, root: &Path, id: &str, rel: &str, bytes: &[u8]) -> bool {
    let digest = Digest::of_bytes(bytes);
    catalog.get(id).ok().is_some_and(|e| {
        e.files.iter().any(|f| f.path == rel && f.digest == digest)
            && std::fs::read(root.join("blobs/sha256").join(digest.hex()))
                .ok()
                .as_deref()
                == Some(bytes)
    })
}

/// `a.bin`: hashed first, so the import is busy while the swaps run.
const A_LEN: usize = 2 << 20;
/// `sub/b.bin`, and the victim `V/b.bin` of the same size.
const B_LEN: usize = 64 << 10;
/// Swaps (in all rounds together) the race must see at least.
const MIN_SWAPS: u64 = 1_000;
/// Imports at least, and at most (a bound, whatever the swap rate).
const MIN_ROUNDS: u64 = 30;
const MAX_ROUNDS: u64 = 300;

/// The import race: `round-<n>/DIR` holds `a.bin` (hashed first) and
/// `sub/b.bin`; `DIR/sub` is exchanged with a symlink to the victim's
/// directory (holding a `b.bin` of its own) during every import, in
/// `mode`. Whatever the interleaving the victim is untouched, a
/// successful import registers `DIR`'s own bytes, and every byte of `DIR`
/// is back in `DIR`, registered, or kept in the store and reported.
pub fn imports_never_take_the_victim(mode: LinkMode) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    let victim = Victim::new(base.path(), "b.bin", B_LEN);
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
