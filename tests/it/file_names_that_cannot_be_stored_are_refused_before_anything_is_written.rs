//! A directory model whose file names cannot be stored is refused before
//! anything is written (no staged file, no blob, no view, no record):
//! - a file name that is not UTF-8 (`x\xfe`): the manifest stores paths as
//!   UTF-8 text, so it is refused with `Error::NonUtf8Path` naming the raw
//!   path, shown escaped, and `catalog add` exits 2;
//! - `x\xfe` next to a real `x\u{FFFD}` (what a lossy conversion of the
//!   first would collide with) is never staged twice;
//! - a fetcher that lists one path twice is refused by the import's
//!   pre-checks with `Error::InvalidInput`.

use crate::cli_support::Cli;
use catalog_core::{
    Catalog, Error, FetchedModel, ImportOptions, ModelFetcher, ModelRef, Result, SourceFile,
};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Every file and directory under `root` with its contents (empty for a
/// directory): what "nothing was written" compares.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(path.clone(), Vec::new());
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// `<src>/<name>/` with `config.json` and the files named by `raw_names`
/// (raw bytes).
fn repo(src: &Path, name: &str, raw_names: &[&[u8]]) -> PathBuf {
    let dir = src.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    for (i, raw) in raw_names.iter().enumerate() {
        std::fs::write(dir.join(OsStr::from_bytes(raw)), vec![i as u8 + 1; 100]).unwrap();
    }
    dir
}

const NON_UTF8: &[u8] = b"x\xfe";
const LOSSY_TWIN: &[u8] = "x\u{FFFD}".as_bytes();

#[test]
fn catalog_add_refuses_a_non_utf8_file_name_with_exit_2_and_writes_nothing() {
    let cli = Cli::new();
    cli.write_src("m.gguf", b"weights");
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    repo(cli.src.path(), "odd", &[NON_UTF8]);
    repo(cli.src.path(), "twins", &[NON_UTF8, LOSSY_TWIN]);
    let before = tree(cli.root());
    for source in ["odd", "twins"] {
        for link in ["copy", "hardlink", "move"] {
            let out = cli.run(&["add", source, "--id", "r", "--link", link]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{source} {link}: {stderr}");
            assert!(
                stderr.starts_with("error: ") && stderr.contains(r"x\xfe"),
                "the name is shown escaped: {stderr}"
            );
            assert_eq!(tree(cli.root()), before, "{source} {link}: nothing written");
        }
    }
    assert!(
        cli.src.path().join("twins").join("x\u{FFFD}").exists()
            && cli
                .src
                .path()
                .join("odd")
                .join(OsStr::from_bytes(NON_UTF8))
                .exists(),
        "the sources are untouched"
    );
}

#[test]
fn the_library_refuses_a_non_utf8_file_name_naming_the_raw_path() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let before = tree(root.path());
    let head = catalog.head();
    for (name, names) in [("odd", &[NON_UTF8][..]), ("twins", &[NON_UTF8, LOSSY_TWIN])] {
        let dir = repo(src.path(), name, names);
        let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();
        let err = catalog
            .import(&source, ImportOptions::default().id("r"))
            .unwrap_err();
        let raw = dir.join(OsStr::from_bytes(NON_UTF8));
        assert!(
            matches!(&err, Error::NonUtf8Path { path } if *path == raw),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(r"x\xfe"), "{err}");
        assert_eq!(tree(root.path()), before, "{name}: nothing written");
        assert_eq!(catalog.head(), head, "{name}: no record");
    }
}

/// A fetcher that lists the same relative path twice (as a lossy
/// conversion of `x\xfe` next to `x\u{FFFD}` would).
struct Twice(PathBuf, PathBuf);

impl ModelFetcher for Twice {
    fn fetch(&self, _: &ModelRef) -> Result<FetchedModel> {
        let file = |path: &PathBuf| SourceFile {
            relative_path: "x\u{FFFD}".into(),
            path: path.clone(),
            size: 100,
        };
        Ok(FetchedModel {
            is_directory: true,
            files: vec![file(&self.0), file(&self.1)],
        })
    }
}

#[test]
fn an_import_refuses_a_fetcher_that_lists_one_path_twice() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let dir = repo(src.path(), "twins", &[NON_UTF8, LOSSY_TWIN]);
    let catalog = Catalog::open(root.path()).unwrap();
    let before = tree(root.path());
    let fetcher = Twice(
        dir.join(OsStr::from_bytes(NON_UTF8)),
        dir.join(OsStr::from_bytes(LOSSY_TWIN)),
    );
    let source = ModelRef::parse(&format!("file:{}", dir.display())).unwrap();
    let err = catalog
        .import_with(&fetcher, &source, ImportOptions::default().id("r"), &|_| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { reason, .. } if reason.contains("more than once")),
        "{err:?}"
    );
    assert_eq!(tree(root.path()), before, "nothing written");
    assert!(!catalog.exists("r"));
}
