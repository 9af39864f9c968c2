//! `Catalog::adopt` of an Ollama models directory built byte for byte as
//! Ollama lays it out: one entry per manifest (id `model:tag`, with the
//! namespace when it is not `library`, and the host when it is not
//! Ollama's registry), referenced `ollama:host/namespace/model:tag`, with
//! every layer (and the config) as a file carrying its media type and
//! digest; every blob hard-linked (same inode) and checked against the
//! manifest's digest.

use crate::support::layouts::{
    CONFIG, LICENSE, MODEL, Ollama, PARAMS, TEMPLATE, bytes, sha256_hex,
};
use catalog_core::{AdoptOptions, Catalog, DigestSource, SourceLayout, TrustState};
use std::os::unix::fs::MetadataExt;

#[test]
fn every_manifest_becomes_an_entry_with_every_layer_verified() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(&home.path().join("models"));
    let gguf = [b"GGUF".as_slice(), &bytes(250_000, 7)].concat();
    let config = br#"{"model_format":"gguf","model_family":"llama"}"#.to_vec();
    ollama.model(
        ("registry.ollama.ai", "library", "llama3", "8b"),
        &config,
        &[
            (MODEL, &gguf),
            (TEMPLATE, b"{{ .Prompt }}"),
            (LICENSE, b"license one"),
            (LICENSE, b"license two"),
            (PARAMS, br#"{"stop":["<|eot_id|>"]}"#),
        ],
    );
    ollama.model(
        ("registry.ollama.ai", "me", "tiny", "q4"),
        b"{}",
        &[(MODEL, b"GGUF tiny")],
    );
    ollama.model(
        ("hub.example.com", "team", "m", "latest"),
        b"{ }",
        &[(MODEL, b"GGUF other host")],
    );
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&ollama.models, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.layout, SourceLayout::Ollama);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let mut ids: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["hub.example.com/team/m:latest", "llama3:8b", "me/tiny:q4"]
    );
    assert_eq!(report.bytes_written(), 0);

    let e = catalog.get("llama3:8b").unwrap();
    assert_eq!(e.model_ref, "ollama:registry.ollama.ai/library/llama3:8b");
    assert_eq!(e.trust, TrustState::Verified);
    assert_eq!(e.digest_source, Some(DigestSource::Publisher));
    let layers: Vec<(&str, Option<&str>, String)> = e
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.media_type.as_deref(), f.digest.hex()))
        .collect();
    assert_eq!(
        layers,
        [
            ("config.json", Some(CONFIG), sha256_hex(&config)),
            ("model.gguf", Some(MODEL), sha256_hex(&gguf)),
            ("template", Some(TEMPLATE), sha256_hex(b"{{ .Prompt }}")),
            ("license", Some(LICENSE), sha256_hex(b"license one")),
            ("license-2", Some(LICENSE), sha256_hex(b"license two")),
            (
                "params.json",
                Some(PARAMS),
                sha256_hex(br#"{"stop":["<|eot_id|>"]}"#)
            ),
        ],
        "the config, then every layer in the manifest's order"
    );
    let view = catalog.model_path("llama3:8b").unwrap();
    let (a, b) = (
        std::fs::metadata(view.join("model.gguf")).unwrap(),
        std::fs::metadata(ollama.blob_path(&gguf)).unwrap(),
    );
    assert_eq!(
        (a.dev(), a.ino()),
        (b.dev(), b.ino()),
        "the blob itself, not a copy"
    );
    assert_eq!(
        catalog.get("me/tiny:q4").unwrap().model_ref,
        "ollama:registry.ollama.ai/me/tiny:q4"
    );
}

#[test]
fn in_place_an_ollama_model_names_its_blobs_where_they_are() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(home.path());
    let gguf = b"GGUF in place".to_vec();
    ollama.model(
        ("registry.ollama.ai", "library", "m", "latest"),
        b"{}",
        &[(MODEL, &gguf), (LICENSE, b"same"), (LICENSE, b"same")],
    );
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(
            &ollama.models,
            AdoptOptions::default().in_place(true),
            &|_| {},
        )
        .unwrap();
    let e = catalog.get("m:latest").unwrap();
    assert!(e.external);
    assert_eq!(e.trust, TrustState::Verified);
    let canonical_blobs = std::fs::canonicalize(ollama.models.join("blobs")).unwrap();
    assert_eq!(e.local_path, canonical_blobs.to_str().unwrap());
    let paths: Vec<&str> = e.files.iter().map(|f| f.path.as_str()).collect();
    let blob = |b: &[u8]| format!("sha256-{}", sha256_hex(b));
    assert_eq!(
        paths,
        [blob(b"{}"), blob(&gguf), blob(b"same")],
        "the two identical license layers are one file where it is"
    );
    assert!(
        !root
            .path()
            .join("blobs/sha256")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "nothing in the store"
    );
}
