//! Issue 19, a hole found after the fix of N7: adopting a plain directory
//! (`catalog adopt DIR`, linked, or `--in-place`). The directory's owner
//! exchanges `DIR/sub` with a symlink to another directory `V` of the
//! same file system (`renameat2(RENAME_EXCHANGE)`, in a tight loop, at
//! least 1,000 times over the rounds) while the catalog scans, hashes and
//! links. Whatever the interleaving, `V/b.bin` is never hard-linked into
//! the store (it keeps one name), and no entry holds its bytes: the model
//! is adopted with `DIR`'s own bytes, or skipped, or the adoption fails.
//! (Before the fix, the victim was linked into the store and registered.)
//!
//! Failed after the first fix of issue 19, before the second: the scan of a plain
//! directory (`src/adopt/plan.rs`, `src/adopt/plain.rs`) resolves every
//! listed file with `canonicalize`, by path. If `sub` is the symlink at
//! that moment, the file's source becomes `V/b.bin`, which is not below
//! the model's directory, and `CandidateFile::at` then opens it "as
//! named": it is a regular file, reached without a symlink, so it is
//! hard-linked into the store (or hashed in place) and registered as
//! `sub/b.bin`. Both tests below fail within 150 rounds (about one round
//! in 30-100 lands in the scan); `cargo test --test it -- --ignored
//! an_adoption_of_a_directory` shows it.

use crate::support::swap_race::{Victim, fill, race};
use catalog_core::{AdoptOptions, Catalog, Digest};

/// `a.bin`, the model's other file.
const A_LEN: usize = 256 << 10;
/// `sub/b.bin`, and the victim `V/b.bin` of the same size.
const B_LEN: usize = 64 << 10;
/// Swaps (in all rounds together) the race must see at least.
const MIN_SWAPS: u64 = 1_000;
/// Adoptions at least (the scan is short: it takes many rounds to land a
/// swap in it), and at most (a bound, whatever the swap rate).
const MIN_ROUNDS: u64 = 150;
const MAX_ROUNDS: u64 = 300;

fn adoptions_never_take_the_victim(in_place: bool) {
    let base = tempfile::tempdir().unwrap();
    let victim = Victim::new(base.path(), "b.bin", B_LEN);
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let (mut swaps, mut rounds, mut outcomes) = (0u64, 0u64, [0u64; 3]);
    while rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || swaps < MIN_SWAPS) {
        rounds += 1;
        // Each round's directory has its own name: its own model id.
        let dir = base.path().join(format!("round-{rounds}/m{rounds}"));
        let (a, b) = (
            fill(A_LEN, &format!("a.bin of round {rounds}")),
            fill(B_LEN, &format!("b.bin of round {rounds}")),
        );
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.bin"), &a).unwrap();
        std::fs::write(dir.join("sub/b.bin"), &b).unwrap();
        let link = base.path().join(format!("round-{rounds}/link"));
        std::os::unix::fs::symlink(&victim.dir, &link).unwrap();

        let (result, n) = race(&dir.join("sub"), &link, || {
            catalog.adopt(&dir, AdoptOptions::default().in_place(in_place), &|_| {})
        });
        swaps += n;
        let what = format!(
            "adoption{}, round {rounds} ({n} exchanges during it)",
            if in_place { " in place" } else { "" }
        );
        victim.assert_untouched(&catalog, &what);
        let id = format!("m{rounds}");
        match (&result, catalog.get(&id)) {
            (Ok(report), Ok(entry)) if report.models.iter().any(|m| m.id == id) => {
                outcomes[0] += 1;
                let mut own: Vec<_> = entry
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
                    "{what}: an adopted model holds DIR's own bytes"
                );
            }
            (Ok(_), _) => outcomes[1] += 1,
            (Err(_), _) => outcomes[2] += 1,
        }
        assert_eq!(
            (
                std::fs::read(dir.join("a.bin")).ok(),
                std::fs::read(dir.join("sub/b.bin")).ok()
            ),
            (Some(a), Some(b)),
            "{what}: adoption never changes the directory it adopts"
        );
    }
    eprintln!(
        "adoption (in place: {in_place}): {rounds} rounds, {swaps} exchanges; {} adopted, {} \
         skipped, {} failed; the victim was never taken",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(
        swaps >= MIN_SWAPS,
        "the race ran: at least {MIN_SWAPS} exchanges during the adoptions (got {swaps} in \
         {rounds} rounds)"
    );
}

#[test]
fn a_linked_adoption_never_links_a_file_of_a_directory_swapped_in() {
    adoptions_never_take_the_victim(false);
}

#[test]
fn an_adoption_in_place_never_registers_a_file_of_a_directory_swapped_in() {
    adoptions_never_take_the_victim(true);
}
