//! Issue 19, attacked after the fix. `Links::Named` says a file its caller
//! named through a final symlink may be read wherever the link leads, but
//! is "only ever copied, never linked or moved": the link's owner chose
//! where it leads. `catalog adopt <dir>/m.gguf`, where `m.gguf` is the
//! directory owner's symlink to a file elsewhere (`/etc/shadow`), must
//! therefore never hard-link that file into the store: it keeps one name.
//!
//! Failed before the fix (the attack of 2026-12-07), every time: the adoption makes the
//! path canonical first (`adopt::detect`, then `adopt::plain` with
//! `std::fs::canonicalize`), so it scans the file the link leads to, in
//! that file's own directory, as if the caller had named it: it is reached
//! without a symlink and hard-linked. With the `catalog` binary running as
//! root, `nobody`'s `m.gguf -> /root-owned/secret` (0600) made `catalog
//! adopt` hard-link the secret into the store (nlink 2) and register it.

use catalog_core::{AdoptOptions, Catalog};
use std::os::unix::fs::MetadataExt;

#[test]
fn adopting_a_symlink_to_a_file_elsewhere_never_links_that_file() {
    let base = tempfile::tempdir().unwrap();
    let outside = base.path().join("outside");
    let user = base.path().join("user");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&user).unwrap();
    let secret = outside.join("secret");
    std::fs::write(&secret, b"GGUF and a secret that is not the user's").unwrap();
    std::os::unix::fs::symlink(&secret, user.join("m.gguf")).unwrap();
    let catalog = Catalog::open(base.path().join("root")).unwrap();

    let result = catalog.adopt(&user.join("m.gguf"), AdoptOptions::default(), &|_| {});

    let nlink = std::fs::metadata(&secret).unwrap().nlink();
    let models: Vec<_> = result
        .iter()
        .flat_map(|r| &r.models)
        .map(|m| (m.id.as_str(), m.model_ref.as_str(), m.ingest.hard_linked))
        .collect();
    assert_eq!(
        nlink,
        1,
        "{} (outside the directory of the symlink adopted) must keep one name: it was \
         hard-linked into the store; models (id, ref, files hard-linked): {models:?}",
        secret.display()
    );
}
