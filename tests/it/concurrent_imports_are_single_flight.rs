//! Concurrent imports of the same id in one process: one does the work, the
//! others wait and get its result.

use catalog_core::{Catalog, ImportOptions, ModelRef};

#[test]
fn eight_threads_import_the_same_model_once() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("m.gguf");
    std::fs::write(&file, vec![3u8; 8 << 20]).unwrap();
    let source = ModelRef::parse(&format!("file:{}", file.display())).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let reports: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    catalog
                        .import(&source, ImportOptions::default().id("m"))
                        .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let leaders = reports.iter().filter(|r| !r.joined).count();
    assert!(leaders >= 1);
    let ids: std::collections::BTreeSet<_> = reports.iter().map(|r| r.entry.id.clone()).collect();
    assert_eq!(ids.len(), 1);
    // Each leader wrote one put and one verification; joiners wrote nothing.
    assert_eq!(catalog.head().seq, 2 * leaders as u64);
    assert!(
        leaders < 8,
        "at least one thread joined a running import ({leaders} leaders)"
    );
}
