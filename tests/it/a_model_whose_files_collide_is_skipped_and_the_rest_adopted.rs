//! A model whose files would take one path twice in its view is skipped
//! and reported at scan time, and every other model is adopted (issue 19,
//! N5). Ollama names layers by kind and numbers repeats: two `license`
//! layers are `license` and `license-2`, so a third layer whose media type
//! ends in `.license-2` takes `license-2` again. Before, the scan accepted
//! it, building its view failed with "File exists", and every later model
//! failed the same way, leaving `views/*.tmp` behind.

use crate::support::layouts::{LICENSE, MODEL, Ollama, TEMPLATE};
use catalog_core::{AdoptOptions, Catalog, SkipKind, TrustState};

#[test]
fn an_ollama_model_with_two_layers_named_license_2_is_skipped_and_the_others_adopted() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(&home.path().join("models"));
    // Sorted first, so both good models come after it.
    let bad = ollama.model(
        ("registry.ollama.ai", "library", "a-collides", "1"),
        b"{\"a\":1}",
        &[
            (MODEL, b"GGUF a"),
            (LICENSE, b"license one"),
            (LICENSE, b"license two"),
            ("application/vnd.ollama.image.license-2", b"license three"),
        ],
    );
    for name in ["b-good", "c-good"] {
        ollama.model(
            ("registry.ollama.ai", "library", name, "1"),
            format!("{{\"{name}\":1}}").as_bytes(),
            &[
                (MODEL, format!("GGUF {name}").as_bytes()),
                (TEMPLATE, b"{{ .Prompt }}"),
                (LICENSE, b"license one"),
            ],
        );
    }
    let catalog = Catalog::open(root.path()).unwrap();
    let plan = catalog
        .plan_adoption(&ollama.models, &AdoptOptions::default())
        .unwrap();
    assert_eq!(plan.models(), 2, "the colliding model is no candidate");
    let report = catalog
        .adopt(&ollama.models, AdoptOptions::default(), &|_| {})
        .unwrap();
    let ids: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["b-good:1", "c-good:1"]);
    assert!(
        report
            .models
            .iter()
            .all(|m| m.trust == TrustState::Verified),
        "{:?}",
        report.models
    );
    let skipped: Vec<_> = report.skipped.iter().filter(|s| s.path == bad).collect();
    assert_eq!(skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(skipped[0].kind, SkipKind::Unsupported);
    assert!(
        skipped[0].reason.contains("license-2"),
        "{}",
        skipped[0].reason
    );
    assert!(!catalog.exists("a-collides:1"));
    let tmp: Vec<_> = std::fs::read_dir(root.path().join("views"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "no view left half-built: {tmp:?}");
    for id in ["b-good:1", "c-good:1"] {
        let v = catalog
            .verify(id, catalog_core::VerifyOptions::default(), &|_| {})
            .unwrap();
        assert_eq!(v.entry.trust, TrustState::Verified, "{id}");
    }
}
