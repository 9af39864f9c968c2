//! A store that holds something hostile is refused as a whole, with
//! `Error::UnsafeSource`, before anything is written — no record, no file
//! in the store, and from the command line not even a catalog: a snapshot
//! symlink leading out of its repository's `blobs/` (to `/etc`, to another
//! repository), a symlinked blob, an Ollama manifest whose digest is not
//! `sha256:<64 hex>` (traversal in the blob name, CVE-2024-37032), an
//! oversized manifest, a symlink in `manifests/`.

use crate::cli_support::Cli;
use crate::support::layouts::{HfCache, Kind, MODEL, Ollama, commit, sha256_hex};
use catalog_core::{AdoptOptions, Catalog, Error};
use std::path::Path;

/// Adopting `source` into a fresh catalog is refused and writes nothing.
fn refused(source: &Path, says: &str) {
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let head = catalog.head();
    let err = catalog
        .adopt(source, AdoptOptions::default(), &|_| {})
        .unwrap_err();
    match &err {
        Error::UnsafeSource { reason, .. } => assert!(reason.contains(says), "{err}"),
        other => panic!("expected UnsafeSource, got {other}"),
    }
    assert_eq!(catalog.head(), head, "no record");
    assert!(
        !root.path().join("blobs").exists(),
        "the store was not even created"
    );
    // The command line refuses it before it creates a catalog.
    let cli = Cli::new();
    let out = cli.run(&["adopt", source.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(cli.root_is_empty(), "nothing written");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to adopt"),
        "{out:?}"
    );
}

fn cache_with_link(target: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "m");
    let c = commit("c");
    repo.snapshot(&c, &[("config.json", b"{}", Kind::Git)]);
    repo.set_ref("main", &c);
    std::os::unix::fs::symlink(target, repo.dir.join("snapshots").join(&c).join("evil.bin"))
        .unwrap();
    let hub = cache.hub.clone();
    (home, hub)
}

#[test]
fn a_symlink_leading_out_of_the_repository_is_refused() {
    let (_home, hub) = cache_with_link("../../../../../../../../../../etc/passwd");
    refused(&hub, "outside this repository's blobs/");
    // Into another repository's blobs: out of this one all the same.
    let (home, hub) = cache_with_link(&format!(
        "../../../models--org--other/blobs/{}",
        "a".repeat(64)
    ));
    std::fs::create_dir_all(hub.join("models--org--other/blobs")).unwrap();
    std::fs::write(
        hub.join(format!("models--org--other/blobs/{}", "a".repeat(64))),
        b"x",
    )
    .unwrap();
    refused(&hub, "outside this repository's blobs/");
    drop(home);
    let (_home, hub) = cache_with_link("/etc/hostname");
    refused(&hub, "outside this repository's blobs/");
}

#[test]
fn a_blob_that_is_a_symlink_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, b"not a model").unwrap();
    let cache = HfCache::new(home.path());
    let repo = cache.repo("org", "m");
    let c = commit("c");
    let name = sha256_hex(b"not a model");
    std::os::unix::fs::symlink(&secret, repo.dir.join("blobs").join(&name)).unwrap();
    std::fs::create_dir_all(repo.dir.join("snapshots").join(&c)).unwrap();
    std::os::unix::fs::symlink(
        format!("../../blobs/{name}"),
        repo.dir.join("snapshots").join(&c).join("model.bin"),
    )
    .unwrap();
    repo.set_ref("main", &c);
    refused(&cache.hub, "a blob is a symlink");
}

#[test]
fn a_manifest_digest_that_is_not_sha256_hex_is_refused() {
    for digest in [
        "sha256:../../../../../../etc/passwd",
        "sha256:../../../../../../../../tmp/x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        &format!("sha256:{}", "A".repeat(64)),
        &format!("sha256:{}/../x", "0".repeat(64)),
        "sha512:00",
    ] {
        let home = tempfile::tempdir().unwrap();
        let ollama = Ollama::new(home.path());
        ollama.model(
            ("registry.ollama.ai", "library", "ok", "1"),
            b"{}",
            &[(MODEL, b"GGUF")],
        );
        let text = serde_json::json!({
            "schemaVersion": 2,
            "layers": [{ "mediaType": MODEL, "digest": digest, "size": 4 }],
        });
        ollama.manifest(
            ("registry.ollama.ai", "library", "evil", "latest"),
            &text.to_string(),
        );
        refused(&ollama.models, "CVE-2024-37032");
    }
}

#[test]
fn an_oversized_manifest_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(home.path());
    let big = format!(
        "{{\"schemaVersion\":2,\"pad\":\"{}\"}}",
        "x".repeat(1 << 20)
    );
    ollama.manifest(("registry.ollama.ai", "library", "big", "1"), &big);
    refused(&ollama.models, "oversized manifest");
    // Many layers in a small file: more than a model may have files.
    let home = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(home.path());
    let layer = serde_json::json!({ "mediaType": MODEL, "digest": format!("sha256:{}", "0".repeat(64)), "size": 1 });
    let many = serde_json::json!({ "schemaVersion": 2, "layers": vec![layer; 5000] });
    ollama.manifest(
        ("registry.ollama.ai", "library", "many", "1"),
        &many.to_string(),
    );
    refused(&ollama.models, "oversized manifest");
}

#[test]
fn a_symlink_in_the_manifests_tree_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let ollama = Ollama::new(home.path());
    std::fs::create_dir_all(elsewhere.path().join("library/m")).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path(),
        ollama.models.join("manifests/registry.ollama.ai"),
    )
    .unwrap();
    refused(&ollama.models, "symlink in manifests/");
}
