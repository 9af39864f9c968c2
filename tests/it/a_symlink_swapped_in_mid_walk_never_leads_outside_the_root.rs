//! Matrix row 18 (finding F3), as a real race: another process on the node
//! exchanges a directory inside the store with a symlink to a directory
//! outside the root (`renameat2(RENAME_EXCHANGE)`, in a tight loop) while
//! gc, evict and delete remove trees and while imports create files.
//! Whatever the interleaving, nothing outside the root is removed or
//! written: every victim file is still there, with its bytes, and no new
//! file appears beside them.

use catalog_core::{Catalog, Digest, GcOptions, ImportOptions, ModelRef};
use rustix::fs::{CWD, RenameFlags, renameat_with};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Files in the swapped directory, and victims of the same names outside.
const FILES: usize = 400;

fn name(i: usize) -> String {
    format!("f{i:04}")
}

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

/// A world: a root, an outside directory of victims, and an attacker's
/// symlink to it, all on one file system (so the exchange works).
struct World {
    _base: tempfile::TempDir,
    root: PathBuf,
    victims: PathBuf,
    link: PathBuf,
}

impl World {
    fn new() -> World {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root");
        let victims = base.path().join("outside/victims");
        let link = base.path().join("attacker/link");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&victims).unwrap();
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        for i in 0..FILES {
            std::fs::write(victims.join(name(i)), victim_bytes(i)).unwrap();
        }
        World {
            root,
            victims,
            link,
            _base: base,
        }
    }

    /// Puts the attacker's symlink back (after a round, it may be a
    /// directory that was exchanged out of the root).
    fn reset_link(&self) {
        match std::fs::symlink_metadata(&self.link) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&self.link).unwrap(),
            Ok(_) => std::fs::remove_file(&self.link).unwrap(),
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&self.victims, &self.link).unwrap();
    }

    /// Every victim is still there with its bytes, and nothing was added.
    fn assert_victims_intact(&self, what: &str) {
        let mut missing = Vec::new();
        for i in 0..FILES {
            if std::fs::read(self.victims.join(name(i))).ok() != Some(victim_bytes(i)) {
                missing.push(name(i));
            }
        }
        assert!(
            missing.is_empty(),
            "{what}: {} of {FILES} victim files outside the root were removed or changed \
             (first: {:?})",
            missing.len(),
            missing.first()
        );
        let count = std::fs::read_dir(&self.victims).unwrap().count();
        assert_eq!(
            count, FILES,
            "{what}: files were created in the directory outside the root"
        );
    }
}

fn victim_bytes(i: usize) -> Vec<u8> {
    format!("victim {i}").into_bytes()
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

/// Runs `op` while a thread exchanges `inside` with the attacker's link.
fn race<T>(world: &World, inside: &Path, op: impl FnOnce() -> T) -> (T, u64) {
    world.reset_link();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let handle = {
        let (a, b) = (inside.to_path_buf(), world.link.clone());
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || swapper(a, b, stop, swaps))
    };
    // Let the swapping start before the operation does.
    while swaps.load(Ordering::Relaxed) < 2 {
        std::thread::yield_now();
    }
    let out = op();
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    (out, swaps.load(Ordering::Relaxed))
}

/// A multi-file model whose files sit in `sub/` under the names the
/// victims have; returns the id's view directory `views/<hex>/sub`.
fn import_model(world: &World, catalog: &Catalog, id: &str) -> PathBuf {
    let src = world.root.parent().unwrap().join(format!("src-{id}"));
    std::fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..FILES {
        std::fs::write(src.join("sub").join(name(i)), format!("{id} {i}")).unwrap();
    }
    catalog
        .import(&r(&src), ImportOptions::default().id(id))
        .unwrap();
    catalog.model_path(id).unwrap().join("sub")
}

#[test]
fn tree_removal_by_evict_delete_and_gc_never_follows_a_swapped_in_symlink() {
    let world = World::new();
    let catalog = Catalog::open(&world.root).unwrap();

    let sub = import_model(&world, &catalog, "evicted");
    let (evicted, swaps) = race(&world, &sub, || catalog.evict("evicted", false));
    eprintln!("evict: {swaps} exchanges during the call, result {evicted:?}");
    world.assert_victims_intact("evict");

    let sub = import_model(&world, &catalog, "deleted");
    let (deleted, swaps) = race(&world, &sub, || catalog.delete("deleted"));
    eprintln!("delete: {swaps} exchanges during the call, result {deleted:?}");
    world.assert_victims_intact("delete");

    // An orphaned view for gc: a tree under a view name no entry uses.
    let orphan = world
        .root
        .join("views")
        .join(Digest::of_bytes(b"orphan").hex());
    std::fs::create_dir_all(orphan.join("sub")).unwrap();
    for i in 0..FILES {
        std::fs::write(orphan.join("sub").join(name(i)), b"orphan").unwrap();
    }
    let sub = orphan.join("sub");
    let (gc, swaps) = race(&world, &sub, || {
        catalog.gc(
            GcOptions::default().grace(std::time::Duration::ZERO),
            &|_| {},
        )
    });
    eprintln!("gc: {swaps} exchanges during the call, result {gc:?}");
    world.assert_victims_intact("gc");
}

#[test]
fn imports_never_create_files_through_a_swapped_in_symlink() {
    let world = World::new();
    let catalog = Catalog::open(&world.root).unwrap();
    // The store's staging directory exists once something was imported.
    import_model(&world, &catalog, "first");
    let staging = world.root.join("blobs/tmp");
    let src = world.root.parent().unwrap().join("src-raced");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..FILES {
        std::fs::write(src.join("sub").join(name(i)), format!("raced {i}")).unwrap();
    }
    let (results, swaps) = race(&world, &staging, || {
        (0..5)
            .map(|k| catalog.import(&r(&src), ImportOptions::default().id(format!("raced-{k}"))))
            .map(|r| r.map(|_| ()))
            .collect::<Vec<_>>()
    });
    eprintln!("import: {swaps} exchanges during 5 imports, results {results:?}");
    world.assert_victims_intact("import");
    for i in 0..FILES {
        assert!(
            src.join("sub").join(name(i)).exists(),
            "a copied source is never touched"
        );
    }
}
