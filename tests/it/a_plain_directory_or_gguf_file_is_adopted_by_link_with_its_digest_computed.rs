//! A plain directory (one multi-file model) or a GGUF file is adopted too:
//! recognised as such, hard-linked into the store (the same inode; `add`
//! would copy), with its digest computed when adopted — `warned`, digest
//! source `import`, as nothing says what it should be. On another file
//! system, where neither a hard link nor (on ext4, tmpfs) a reflink can
//! share the bytes, it is copied, and the report says so with the bytes
//! written.

use crate::support::layouts::bytes;
use catalog_core::{AdoptOptions, Catalog, DigestSource, SourceLayout, TrustState};
use std::os::unix::fs::MetadataExt;

#[test]
fn a_directory_and_a_gguf_file_are_linked_and_warned() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let dir = src.path().join("Meta-Llama-3-8B-Instruct");
    std::fs::create_dir_all(dir.join("original")).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    std::fs::write(dir.join("original/params.json"), b"{\"dim\":4096}").unwrap();
    let gguf = src.path().join("qwen2-0_5b.gguf");
    std::fs::write(&gguf, [b"GGUF".as_slice(), &bytes(20_000, 1)].concat()).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();

    let r = catalog
        .adopt(&dir, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(r.layout, SourceLayout::Directory);
    let e = catalog.get("Meta-Llama-3-8B-Instruct").unwrap();
    assert_eq!(e.trust, TrustState::Warned);
    assert_eq!(e.digest_source, Some(DigestSource::Import));
    assert_eq!(e.files.len(), 2);
    assert_eq!(r.models[0].ingest.hard_linked, 2);

    let r = catalog
        .adopt(&gguf, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(r.layout, SourceLayout::Gguf);
    let e = catalog.get("qwen2-0_5b.gguf").unwrap();
    assert!(e.files.is_empty(), "a one-file model");
    assert_eq!(
        e.model_ref,
        format!("file:{}", std::fs::canonicalize(&gguf).unwrap().display())
    );
    let stored = catalog.model_path("qwen2-0_5b.gguf").unwrap();
    assert_eq!(
        std::fs::metadata(stored).unwrap().ino(),
        std::fs::metadata(&gguf).unwrap().ino(),
        "the same file: zero bytes copied"
    );
    assert_eq!(r.bytes_written(), 0);
}

#[test]
fn across_file_systems_the_bytes_are_copied_and_counted() {
    let shm = std::path::Path::new("/dev/shm");
    let src = tempfile::tempdir().unwrap();
    let Ok(root) = tempfile::tempdir_in(shm) else {
        eprintln!("no /dev/shm here; the copy fallback is not exercised");
        return;
    };
    if std::fs::metadata(shm).unwrap().dev() == std::fs::metadata(src.path()).unwrap().dev() {
        eprintln!("/dev/shm is on the same file system; the copy fallback is not exercised");
        return;
    }
    let file = src.path().join("m.gguf");
    let weights = [b"GGUF".as_slice(), &bytes(50_000, 2)].concat();
    std::fs::write(&file, &weights).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let r = catalog
        .adopt(&file, AdoptOptions::default(), &|_| {})
        .unwrap();
    let m = &r.models[0];
    assert_eq!(
        (m.ingest.hard_linked, m.ingest.reflinked, m.ingest.copied),
        (0, 0, 1)
    );
    assert_eq!(m.bytes_written, weights.len() as u64);
    assert_eq!(m.ingest.summary(), "copied");
    assert_eq!(
        std::fs::read(catalog.model_path("m.gguf").unwrap()).unwrap(),
        weights
    );
}
