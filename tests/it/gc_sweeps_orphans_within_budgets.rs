//! gc removes orphaned blobs, stale staging files and orphaned views, only
//! once older than the grace period; stops at its time budget and says what
//! it did not reach; a size budget evicts retired models, least recently
//! changed first.

use catalog_core::{Catalog, GcOptions, ImportOptions, Lifecycle, ModelRef};
use std::path::Path;
use std::time::{Duration, SystemTime};

fn r(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

fn age(path: &Path, by: Duration) {
    let f = std::fs::File::options()
        .append(true)
        .open(path)
        .or_else(|_| std::fs::File::open(path))
        .unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

fn orphan(root: &Path, body: &[u8], old: bool) -> std::path::PathBuf {
    let d = catalog_core::Digest::of_bytes(body);
    let p = root.join("blobs/sha256").join(d.hex());
    std::fs::write(&p, body).unwrap();
    if old {
        age(&p, Duration::from_secs(7200));
    }
    p
}

#[test]
fn orphans_older_than_the_grace_period_go_and_everything_used_stays() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let model = src.path().join("m.gguf");
    std::fs::write(&model, vec![1u8; 10_000]).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .import(&r(&model), ImportOptions::default().id("m"))
        .unwrap();
    let used = catalog.model_path("m").unwrap();
    age(&used, Duration::from_secs(7200));
    let old = orphan(root.path(), b"old orphan", true);
    let young = orphan(root.path(), b"young orphan", false);
    let stale = root.path().join("blobs/tmp/123-4-5.tmp");
    std::fs::write(&stale, vec![0u8; 500]).unwrap();
    age(&stale, Duration::from_secs(7200));
    let old_view = root.path().join("views").join("ab".repeat(32));
    std::fs::create_dir_all(old_view.join("sub")).unwrap();
    std::fs::write(old_view.join("sub/f"), b"x").unwrap();
    age(&old_view, Duration::from_secs(7200));

    let dry = catalog
        .gc(
            GcOptions::default().grace(Duration::ZERO).dry_run(true),
            &|_| {},
        )
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.files_removed, 4, "{dry:?}");
    assert!(
        old.exists() && young.exists() && stale.exists() && old_view.exists(),
        "a dry run removes nothing"
    );

    // A modification time set into the past does not age a file: the grace
    // period counts from its inode change time too, which nobody can set
    // (a moved-in model file keeps its source's mtime).
    let report = catalog.gc(GcOptions::default(), &|_| {}).unwrap();
    assert!(
        old.exists() && young.exists() && stale.exists() && old_view.exists(),
        "every orphan changed moments ago is within the grace period: {report:?}"
    );
    assert_eq!(report.skipped_young, 4, "{report:?}");
    assert_eq!(report.files_removed, 0, "{report:?}");
    assert_eq!(report.kept, 1);
    assert_eq!(report.kept_bytes, 10_000);

    let report = catalog
        .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
        .unwrap();
    assert!(!old.exists(), "old orphan removed");
    assert!(!young.exists(), "young orphan removed");
    assert!(!stale.exists(), "stale staging file removed");
    assert!(!old_view.exists(), "orphaned view removed");
    assert!(used.exists(), "a used blob is never removed, however old");
    assert_eq!(report.kept, 1);
    assert_eq!(
        report.bytes_removed,
        (b"old orphan".len() + b"young orphan".len()) as u64 + 500
    );
    assert_eq!(report.files_removed, 4, "{report:?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.not_reached, 0);
}

#[test]
fn the_time_budget_stops_the_sweep_and_reports_what_was_not_reached() {
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    std::fs::create_dir_all(root.path().join("blobs/sha256")).unwrap();
    for i in 0..20u32 {
        orphan(root.path(), &i.to_le_bytes(), true);
    }
    let report = catalog
        .gc(GcOptions::default().max_time(Duration::ZERO), &|_| {})
        .unwrap();
    assert_eq!(report.not_reached, 20);
    assert_eq!(report.files_removed, 0);
    let full = catalog
        .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
        .unwrap();
    assert_eq!((full.files_removed, full.not_reached), (20, 0));
}

#[test]
fn a_size_budget_evicts_retired_models_least_recently_changed_first() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    for (id, len) in [("old", 1000u64), ("newer", 2000), ("active", 4000)] {
        let p = src.path().join(id);
        std::fs::write(&p, vec![len as u8; len as usize]).unwrap();
        catalog
            .import(&r(&p), ImportOptions::default().id(id))
            .unwrap();
    }
    catalog.set_state("old", Lifecycle::Retired).unwrap();
    catalog.set_state("newer", Lifecycle::Retired).unwrap();
    // 7000 bytes in use; fit into 6000: evicting "old" (1000) is enough.
    let report = catalog
        .gc(GcOptions::default().max_bytes(6000), &|_| {})
        .unwrap();
    assert_eq!(report.evicted, ["old"]);
    assert_eq!(report.evicted_bytes, 1000);
    assert!(catalog.exists("newer") && catalog.exists("active"));
    // 6000 in use; fit into 1000: only retired models go, active stays.
    let report = catalog
        .gc(GcOptions::default().max_bytes(1000), &|_| {})
        .unwrap();
    assert_eq!(report.evicted, ["newer"]);
    assert!(
        catalog.exists("active"),
        "active models are never evicted by the budget"
    );
}

#[test]
fn bytes_still_linked_elsewhere_are_not_counted_as_freed() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir_in(root.path().parent().unwrap()).unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let linked = src.path().join("linked.gguf");
    std::fs::write(&linked, vec![1u8; 4096]).unwrap();
    catalog
        .import(
            &r(&linked),
            ImportOptions::default()
                .id("l")
                .link(catalog_core::LinkMode::HardLink),
        )
        .unwrap();
    let copied = src.path().join("copied.gguf");
    std::fs::write(&copied, vec![2u8; 1000]).unwrap();
    catalog
        .import(&r(&copied), ImportOptions::default().id("c"))
        .unwrap();
    catalog.set_state("l", Lifecycle::Retired).unwrap();
    catalog.set_state("c", Lifecycle::Retired).unwrap();
    // The store's own bytes are 1000 (the linked file is the source's): a
    // budget of 500 evicts the copied model; the linked one, though retired
    // earlier, would free nothing and is kept.
    let report = catalog
        .gc(GcOptions::default().max_bytes(500), &|_| {})
        .unwrap();
    assert_eq!(report.evicted_bytes, 1000, "{report:?}");
    assert_eq!(
        report.evicted,
        ["c"],
        "a model whose eviction frees nothing is kept"
    );
    // An orphaned blob hard-linked to a source frees nothing when removed.
    assert!(catalog.delete("l").unwrap());
    assert!(linked.exists());
}
