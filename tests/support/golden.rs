//! What the golden-fixture tests of every format version share: how a
//! fixture is copied, the state digest fixtures are pinned to, and the
//! workload the generators wrote.
#![allow(dead_code)]

use catalog_core::{
    Catalog, Digest, EntrySpec, Lifecycle, ManifestFile, ModelEntry, OpContext, Options,
    Verification, VerifyResult,
};
use std::path::{Path, PathBuf};

/// `tests/fixtures/<version>/<name>`.
pub fn fixture(version: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(version)
        .join(name)
}

/// The options every fixture was written and is read with.
pub fn opts() -> Options {
    Options::default()
        .auto_compact(None)
        .max_segment_bytes(1024)
}

/// A copy of a fixture in a temp dir (opening may cut a tail or add a lock file).
pub fn copy(version: &str, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    super::copy_dir(&fixture(version, name), dir.path());
    dir
}

/// SHA-256 over every entry in its format-defined encoding (postcard of
/// `ModelEntry`, §4.3 of docs/FORMAT.md), in id order, then the journal
/// head: the "state digest" the fixtures are pinned to.
pub fn state_digest(catalog: &Catalog) -> String {
    let mut bytes = Vec::new();
    for e in catalog.list() {
        let encoded: Vec<u8> = postcard::to_allocvec::<ModelEntry>(&e).unwrap();
        bytes.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&encoded);
    }
    let head = catalog.head();
    bytes
        .extend_from_slice(format!("head {} {} {}", head.seq, head.chain, head.time_ms).as_bytes());
    Digest::of_bytes(&bytes).hex()
}

/// The clean fixture's workload: 14 records of every kind.
pub fn write_clean(root: &Path) {
    let catalog = Catalog::open_with(root, opts()).unwrap();
    let ctx = OpContext::new()
        .correlation_id("fixture")
        .actor("generator");
    for i in 0..10u64 {
        let digest = Digest::of_bytes(format!("w{i}").as_bytes());
        let mut spec = EntrySpec::new(
            format!("m{i}"),
            format!("hf:org/repo-{i}/m.gguf"),
            format!("blobs/sha256/{}", digest.hex()),
        )
        .digest(digest)
        .size_bytes(1000 + i);
        if i == 4 {
            spec = spec.files(vec![ManifestFile {
                path: "config.json".into(),
                digest,
                size_bytes: 2,
            }]);
        }
        catalog.with_context(ctx.clone()).put(spec).unwrap();
    }
    catalog.set_state("m1", Lifecycle::Retired).unwrap();
    let mut v = Verification::new(VerifyResult::Fail, "digest mismatch");
    v.bytes = 1001;
    catalog.record_verification("m1", v).unwrap();
    catalog
        .put(EntrySpec::new("gone", "hf:org/repo", "blobs/x"))
        .unwrap();
    assert!(catalog.delete("gone").unwrap());
    assert_eq!(catalog.head().seq, 14);
}

/// The highest-numbered segment of the catalog under `root`.
pub fn newest_segment(root: &Path) -> PathBuf {
    let dir = root.join("catalog/journal");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.pop().unwrap()
}

/// Offset of the third record of a segment.
pub fn third_record_offset(segment: &[u8]) -> usize {
    let mut pos = 84;
    for _ in 0..2 {
        let len = u32::from_le_bytes(segment[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 64 + len;
    }
    pos
}

/// The `torn_tail` fixture of `version`: a writer cuts 40 bytes and reaches
/// the clean fixture's state; strict recovery refuses instead.
pub fn assert_torn_tail_is_cut_to(version: &str, clean_digest: &str) {
    let dir = copy(version, "torn_tail");
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    let torn = catalog
        .recovery_report()
        .torn_tail
        .clone()
        .expect("a torn tail");
    assert_eq!(torn.dropped_bytes, 40);
    assert_eq!(
        state_digest(&catalog),
        clean_digest,
        "the same state as the clean fixture"
    );
    drop(catalog);
    let strict = Catalog::open_with(
        copy(version, "torn_tail").path(),
        opts().recovery(catalog_core::RecoveryMode::Strict),
    )
    .unwrap_err();
    assert!(
        matches!(strict, catalog_core::Error::Corrupt { .. }),
        "{strict}"
    );
}

/// The `corrupt_sealed_segment` fixture of `version` fails to open with
/// exactly this error: record 3 of segment 1, at `offset`.
pub fn assert_corrupt_sealed_segment_at(version: &str, offset: u64) {
    let dir = copy(version, "corrupt_sealed_segment");
    let err = Catalog::open_with(dir.path(), opts()).unwrap_err();
    let seg = dir.path().join("catalog/journal/00000000000000000001.seg");
    match &err {
        catalog_core::Error::Corrupt {
            file,
            offset: at,
            seq,
            reason,
        } => {
            assert_eq!(file, &seg);
            assert_eq!((*at, *seq), (offset, Some(3)));
            assert_eq!(reason, "CRC mismatch in a sealed segment");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
}
