//! Adoption never replaces an entry that came from somewhere else (issue
//! 19, N2). A fine-tune moved into the store as `org/name`, then a Hugging
//! Face cache holding `models--org--name`: the adoption is refused whole
//! (`Error::AdoptConflict`, exit 2, no record), so a later `gc` cannot take
//! the user's only copy; `--dry-run` shows the conflict; `--as
//! org/name=NEW_ID` adopts it beside the fine-tune. The same origin is
//! still an update: the same cache after `main` moved to another commit.
//! An entry registered in place conflicts with the same repository found
//! at another path.

use crate::cli_support::Cli;
use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, bytes, commit};
use catalog_core::{AdoptAction, AdoptOptions, Catalog, ConflictKind, Error, TrustState};
use std::path::Path;

fn journal(root: &Path) -> Vec<u8> {
    let mut names: Vec<_> = std::fs::read_dir(root.join("catalog/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// A hub cache under `dir` holding `models--org--name` (main → one commit).
fn hub_with_org_name(dir: &Path) -> HfCache {
    let cache = HfCache::new(&dir.join("hub"));
    let repo = cache.repo("org", "name");
    let c = commit("upstream");
    repo.snapshot(
        &c,
        &[
            ("model.safetensors", &bytes(50_000, 7), Kind::Lfs),
            ("config.json", b"{}", Kind::Git),
        ],
    );
    repo.set_ref("main", &c);
    cache
}

#[test]
fn a_moved_in_fine_tune_is_never_replaced_and_gc_keeps_its_only_copy() {
    let cli = Cli::new();
    let fine_tune = bytes(30_000, 99);
    let file = cli.write_src("finetune.bin", &fine_tune);
    cli.ok(&[
        "add",
        "--link",
        "move",
        "--id",
        "org/name",
        file.to_str().unwrap(),
    ]);
    assert!(!file.exists(), "moved: the store holds the only copy");
    let cache = hub_with_org_name(cli.home.path());
    let hub = cache.hub.to_str().unwrap();
    let before = journal(cli.root());

    // The dry run shows the conflict (and exits 2: the adoption would be
    // refused).
    let dry = cli.run(&["adopt", "--dry-run", hub]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&dry.stdout),
        String::from_utf8_lossy(&dry.stderr),
    );
    assert_eq!(dry.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("conflict `org/name`"), "{stdout}");

    // The adoption: refused whole, exit 2, nothing written.
    let out = cli.run(&["adopt", hub]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    for needle in [
        "`org/name`",
        "file:",
        "finetune.bin",
        "hf:org/name@",
        "--as org/name=",
        "nothing was written",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert_eq!(journal(cli.root()), before, "no record written");
    let entry = cli.listed("org/name").unwrap();
    assert!(entry["ref"].as_str().unwrap().starts_with("file:"));

    // gc with no grace keeps the fine-tune: it is still the entry's.
    cli.ok(&["gc", "--grace", "0"]);
    let digest = catalog_core::Digest::of_bytes(&fine_tune);
    let blob = cli.root().join("blobs/sha256").join(digest.hex());
    assert_eq!(std::fs::read(&blob).unwrap(), fine_tune, "the only copy");
    cli.ok(&["verify", "org/name"]);

    // Under another id, beside it.
    let report = cli.json(&["adopt", hub, "--as", "org/name=org/name-upstream"]);
    assert_eq!(report["models"][0]["id"], "org/name-upstream");
    assert_eq!(report["models"][0]["action"], "added");
    assert_eq!(
        cli.listed("org/name-upstream").unwrap()["trust"],
        "verified"
    );
    let entry = cli.listed("org/name").unwrap();
    assert!(entry["ref"].as_str().unwrap().starts_with("file:"));
    cli.ok(&["gc", "--grace", "0"]);
    assert_eq!(std::fs::read(&blob).unwrap(), fine_tune);
}

#[test]
fn an_ollama_name_taken_by_an_added_file_is_a_conflict_too() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("mine.gguf");
    std::fs::write(&file, b"GGUF my own llama").unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let source = catalog_core::ModelRef::parse(file.to_str().unwrap()).unwrap();
    catalog
        .import(
            &source,
            catalog_core::ImportOptions::default().id("llama3:8b"),
        )
        .unwrap();
    let ollama = Ollama::new(&home.path().join("models"));
    ollama.model(
        ("registry.ollama.ai", "library", "llama3", "8b"),
        b"{}",
        &[(MODEL, b"GGUF upstream llama")],
    );
    ollama.model(
        ("registry.ollama.ai", "library", "other", "1"),
        b"{}",
        &[(MODEL, b"GGUF other")],
    );
    let seq = catalog.head().seq;
    let plan = catalog
        .plan_adoption(&ollama.models, &AdoptOptions::default())
        .unwrap();
    assert_eq!(plan.conflicts().len(), 1, "{:?}", plan.conflicts());
    let c = &plan.conflicts()[0];
    assert_eq!(c.id, "llama3:8b");
    assert_eq!(c.kind, ConflictKind::OtherModel);
    assert!(c.existing_ref.starts_with("file:"), "{c:?}");
    assert_eq!(c.offered_ref, "ollama:registry.ollama.ai/library/llama3:8b");
    let err = catalog
        .adopt(&ollama.models, AdoptOptions::default(), &|_| {})
        .unwrap_err();
    assert!(
        matches!(&err, Error::AdoptConflict { conflicts } if conflicts.len() == 1),
        "{err}"
    );
    assert_eq!(
        catalog.head().seq,
        seq,
        "not even the model without a conflict"
    );
    assert!(!catalog.exists("other:1"));
    let adopted = catalog
        .adopt(
            &ollama.models,
            AdoptOptions::default().rename("llama3:8b", "upstream/llama3:8b"),
            &|_| {},
        )
        .unwrap();
    let ids: Vec<&str> = adopted.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["upstream/llama3:8b", "other:1"]);
    assert!(
        catalog
            .get("llama3:8b")
            .unwrap()
            .model_ref
            .starts_with("file:")
    );
}

#[test]
fn the_same_cache_after_main_moved_is_still_an_update() {
    for in_place in [false, true] {
        let root = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let cache = hub_with_org_name(home.path());
        let opts = AdoptOptions::default().in_place(in_place);
        let catalog = Catalog::open(root.path()).unwrap();
        catalog.adopt(&cache.hub, opts.clone(), &|_| {}).unwrap();
        let repo = cache.repo("org", "name");
        let c2 = commit("upstream-2");
        repo.snapshot(&c2, &[("model.safetensors", &bytes(50_000, 8), Kind::Lfs)]);
        repo.set_ref("main", &c2);
        let plan = catalog.plan_adoption(&cache.hub, &opts).unwrap();
        assert!(
            plan.conflicts().is_empty(),
            "in place {in_place}: {:?}",
            plan.conflicts()
        );
        let again = catalog.adopt(&cache.hub, opts, &|_| {}).unwrap();
        let main = again.models.iter().find(|m| m.id == "org/name").unwrap();
        assert_eq!(main.action, AdoptAction::Updated, "in place {in_place}");
        assert_eq!(main.model_ref, format!("hf:org/name@{c2}"));
        assert_eq!(main.trust, TrustState::Verified);
        let entry = catalog.get("org/name").unwrap();
        assert_eq!(entry.external, in_place);
    }
}

#[test]
fn an_in_place_entry_conflicts_with_the_same_repository_found_elsewhere() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = hub_with_org_name(a.path());
    let second = hub_with_org_name(b.path());
    let catalog = Catalog::open(root.path()).unwrap();
    let in_place = AdoptOptions::default().in_place(true);
    catalog
        .adopt(&first.hub, in_place.clone(), &|_| {})
        .unwrap();
    let local = catalog.get("org/name").unwrap().local_path;
    let seq = catalog.head().seq;
    for opts in [in_place.clone(), AdoptOptions::default()] {
        let err = catalog.adopt(&second.hub, opts, &|_| {}).unwrap_err();
        let Error::AdoptConflict { conflicts } = &err else {
            panic!("expected a conflict, got {err}");
        };
        assert_eq!(conflicts[0].kind, ConflictKind::OtherPath, "{err}");
        assert_eq!(
            conflicts[0].existing_path.as_deref(),
            Some(Path::new(&local))
        );
        assert_eq!(catalog.head().seq, seq, "nothing written");
    }
    // The same cache again, linked now: the same origin, an update.
    let linked = catalog
        .adopt(&first.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(linked.models[0].action, AdoptAction::Updated);
    assert!(!catalog.get("org/name").unwrap().external);
}

#[test]
fn a_rename_that_names_no_model_found_or_clashes_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = hub_with_org_name(home.path());
    let catalog = Catalog::open(root.path()).unwrap();
    for (old, new) in [("org/nope", "x"), ("org/name", " bad id ")] {
        let err = catalog
            .adopt(
                &cache.hub,
                AdoptOptions::default().rename(old, new),
                &|_| {},
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "rename",
                    ..
                }
            ),
            "{old}={new}: {err}"
        );
    }
    assert!(catalog.is_empty(), "nothing written");
    let cli = Cli::new();
    let out = cli.run(&["adopt", cache.hub.to_str().unwrap(), "--as", "no-equals"]);
    assert_eq!(out.status.code(), Some(2));
}
