//! Matrix row 17 (finding F1, part c): a directory model whose record
//! would not fit in a journal record (4,096 files with 245-byte names: the
//! `Put` payload is over the 1 MiB limit) is refused before the first file
//! moves. Every source file stays where it was, the store holds nothing of
//! it, and nothing was written.

use catalog_core::{Catalog, Error, ImportOptions, LinkMode, ModelRef};

const FILES: usize = 4096;

fn name(i: usize) -> String {
    // 245 bytes: a long name, well under the 255-byte limit of a component.
    format!("{i:05}-{}", "x".repeat(239))
}

#[test]
fn a_move_import_whose_record_would_be_too_large_moves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap(); // beside the root: a real move
    let repo = src.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for i in 0..FILES {
        std::fs::write(repo.join(name(i)), (i as u32).to_le_bytes()).unwrap();
    }
    let catalog = Catalog::open(root.path()).unwrap();
    let head = catalog.head();
    let source = ModelRef::parse(&format!("file:{}", repo.display())).unwrap();
    let err = catalog
        .import(
            &source,
            ImportOptions::default().id("huge").link(LinkMode::Move),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { .. }),
        "refused as bad input (nothing written): {err}"
    );
    let missing: Vec<String> = (0..FILES)
        .map(name)
        .filter(|n| std::fs::read(repo.join(n)).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {FILES} source files were moved away (first: {:?})",
        missing.len(),
        missing.first().map(|n| &n[..5])
    );
    for dir in ["blobs/sha256", "blobs/tmp", "views"] {
        let count = std::fs::read_dir(root.path().join(dir)).map_or(0, |d| d.count());
        assert_eq!(count, 0, "{dir} holds nothing of the refused import");
    }
    assert_eq!(catalog.head(), head, "no record was written");
    assert!(!catalog.exists("huge"));
}
