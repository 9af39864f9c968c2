//! `verify` of several models (`Catalog::plan_verify`, `catalog verify
//! --all`) reads a blob that several of them share once, and applies what
//! it hashed to to each of them: each still gets its own record, and a
//! corrupted shared blob fails every model that holds it.

use catalog_core::{Catalog, ImportOptions, ModelRef, TrustState, VerifyOptions, VerifyResult};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const SHARED: usize = 3 << 20;

/// Two repositories sharing one 3 MiB weights file, each with its own
/// config, imported without a publisher's digest.
fn two_models_sharing_a_file(root: &Path, src: &Path) -> Catalog {
    let weights: Vec<u8> = (0..SHARED).map(|i| (i * 31 % 251) as u8).collect();
    for (name, config) in [("a", "{\"n\":1}"), ("b", "{\"n\":22}")] {
        let dir = src.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("model.safetensors"), &weights).unwrap();
        std::fs::write(dir.join("config.json"), config).unwrap();
    }
    let catalog = Catalog::open(root).unwrap();
    for name in ["a", "b"] {
        let r = ModelRef::parse(&format!("file:{}", src.join(name).display())).unwrap();
        catalog
            .import(&r, ImportOptions::default().id(name))
            .unwrap();
    }
    catalog
}

fn verify_records(catalog: &Catalog, id: &str) -> usize {
    catalog
        .history(id)
        .unwrap()
        .iter()
        .filter(|e| e.kind() == "verify")
        .count()
}

#[test]
fn a_shared_blob_is_read_once_and_each_model_gets_its_record() {
    let (root, src) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let catalog = two_models_sharing_a_file(root.path(), src.path());
    let configs = ("{\"n\":1}".len() + "{\"n\":22}".len()) as u64;
    let before = (verify_records(&catalog, "a"), verify_records(&catalog, "b"));

    let plan = catalog
        .plan_verify(&["a", "b"], VerifyOptions::default())
        .unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(plan.bytes_to_hash(), SHARED as u64 + configs);
    let read = AtomicU64::new(0);
    let mut started = Vec::new();
    let reports = plan.run(&mut |id| started.push(id.to_string()), &|n| {
        read.fetch_add(n, Ordering::Relaxed);
    });
    assert_eq!(started, ["a", "b"]);
    assert_eq!(
        read.load(Ordering::Relaxed),
        SHARED as u64 + configs,
        "the shared 3 MiB were read once, not once per model"
    );
    for (id, report) in &reports {
        let report = report.as_ref().unwrap();
        // Imported without a publisher's digest: the bytes are unchanged
        // since import, which is a warning, not a verification.
        assert_eq!(report.outcome.result, VerifyResult::Warn, "{id}");
        assert!(!report.fast_path_used);
        let covered: u64 = report.entry.files.iter().map(|f| f.size_bytes).sum();
        assert_eq!(
            report.outcome.bytes, covered,
            "{id}: the bytes its check covered"
        );
    }
    assert_eq!(verify_records(&catalog, "a"), before.0 + 1);
    assert_eq!(verify_records(&catalog, "b"), before.1 + 1);
}

#[test]
fn a_corrupted_shared_blob_fails_every_model_that_holds_it() {
    let (root, src) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let catalog = two_models_sharing_a_file(root.path(), src.path());
    let blob = catalog
        .get("a")
        .unwrap()
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap()
        .digest;
    let path = root.path().join(format!("blobs/sha256/{}", blob.hex()));
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[SHARED / 2] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    let reports = catalog
        .plan_verify(&["a", "b"], VerifyOptions::default())
        .unwrap()
        .run(&mut |_| {}, &|_| {});
    for (id, report) in reports {
        let report = report.unwrap();
        assert_eq!(report.outcome.result, VerifyResult::Fail, "{id}");
        assert!(
            report.outcome.reason.contains("model.safetensors"),
            "{id}: {}",
            report.outcome.reason
        );
        assert_eq!(catalog.get(&id).unwrap().trust, TrustState::Failed);
    }
}

#[test]
fn an_unknown_id_refuses_the_whole_plan_and_records_nothing() {
    let (root, src) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let catalog = two_models_sharing_a_file(root.path(), src.path());
    let head = catalog.head();
    let err = catalog
        .plan_verify(&["a", "nope"], VerifyOptions::default())
        .err()
        .expect("an unknown id is an error");
    assert!(
        matches!(err, catalog_core::Error::NotFound { .. }),
        "{err:?}"
    );
    assert_eq!(catalog.head(), head, "nothing recorded");
}

#[test]
fn the_command_line_counts_a_shared_file_once() {
    let (root, src) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(two_models_sharing_a_file(root.path(), src.path()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_catalog"))
        .args([
            "--root",
            root.path().to_str().unwrap(),
            "--json",
            "verify",
            "--all",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(item["last_verification"]["result"], "warn", "{item}");
    }
}
