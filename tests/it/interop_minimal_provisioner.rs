//! Interop: a minimal provisioner built on the public API — ensure a local
//! model is present (FileFetcher), import it, and find it with `locate`
//! after a reopen.

use catalog_core::{
    Catalog, Digest, ImportOptions, ModelEntry, ModelRef, Result, TrustState, VerifyOptions,
    VerifyResult,
};
use std::path::{Path, PathBuf};

/// What a provisioner does with the catalog: reuse a verified model if the
/// catalog has it, else import it, and hand the engine a path.
struct Provisioner {
    catalog: Catalog,
}

impl Provisioner {
    fn ensure_present(
        &self,
        source: &ModelRef,
        expected: Option<Digest>,
    ) -> Result<(ModelEntry, PathBuf)> {
        if let Some(entry) = self.catalog.locate(source).into_iter().next() {
            let v = self.catalog.verify(
                &entry.id,
                VerifyOptions::default().fast_path(true),
                &|_| {},
            )?;
            if v.outcome.result != VerifyResult::Fail {
                let path = self.catalog.model_path(&v.entry.id)?;
                return Ok((v.entry, path));
            }
        }
        let mut opts = ImportOptions::default();
        if let Some(d) = expected {
            opts = opts.expected(d);
        }
        let report = self.catalog.import(source, opts)?;
        let path = self.catalog.model_path(&report.entry.id)?;
        Ok((report.entry, path))
    }
}

fn write(dir: &Path) -> (PathBuf, Digest) {
    let path = dir.join("qwen2-0.5b-q4_k_m.gguf");
    let bytes: Vec<u8> = (0..500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    (path, Digest::of_bytes(&bytes))
}

#[test]
fn a_provisioner_imports_once_and_finds_the_model_after_a_reopen() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let (file, digest) = write(src.path());
    let source = ModelRef::parse(&format!("file:{}", file.display())).unwrap();

    let p = Provisioner {
        catalog: Catalog::open(root.path()).unwrap(),
    };
    let (entry, path) = p.ensure_present(&source, Some(digest)).unwrap();
    assert_eq!(entry.trust, TrustState::Verified);
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&file).unwrap());
    let head = p.catalog.head().seq;
    drop(p);

    let p = Provisioner {
        catalog: Catalog::open(root.path()).unwrap(),
    };
    let found = p.catalog.locate(&source);
    assert_eq!(found.len(), 1, "locate finds it after a reopen");
    assert_eq!(found[0].id, entry.id);
    let (again, path2) = p.ensure_present(&source, Some(digest)).unwrap();
    assert_eq!(again.id, entry.id);
    assert_eq!(path2, path);
    assert_eq!(
        p.catalog.head().seq,
        head + 1,
        "only a (fast-path) verification was recorded, no re-import"
    );
    assert!(p.catalog.exists_ref(&source));
    // locate and exists_ref write nothing.
    let reader = Catalog::open_read_only(root.path()).unwrap();
    assert_eq!(reader.locate(&source).len(), 1);
    assert_eq!(reader.head().seq, head + 1);
}
