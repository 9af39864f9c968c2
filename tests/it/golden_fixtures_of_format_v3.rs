//! Matrix row 12: golden fixtures of format version 3, committed under
//! `tests/fixtures/v3/`. Every later build must open them to exactly the
//! same state (digest below) or fail with exactly the same error.
//!
//! Format 3 adds fields to `EntrySpec` and `ModelEntry` (`digest_source`,
//! `external`) and to `ManifestFile` (`media_type`, `publisher_digest`).
//! The fixtures hold the clean workload of formats 1 and 2 plus two
//! adopted models: a Hugging Face cache snapshot linked into the store (a
//! git blob id as a publisher digest) and an Ollama model registered in
//! place (external, every layer with its media type). They were written
//! once by `generate_fixtures` (ignored):
//! `CATALOG_WRITE_FIXTURES=3 cargo test --test golden_fixtures_of_format_v3 -- --ignored`.
//! Regenerating them is a format change: never do it to make a test pass.
//! The store files (`blobs/`, `views/`) and the sources are not part of a
//! fixture: only `catalog/`.

use crate::support::golden::{
    newest_segment, opts, state_digest, third_record_offset, versions, write_clean,
};
use crate::support::layouts::{HfCache, Kind, LICENSE, MODEL, Ollama, TEMPLATE, commit};
use catalog_core::{
    AdoptOptions, Catalog, DigestAlgorithm, DigestSource, EntrySpec, Lifecycle, ProblemKind,
    RecoveryMode, TrustState,
};
use std::path::Path;

const CLEAN: &str = "clean";
const TORN: &str = "torn_tail";
const CORRUPT: &str = "corrupt_sealed_segment";
const COMPACTED: &str = "compacted";

fn fixture(name: &str) -> std::path::PathBuf {
    crate::support::golden::fixture("v3", name)
}

fn copy(name: &str) -> tempfile::TempDir {
    crate::support::golden::copy("v3", name)
}

const CLEAN_DIGEST: &str = "07e1ed51ae8b37183575a1e74b18497a9daf0d8785d399990401f29db32498b9";
const COMPACTED_DIGEST: &str = "6d8f109b986fba6645eefc038645558b7a4feae9a0c164866d9b49750aa54d5a";
const CORRUPT_OFFSET: u64 = 540;

#[test]
fn clean_fixture_opens_to_the_pinned_state_with_both_adopted_models() {
    assert!(versions(&fixture(CLEAN)).iter().all(|&v| v == 3));
    let dir = copy(CLEAN);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), CLEAN_DIGEST);
    assert_eq!(catalog.len(), 12);
    let hf = catalog.get("org/llama").unwrap();
    assert!(hf.model_ref.starts_with("hf:org/llama@"));
    assert_eq!(hf.digest_source, Some(DigestSource::Publisher));
    assert_eq!(hf.trust, TrustState::Verified);
    assert!(!hf.external);
    let config = hf.files.iter().find(|f| f.path == "config.json").unwrap();
    assert_eq!(
        config.publisher_digest.map(|d| d.algorithm()),
        Some(DigestAlgorithm::GitSha1)
    );
    let ollama = catalog.get("tiny:q4").unwrap();
    assert_eq!(
        ollama.model_ref,
        "ollama:registry.ollama.ai/library/tiny:q4"
    );
    assert!(ollama.external);
    assert!(ollama.local_path.starts_with('/'));
    let media: Vec<Option<&str>> = ollama
        .files
        .iter()
        .map(|f| f.media_type.as_deref())
        .collect();
    assert!(media.contains(&Some(MODEL)) && media.contains(&Some(LICENSE)));
    let m1 = catalog.get("m1").unwrap();
    assert_eq!(
        m1.digest_source,
        Some(DigestSource::Publisher),
        "put with .digest()"
    );
    let reader = Catalog::open_read_only_with(fixture(CLEAN), opts()).unwrap();
    assert_eq!(state_digest(&reader), CLEAN_DIGEST, "read-only, in place");
}

#[test]
fn torn_tail_fixture_is_cut_to_the_clean_state() {
    crate::support::golden::assert_torn_tail_is_cut_to("v3", CLEAN_DIGEST);
}

#[test]
fn corrupt_sealed_segment_fixture_fails_with_the_pinned_error() {
    crate::support::golden::assert_corrupt_sealed_segment_at("v3", CORRUPT_OFFSET);
}

#[test]
fn compacted_fixture_opens_from_its_format_3_snapshot_to_the_pinned_state() {
    assert!(versions(&fixture(COMPACTED)).iter().all(|&v| v == 3));
    let dir = copy(COMPACTED);
    let catalog = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(state_digest(&catalog), COMPACTED_DIGEST);
    assert!(catalog.recovery_report().snapshot_seq.is_some());
    assert_eq!(
        catalog.recovery_report().records_replayed,
        4,
        "the checkpoint of the snapshot, then three puts"
    );
    assert!(
        catalog.get("tiny:q4").unwrap().external,
        "from the snapshot"
    );
    let check = Catalog::check(dir.path(), opts(), false).unwrap();
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
}

#[test]
fn a_format_2_catalog_takes_new_writes_in_format_3_segments() {
    let dir = crate::support::golden::copy("v2", CLEAN);
    let old = Catalog::open_read_only_with(dir.path(), opts()).unwrap();
    let before = state_digest(&old);
    drop(old);
    let catalog = Catalog::open_with(dir.path(), opts()).unwrap();
    assert_eq!(state_digest(&catalog), before, "opening changes nothing");
    catalog
        .put(EntrySpec::new("new", "ollama:new:1", "blobs/new").external(false))
        .unwrap();
    catalog.set_state("m1", Lifecycle::Active).unwrap();
    catalog.compact().unwrap();
    let expected = catalog.list();
    drop(catalog);
    let seen = versions(dir.path());
    let (old_segments, rest): (Vec<u32>, Vec<u32>) = seen.iter().partition(|&&v| v == 2);
    assert_eq!(
        old_segments.len(),
        3,
        "the format-2 segments stay: {seen:?}"
    );
    let current = catalog_core::journal::segment::FORMAT_VERSION;
    assert!(rest.iter().all(|&v| v == current), "{seen:?}");
    assert!(!rest.is_empty());
    let reopened = Catalog::open_with(dir.path(), opts().recovery(RecoveryMode::Strict)).unwrap();
    assert_eq!(reopened.list(), expected, "from the format-3 snapshot");
    let check = Catalog::check(dir.path(), opts(), true).unwrap();
    let damage: Vec<_> = check
        .problems
        .iter()
        .filter(|p| p.kind != ProblemKind::Store)
        .collect();
    assert!(damage.is_empty(), "{damage:?}");
}

/// The clean workload of format 3: the one of formats 1 and 2, then a
/// Hugging Face snapshot adopted into the store and an Ollama model
/// adopted in place.
fn write_clean_v3(root: &Path, sources: &Path) {
    write_clean(root);
    let cache = HfCache::new(&sources.join("hub"));
    let repo = cache.repo("org", "llama");
    let c = commit("fixture");
    repo.snapshot(
        &c,
        &[
            ("model.safetensors", b"safetensors weights", Kind::Lfs),
            (
                "config.json",
                br#"{"architectures":["LlamaForCausalLM"]}"#,
                Kind::Git,
            ),
        ],
    );
    repo.set_ref("main", &c);
    let ollama = Ollama::new(&sources.join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "tiny", "q4"),
        br#"{"model_format":"gguf"}"#,
        &[
            (MODEL, b"GGUF tiny weights"),
            (TEMPLATE, b"{{ .Prompt }}"),
            (LICENSE, b"MIT"),
        ],
    );
    let catalog = Catalog::open_with(root, opts()).unwrap();
    catalog
        .adopt(&cache.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    catalog
        .adopt(
            &ollama.models,
            AdoptOptions::default().in_place(true),
            &|_| {},
        )
        .unwrap();
    assert_eq!(catalog.len(), 12);
}

/// Writes the fixtures (run on purpose only; see the module docs).
#[test]
#[ignore = "writes the golden fixtures; run only to create a new format version's fixtures"]
fn generate_fixtures() {
    if std::env::var("CATALOG_WRITE_FIXTURES").as_deref() != Ok("3") {
        return;
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v3");
    let _ = std::fs::remove_dir_all(&base);
    let sources = tempfile::tempdir().unwrap();
    let clean = base.join(CLEAN);
    write_clean_v3(&clean, sources.path());
    // Only the catalog is a fixture: not the store's files.
    for store in ["blobs", "views"] {
        let _ = std::fs::remove_dir_all(clean.join(store));
    }
    // torn tail: the first 40 bytes of a record appended after the newest
    // segment's last record (over its preallocated zeros).
    let torn = base.join(TORN);
    crate::support::copy_dir(&clean, &torn);
    let newest = newest_segment(&torn);
    let record: Vec<u8> = std::fs::read(&newest).unwrap()[84..124].to_vec();
    crate::support::write_at_end(&newest, &record);
    // corrupt sealed segment: one bit of record 3's payload.
    let corrupt = base.join(CORRUPT);
    crate::support::copy_dir(&clean, &corrupt);
    let seg1 = corrupt.join("catalog/journal/00000000000000000001.seg");
    let mut bytes = std::fs::read(&seg1).unwrap();
    let third = third_record_offset(&bytes);
    eprintln!("CORRUPT_OFFSET = {third}");
    bytes[third + 70] ^= 0x08;
    std::fs::write(&seg1, bytes).unwrap();
    // compacted: a format-3 snapshot bound by its checkpoint, then 3 puts.
    let compacted = base.join(COMPACTED);
    crate::support::copy_dir(&clean, &compacted);
    let catalog = Catalog::open_with(&compacted, opts()).unwrap();
    catalog.compact().unwrap();
    for i in 20..23 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    drop(catalog);
    for dir in [&clean, &torn, &corrupt, &compacted] {
        let _ = std::fs::remove_file(dir.join("catalog/LOCK"));
        for store in ["blobs", "views"] {
            let _ = std::fs::remove_dir_all(dir.join(store));
        }
        // The preallocated zeros would make the fixtures 1 MiB each.
        let newest = newest_segment(dir);
        let mut bytes = std::fs::read(&newest).unwrap();
        let end = crate::support::logical_end(&bytes)
            .max(bytes.iter().rposition(|&b| b != 0).map_or(84, |i| i + 1));
        bytes.truncate(end);
        std::fs::write(&newest, bytes).unwrap();
    }
    for (name, dir) in [(CLEAN, &clean), (COMPACTED, &compacted)] {
        let catalog = Catalog::open_read_only_with(dir, opts()).unwrap();
        eprintln!("{name}: {}", state_digest(&catalog));
    }
}
