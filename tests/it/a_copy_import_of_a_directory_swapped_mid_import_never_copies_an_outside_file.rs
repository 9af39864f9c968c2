//! Issue 19, a hole found after the fix of N7: the default import copies
//! (`catalog add`, `ImportOptions::default()`), and a copy read its files
//! by path. The directory's owner exchanges `DIR/sub` with a symlink to
//! another directory `V` of the same file system (`renameat2
//! (RENAME_EXCHANGE)`, in a tight loop, at least 1,000 times over the
//! rounds) while `a.bin`, first in the model, is copied. Whatever the
//! interleaving, `V/b.bin`'s bytes are never copied into the store or
//! registered: the import registers `DIR`'s own bytes or fails. (Before
//! the fix, `sub/b.bin` was opened through the symlink and the victim's
//! bytes were registered.)

use crate::support::swap_race::imports_never_take_the_victim;
use catalog_core::LinkMode;

#[test]
fn a_copy_import_never_copies_a_file_of_a_directory_swapped_in() {
    imports_never_take_the_victim(LinkMode::Copy);
}
