//! Issue 19, attacked after the fix. The fix opens every directory below
//! a source's top directory without following a symlink, but the top
//! directory itself — the `DIR` of `catalog add DIR` — is opened again, by
//! path and following symlinks, for every file (`ForeignPath::tree`), and
//! the listing reads it by path too. `DIR` usually sits in a directory its
//! owner can write. The owner exchanges `DIR` itself with a symlink to
//! another directory `V` of the same file system (`renameat2
//! (RENAME_EXCHANGE)`, in a tight loop) while `DIR/a.bin` is read. `V`
//! holds a file of the same name as one of `DIR`'s: `b.bin`.
//!
//! Whatever the interleaving, `V/b.bin` must never be copied, moved,
//! linked or registered: it stays the one name of its inode, in `V`, and no
//! entry holds its bytes.
//!
//! Failed before the fix (the attack of 2026-12-07): in about one import in three a copy
//! import registers `V/b.bin`'s bytes (and a root catalog stages them in a
//! world-readable file first, see
//! `a_staged_copy_is_never_more_readable_than_its_source`), and a move
//! import moves `V/b.bin` out of `V` into the store. With the `catalog`
//! binary running as root, `nobody` moved a root-owned 0600 file out of a
//! root-owned 0755 directory this way (1 round in 12).
//!
//! The same for a one-file model (`catalog add DIR/b.bin`): its directory
//! is opened by path for the move intent and again for the move. As root,
//! `nobody` had a root-owned 0600 file moved into the store in the 2nd
//! round, and `catalog delete` of the model then destroyed it.

use crate::support::swap_race::{Victim, fill, race};
use catalog_core::{Catalog, ImportOptions, LinkMode, ModelRef};

/// `a.bin`: read first, so the import is busy while the swaps run.
const A_LEN: usize = 2 << 20;
/// `DIR/b.bin`, and the victim `V/b.bin` of the same size.
const B_LEN: usize = 64 << 10;
/// Imports at least (the test stops at the first that takes the victim),
/// and swaps at least over them.
const ROUNDS: u64 = 60;
const MIN_SWAPS: u64 = 1_000;

/// What the import names: the directory, or its one file `b.bin`.
#[derive(Clone, Copy, Debug)]
enum Named {
    Directory,
    OneFile,
}

fn imports_never_take_the_victim(mode: LinkMode, named: Named) {
    if !rustix::process::geteuid().is_root() {
        // Another user's directory can only be made by root (chown).
        eprintln!("skipped: needs root to give the source's directory to another user");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let victim = Victim::new(base.path(), "b.bin", B_LEN);
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let (mut swaps, mut outcomes) = (0u64, [0u64; 2]);
    for round in 1..=ROUNDS {
        let dir = base.path().join(format!("round-{round}/DIR"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), fill(A_LEN, &format!("a.bin {round}"))).unwrap();
        std::fs::write(dir.join("b.bin"), fill(B_LEN, &format!("b.bin {round}"))).unwrap();
        let link = base.path().join(format!("round-{round}/link"));
        std::os::unix::fs::symlink(&victim.dir, &link).unwrap();
        // The directory holding DIR is the attacker's (user 65534): a
        // symlink in it is one someone else could have put there.
        std::os::unix::fs::chown(
            base.path().join(format!("round-{round}")),
            Some(65534),
            Some(65534),
        )
        .unwrap();
        let path = match named {
            Named::Directory => dir.clone(),
            Named::OneFile => dir.join("b.bin"),
        };
        let source = ModelRef::parse(&format!("file:{}", path.display())).unwrap();
        let id = format!("m{round}");

        let (result, n) = race(&dir, &link, || {
            catalog.import(&source, ImportOptions::default().id(&id).link(mode))
        });
        swaps += n;
        outcomes[usize::from(result.is_err())] += 1;
        victim.assert_untouched(
            &catalog,
            &format!(
                "{mode:?} import of the {named:?}, round {round} ({n} exchanges of DIR during it)"
            ),
        );
    }
    eprintln!(
        "{mode:?} of the {named:?}: {ROUNDS} imports, {swaps} exchanges; {} succeeded, {} failed; the victim \
         was never taken",
        outcomes[0], outcomes[1]
    );
    assert!(
        swaps >= MIN_SWAPS,
        "the race ran: at least {MIN_SWAPS} exchanges (got {swaps})"
    );
}

#[test]
fn a_copy_import_never_copies_a_file_of_a_directory_swapped_in_for_its_top() {
    imports_never_take_the_victim(LinkMode::Copy, Named::Directory);
}

#[test]
fn a_move_import_never_moves_a_file_of_a_directory_swapped_in_for_its_top() {
    imports_never_take_the_victim(LinkMode::Move, Named::Directory);
}

#[test]
fn a_move_import_of_one_file_never_moves_a_file_of_a_directory_swapped_in_for_its_own() {
    imports_never_take_the_victim(LinkMode::Move, Named::OneFile);
}
