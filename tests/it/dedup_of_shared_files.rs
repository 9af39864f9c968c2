//! Identical files across models are stored once; a directory model gets a
//! view of hard links; evicting one model keeps what another still uses.

use catalog_core::{Catalog, ImportOptions, LinkMode, ModelRef};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn repo(dir: &Path, shard: &[u8]) {
    std::fs::create_dir_all(dir.join("tokenizer")).unwrap();
    std::fs::write(dir.join("config.json"), br#"{"arch":"llama"}"#).unwrap();
    std::fs::write(dir.join("tokenizer/tokenizer.json"), vec![b't'; 200_000]).unwrap();
    std::fs::write(dir.join("model-00001-of-00001.safetensors"), shard).unwrap();
}

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

#[test]
fn shared_files_are_stored_once_and_kept_while_used() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let (a, b) = (src.path().join("a"), src.path().join("b"));
    repo(&a, &vec![1u8; 300_000]);
    repo(&b, &vec![2u8; 400_000]);
    let catalog = Catalog::open(root.path()).unwrap();
    let ra = catalog
        .import(&r(&a), ImportOptions::default().id("a"))
        .unwrap();
    let rb = catalog
        .import(&r(&b), ImportOptions::default().id("b"))
        .unwrap();
    let shared = 200_000 + br#"{"arch":"llama"}"#.len() as u64;
    assert_eq!(ra.bytes_deduplicated, 0);
    assert_eq!(
        rb.bytes_deduplicated, shared,
        "config and tokenizer were already stored"
    );
    assert_eq!(rb.entry.files.len(), 3);
    let blobs = std::fs::read_dir(root.path().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 4, "3 + 3 files, 2 of them identical");

    // The view: the repository's layout, hard links to the blobs.
    let view = catalog.model_path("a").unwrap();
    assert!(view.starts_with(root.path().join("views")));
    let tok = view.join("tokenizer/tokenizer.json");
    assert_eq!(std::fs::read(&tok).unwrap(), vec![b't'; 200_000]);
    let f = ra
        .entry
        .files
        .iter()
        .find(|f| f.path == "tokenizer/tokenizer.json")
        .unwrap();
    let blob = root.path().join(format!("blobs/sha256/{}", f.digest.hex()));
    assert_eq!(
        std::fs::metadata(&tok).unwrap().ino(),
        std::fs::metadata(&blob).unwrap().ino()
    );

    let ea = catalog.evict("a", false).unwrap();
    assert_eq!(ea.bytes_reclaimed, 300_000, "only a's own shard is freed");
    assert_eq!(ea.shared_kept, 2);
    assert!(blob.exists(), "b still uses the tokenizer");
    assert!(!view.exists(), "a's view is gone");
    assert!(
        catalog
            .model_path("b")
            .unwrap()
            .join("config.json")
            .exists()
    );
    let eb = catalog.evict("b", false).unwrap();
    assert_eq!(eb.bytes_reclaimed, 400_000 + shared);
    assert_eq!(
        std::fs::read_dir(root.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn the_same_file_under_two_ids_is_one_blob_and_frees_nothing_until_both_go() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, vec![9u8; 123_456]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&file), ImportOptions::default().id("one"))
        .unwrap();
    let two = catalog
        .import(&r(&file), ImportOptions::default().id("two"))
        .unwrap();
    assert_eq!(two.bytes_stored, 0);
    assert_eq!(catalog.evict("one", false).unwrap().bytes_reclaimed, 0);
    assert!(catalog.model_path("two").unwrap().exists());
    assert_eq!(
        catalog.evict("two", false).unwrap().bytes_reclaimed,
        123_456
    );
}

#[test]
fn hard_linked_and_moved_sources_and_what_eviction_frees() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap(); // beside the root: same file system
    let linked = src.path().join("linked.gguf");
    let moved = src.path().join("moved.gguf");
    std::fs::write(&linked, vec![5u8; 50_000]).unwrap();
    std::fs::write(&moved, vec![6u8; 60_000]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let l = catalog
        .import(
            &r(&linked),
            ImportOptions::default().id("l").link(LinkMode::HardLink),
        )
        .unwrap();
    assert_eq!(l.files_linked_or_moved, 1);
    let blob = catalog.model_path("l").unwrap();
    assert_eq!(
        std::fs::metadata(&blob).unwrap().ino(),
        std::fs::metadata(&linked).unwrap().ino()
    );
    let m = catalog
        .import(
            &r(&moved),
            ImportOptions::default().id("m").link(LinkMode::Move),
        )
        .unwrap();
    assert_eq!(m.files_linked_or_moved, 1);
    assert!(!moved.exists(), "a move consumes the source");
    // The linked blob is still the source file: evicting frees nothing.
    assert_eq!(catalog.evict("l", false).unwrap().bytes_reclaimed, 0);
    assert!(linked.exists(), "the source survives its blob's eviction");
    assert_eq!(catalog.evict("m", false).unwrap().bytes_reclaimed, 60_000);
}
