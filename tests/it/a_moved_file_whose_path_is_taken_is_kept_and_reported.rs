//! Matrix row 17 (finding F1; property P5): when a failed `--link move`
//! import cannot put a moved file back because its path was taken
//! meanwhile, the bytes are kept in the store — never overwriting the new
//! file, never deleted by gc — and reported: by the import's error, by
//! `check` (a problem naming where the bytes are and where they came from)
//! and by `gc`. Once the path is free again, the next gc puts them back.

use crate::cli_support::Cli;
use catalog_core::{
    Catalog, Digest, Error, FileFetcher, GcOptions, ImportOptions, LinkMode, ModelRef,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn a_moved_file_whose_source_path_was_taken_is_kept_reported_and_put_back_later() {
    let cli = Cli::new();
    let root = cli.root();
    // Sources beside the root, on its file system, so the import really
    // moves them (never inside it: that is refused).
    let src = tempfile::tempdir_in(root.parent().unwrap()).unwrap();
    let repo = src.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("config.json"), b"{\"arch\":\"x\"}").unwrap();
    std::fs::write(repo.join("weights.bin"), vec![7u8; 20_000]).unwrap();
    let taken = repo.join("config.json");

    let catalog = Catalog::open(root).unwrap();
    // While the moved files are hashed, someone writes a new file where
    // config.json was; the expected digest is wrong, so the import fails
    // and puts the files back — all but the one whose path is taken.
    let once = AtomicBool::new(false);
    let progress = |_: u64| {
        if !once.swap(true, Ordering::Relaxed) {
            std::fs::write(&taken, b"someone else's new file").unwrap();
        }
    };
    let err = catalog
        .import_with(
            &FileFetcher::default(),
            &ModelRef::parse(&format!("file:{}", repo.display())).unwrap(),
            ImportOptions::default()
                .id("m")
                .link(LinkMode::Move)
                .expected(Digest::of_bytes(b"not this model")),
            &progress,
        )
        .unwrap_err();
    let Error::MovedFilesKept { cause, kept } = &err else {
        panic!("expected MovedFilesKept, got {err}");
    };
    assert!(matches!(**cause, Error::DigestMismatch { .. }), "{cause}");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].source, taken);
    let staged = kept[0].staged.clone();
    assert!(staged.starts_with(root.join("blobs/tmp")), "{staged:?}");
    assert_eq!(
        std::fs::read(&staged).unwrap(),
        b"{\"arch\":\"x\"}",
        "the moved bytes are kept"
    );
    assert_eq!(
        std::fs::read(&taken).unwrap(),
        b"someone else's new file",
        "the new file at the source path is never replaced"
    );
    assert_eq!(
        std::fs::read(repo.join("weights.bin")).unwrap().len(),
        20_000,
        "the other file is back"
    );
    let shown = err.to_string();
    assert!(
        shown.contains(&staged.display().to_string())
            && shown.contains(&taken.display().to_string()),
        "the error names where the bytes are and where they came from: {shown}"
    );
    drop(catalog);

    // check reports it as a problem, naming both paths.
    let out = cli.expect(1, &["check"]);
    assert!(
        out.contains(&staged.display().to_string()) && out.contains(&taken.display().to_string()),
        "{out}"
    );
    let report = Catalog::check(root, Default::default(), false).unwrap();
    assert!(
        report.problems.iter().any(|p| p.file == staged),
        "{:?}",
        report.problems
    );

    // gc (any grace) keeps and reports it.
    let gc = cli.json(&["gc", "--grace", "0"]);
    assert_eq!(
        gc["kept_moved"][0]["staged"],
        staged.display().to_string(),
        "{gc}"
    );
    assert_eq!(
        gc["kept_moved"][0]["source"],
        taken.display().to_string(),
        "{gc}"
    );
    let human = cli.ok(&["gc", "--grace", "0"]);
    assert!(
        human.contains(&format!("kept {}", staged.display())),
        "{human}"
    );
    assert!(staged.exists(), "gc never removes kept bytes");

    // The path is free again: the next writer open puts the bytes back.
    std::fs::remove_file(&taken).unwrap();
    let catalog = Catalog::open(root).unwrap();
    let recovered = catalog.recovery_report();
    assert_eq!(
        recovered.restored_moved,
        std::slice::from_ref(&taken),
        "{recovered:?}"
    );
    assert!(recovered.kept_moved.is_empty(), "{recovered:?}");
    let r = catalog
        .gc(GcOptions::default().grace(Duration::ZERO), &|_| {})
        .unwrap();
    assert!(
        r.restored_moved.is_empty() && r.kept_moved.is_empty(),
        "{r:?}"
    );
    assert_eq!(std::fs::read(&taken).unwrap(), b"{\"arch\":\"x\"}");
    assert!(!Path::new(&staged).exists());
    drop(catalog);
    cli.ok(&["check"]);
}
