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

use crate::support::swap_race::imports_never_take_the_victim;
use catalog_core::LinkMode;

#[test]
fn a_move_import_never_moves_a_file_of_a_directory_swapped_in() {
    imports_never_take_the_victim(LinkMode::Move);
}

#[test]
fn a_hard_link_import_never_links_a_file_of_a_directory_swapped_in() {
    imports_never_take_the_victim(LinkMode::HardLink);
}
