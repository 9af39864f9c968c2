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
///
/// An entry that holds nothing format 3 added (no digest source, not
/// external, no file media type or publisher digest) is encoded in the
/// shape formats 1 and 2 gave `ModelEntry`, so the digests pinned for
/// those fixtures stay what they were; an entry with format-3 information
/// is followed by the encoding of those fields. A later build that gave an
/// older entry different values for them changes the digest.
pub fn state_digest(catalog: &Catalog) -> String {
    let mut bytes = Vec::new();
    for e in catalog.list() {
        let encoded = encode_entry(&e);
        bytes.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&encoded);
    }
    let head = catalog.head();
    bytes
        .extend_from_slice(format!("head {} {} {}", head.seq, head.chain, head.time_ms).as_bytes());
    Digest::of_bytes(&bytes).hex()
}

/// `ManifestFile` as formats 1 and 2 encoded it.
#[derive(serde::Serialize)]
struct ManifestFileV2<'a> {
    path: &'a str,
    digest: Digest,
    size_bytes: u64,
}

/// `ModelEntry` as formats 1 and 2 encoded it.
#[derive(serde::Serialize)]
struct ModelEntryV2<'a> {
    id: &'a str,
    model_ref: &'a str,
    local_path: &'a str,
    lifecycle: Lifecycle,
    trust: catalog_core::TrustState,
    digest: Option<Digest>,
    size_bytes: u64,
    files: Vec<ManifestFileV2<'a>>,
    registered_at_ms: u64,
    updated_at_ms: u64,
    updated_seq: u64,
    last_verified_at_ms: Option<u64>,
    last_verification: Option<&'a Verification>,
}

fn encode_entry(e: &ModelEntry) -> Vec<u8> {
    let old = ModelEntryV2 {
        id: &e.id,
        model_ref: &e.model_ref,
        local_path: &e.local_path,
        lifecycle: e.lifecycle,
        trust: e.trust,
        digest: e.digest,
        size_bytes: e.size_bytes,
        files: e
            .files
            .iter()
            .map(|f| ManifestFileV2 {
                path: &f.path,
                digest: f.digest,
                size_bytes: f.size_bytes,
            })
            .collect(),
        registered_at_ms: e.registered_at_ms,
        updated_at_ms: e.updated_at_ms,
        updated_seq: e.updated_seq,
        last_verified_at_ms: e.last_verified_at_ms,
        last_verification: e.last_verification.as_deref(),
    };
    let mut out = postcard::to_allocvec(&old).unwrap();
    let format_3 = e.digest_source.is_some()
        || e.external
        || e.files
            .iter()
            .any(|f| f.media_type.is_some() || f.publisher_digest.is_some());
    if format_3 {
        let files: Vec<_> = e
            .files
            .iter()
            .map(|f| (&f.media_type, f.publisher_digest))
            .collect();
        out.extend(postcard::to_allocvec(&(e.digest_source, e.external, files)).unwrap());
    }
    out
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
            spec = spec.files(vec![ManifestFile::new("config.json", digest, 2)]);
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
        matches!(
            strict,
            catalog_core::Error::Corrupt {
                kind: catalog_core::CorruptKind::TornTail,
                ..
            }
        ),
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
            kind,
            reason,
        } => {
            assert_eq!(file, &seg);
            assert_eq!((*at, *seq), (offset, Some(3)));
            assert_eq!(*kind, catalog_core::CorruptKind::Checksum);
            assert_eq!(reason, "CRC mismatch in a sealed segment");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
}

/// The format version of every segment and snapshot under `root`, in file
/// name order (journal first).
pub fn versions(root: &Path) -> Vec<u32> {
    let mut out = Vec::new();
    for dir in ["catalog/journal", "catalog/snapshots"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(p).unwrap();
            out.push(u32::from_le_bytes(bytes[8..12].try_into().unwrap()));
        }
    }
    out
}
