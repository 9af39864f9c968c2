//! Conformance with the real client: huggingface_hub (the version pinned in
//! `tests/hf/requirements.txt`) writes hub caches from a mock Hub on
//! 127.0.0.1 (`tests/hf/write_caches.py`: one cache per situation of
//! issue 20), and each is adopted as huggingface_hub's own
//! `scan_cache_dir()` and `verify_repo_checksums` (what `hf cache verify`
//! runs) see it: every revision they find whole is one verified entry with
//! the same files, a revision they find missing files is skipped as
//! incomplete, a dataset is skipped as unsupported.
//!
//! Runs only when `CATALOG_HF_PYTHON` names a Python that has the pinned
//! huggingface_hub (`.ci/run` makes that venv); otherwise each test prints
//! a note and passes, so `cargo test` needs no Python.

use catalog_core::{AdoptOptions, AdoptReport, Catalog, DigestSource, SkipKind, TrustState};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The caches huggingface_hub wrote, and its view of each (`None` when
/// `CATALOG_HF_PYTHON` is not set).
fn written() -> Option<&'static Value> {
    static WRITTEN: OnceLock<Option<(tempfile::TempDir, Value)>> = OnceLock::new();
    let written = WRITTEN.get_or_init(|| {
        let python = std::env::var_os("CATALOG_HF_PYTHON")?;
        let out = tempfile::tempdir().unwrap();
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hf/write_caches.py");
        let run = std::process::Command::new(&python)
            .arg(&driver)
            .arg(out.path())
            .env_remove("HF_TOKEN")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", Path::new(&python).display()));
        assert!(
            run.status.success(),
            "{} failed: {}",
            driver.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        let view: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(
            view["huggingface_hub"], "2.5.0",
            "the pinned client wrote the caches"
        );
        Some((out, view))
    });
    match written {
        Some((_, view)) => Some(view),
        None => {
            eprintln!(
                "note: CATALOG_HF_PYTHON is not set: the conformance tests with huggingface_hub \
                 did not run (.ci/run sets it)"
            );
            None
        }
    }
}

/// One case: its cache, and huggingface_hub's view of it.
struct Case {
    hub: PathBuf,
    view: &'static Value,
}

fn case(name: &str) -> Option<Case> {
    let view = &written()?["cases"][name];
    Some(Case {
        hub: PathBuf::from(view["cache"].as_str().unwrap()),
        view,
    })
}

/// A staged case: huggingface_hub writes each step into one cache (its
/// own temporary directory), the test adopting between steps.
struct Staged {
    out: tempfile::TempDir,
    python: std::ffi::OsString,
    name: &'static str,
}

impl Staged {
    fn new(name: &'static str) -> Option<Staged> {
        let Some(python) = std::env::var_os("CATALOG_HF_PYTHON") else {
            eprintln!("note: CATALOG_HF_PYTHON is not set: {name} did not run");
            return None;
        };
        Some(Staged {
            out: tempfile::tempdir().unwrap(),
            python,
            name,
        })
    }

    fn hub(&self) -> PathBuf {
        self.out.path().join(self.name).join("hub")
    }

    /// Runs one step; huggingface_hub's view of the cache afterwards.
    fn step(&self, step: &str) -> Value {
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hf/write_caches.py");
        let key = format!("{}:{step}", self.name);
        let run = std::process::Command::new(&self.python)
            .arg(&driver)
            .arg(self.out.path())
            .arg(&key)
            .env_remove("HF_TOKEN")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let view: Value = serde_json::from_slice(&run.stdout).unwrap();
        view["cases"][&key].clone()
    }
}

impl Case {
    fn commit(&self, key: &str) -> &str {
        self.view["notes"]["commits"][key].as_str().unwrap()
    }

    fn snapshot(&self, repo: &str, commit: &str) -> PathBuf {
        self.hub
            .join(format!("models--{}", repo.replace('/', "--")))
            .join("snapshots")
            .join(commit)
    }

    /// Adopts the whole cache into a new catalog, and checks the report
    /// against huggingface_hub's view: each model revision it finds whole
    /// (`verify_repo_checksums`: nothing missing, nothing mismatched) is
    /// one verified entry referenced by its commit, with the same files; a
    /// revision with files missing is skipped as incomplete; a dataset is
    /// skipped as unsupported.
    fn adopt_and_compare(&self) -> (tempfile::TempDir, Catalog, AdoptReport) {
        let root = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(root.path()).unwrap();
        let report = catalog
            .adopt(&self.hub, AdoptOptions::default(), &|_| {})
            .unwrap_or_else(|e| panic!("adopting {}: {e}", self.hub.display()));
        let mut whole = 0;
        for repo in self.view["scan"]["repos"].as_array().unwrap() {
            let id = repo["repo_id"].as_str().unwrap();
            if repo["repo_type"] != "model" {
                let folder = format!(
                    "{}s--{}",
                    repo["repo_type"].as_str().unwrap(),
                    id.replace('/', "--")
                );
                assert!(
                    report
                        .skipped
                        .iter()
                        .any(|s| s.kind == SkipKind::Unsupported && s.path.ends_with(&folder)),
                    "the {} {id} is reported as not a model: {:?}",
                    repo["repo_type"],
                    report.skipped
                );
                continue;
            }
            for rev in repo["revisions"].as_array().unwrap() {
                let commit = rev["commit"].as_str().unwrap();
                let verify = &rev["verify"];
                let missing = verify["missing"].as_array().unwrap();
                let reference = format!("hf:{id}@{commit}");
                let adopted = report.models.iter().find(|m| m.model_ref == reference);
                if !missing.is_empty() {
                    assert!(
                        adopted.is_none(),
                        "{reference} lacks {missing:?} yet was adopted"
                    );
                    let skip = report
                        .skipped
                        .iter()
                        .find(|s| s.path == self.snapshot(id, commit))
                        .unwrap_or_else(|| {
                            panic!("{reference} is not reported: {:?}", report.skipped)
                        });
                    assert_eq!(skip.kind, SkipKind::Incomplete, "{skip:?}");
                    for m in missing {
                        assert!(
                            skip.reason.contains(m.as_str().unwrap()),
                            "{m} named in {skip:?}"
                        );
                    }
                    continue;
                }
                assert!(verify["mismatches"].as_array().unwrap().is_empty());
                whole += 1;
                let m = adopted.unwrap_or_else(|| {
                    panic!(
                        "{reference}, whole for huggingface_hub, was not adopted: skipped {:?}",
                        report.skipped
                    )
                });
                assert_eq!(
                    m.trust,
                    TrustState::Verified,
                    "{reference}: {:?}",
                    m.failure
                );
                let entry = catalog.get(&m.id).unwrap();
                assert_eq!(
                    entry.digest_source,
                    Some(DigestSource::Publisher),
                    "{reference}"
                );
                let files: Vec<&str> = entry.files.iter().map(|f| f.path.as_str()).collect();
                let theirs: Vec<&str> = rev["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap())
                    .collect();
                assert_eq!(files, theirs, "{reference}: the files huggingface_hub sees");
            }
        }
        assert_eq!(
            report.models.len(),
            whole,
            "one entry per whole revision: {:?}",
            report.models
        );
        assert!(!report.failed());
        (root, catalog, report)
    }
}

/// Row 1: a Xet file's repository blob is a symlink into the cache-wide
/// shared store (`<cache>/blobs/<2 hex>/<xet hash>`); both repositories
/// that hold it are adopted (once refused whole: "a blob is a symlink"),
/// also as one `models--` folder, in a dry run and in place.
#[test]
fn a_blob_in_the_shared_store_is_adopted_from_the_cache_root() {
    let Some(case) = case("shared_blob_store") else {
        return;
    };
    let xet = case.view["notes"]["xet_hash"].as_str().unwrap();
    let sha = case.view["notes"]["weights_sha256"].as_str().unwrap();
    let blob = case.hub.join("models--org--shared-b/blobs").join(sha);
    assert_eq!(
        std::fs::read_link(&blob).unwrap(),
        Path::new("../../blobs").join(&xet[..2]).join(xet),
        "huggingface_hub linked the blob into its shared store"
    );
    let (_root, catalog, report) = case.adopt_and_compare();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let a = catalog.get("org/shared-a").unwrap();
    let b = catalog.get("org/shared-b").unwrap();
    let weights = |e: &catalog_core::ModelEntry| {
        e.files
            .iter()
            .find(|f| f.path == "model-00001-of-00002.safetensors")
            .map(|f| f.digest.hex())
            .unwrap()
    };
    assert_eq!(weights(&a), sha);
    assert_eq!(weights(&b), sha);

    // One repository folder named on its own: the store is still found.
    let one = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(one.path()).unwrap();
    let folder = case.hub.join("models--org--shared-b");
    let dry = catalog
        .adopt(&folder, AdoptOptions::default().dry_run(true), &|_| {})
        .unwrap();
    assert_eq!(dry.models.len(), 1, "{:?}", dry.skipped);
    let report = catalog
        .adopt(&folder, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        report.models[0].trust,
        TrustState::Verified,
        "{:?}",
        report.models[0].failure
    );

    let in_place = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(in_place.path()).unwrap();
    let report = catalog
        .adopt(&case.hub, AdoptOptions::default().in_place(true), &|_| {})
        .unwrap();
    assert_eq!(report.models.len(), 2, "{:?}", report.skipped);
    assert!(
        report
            .models
            .iter()
            .all(|m| m.trust == TrustState::Verified)
    );
    // A later verification of the entries in place reads the same files.
    for id in ["org/shared-a", "org/shared-b"] {
        let v = catalog
            .verify(id, catalog_core::VerifyOptions::default(), &|_| {})
            .unwrap();
        assert_eq!(
            v.entry.trust,
            TrustState::Verified,
            "{id} in place: {}",
            v.outcome.reason
        );
    }
}

/// Row 2: a killed download left `<etag>.<8 hex>.incomplete` beside the
/// blob a later download completed; huggingface_hub sees one whole
/// revision, and so does the catalog (it once skipped every snapshot).
#[test]
fn a_stale_incomplete_file_beside_a_finished_blob_skips_nothing() {
    let Some(case) = case("stale_incomplete") else {
        return;
    };
    let stale = case.view["notes"]["incomplete"].as_array().unwrap();
    assert_eq!(
        stale.len(),
        1,
        "the killed download left its .incomplete file"
    );
    let (_root, catalog, report) = case.adopt_and_compare();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(
        catalog.get("org/stalled").unwrap().model_ref,
        format!("hf:org/stalled@{}", case.commit("org/stalled"))
    );
}

/// Row 2, while a download runs: a whole snapshot, then `main` moves and
/// its download is cut short mid-file (an `.incomplete` whose blob is not
/// there). The whole snapshot is adopted whatever else is downloading (it
/// was once skipped with every snapshot of the repository); the new one,
/// short of that file by its listing, is skipped as incomplete.
#[test]
fn a_whole_snapshot_is_adopted_while_another_downloads() {
    let Some(case) = case("download_running") else {
        return;
    };
    let running = case.view["notes"]["incomplete"].as_array().unwrap();
    assert_eq!(
        running.len(),
        1,
        "the cut download left its .incomplete file"
    );
    let (_root, _catalog, report) = case.adopt_and_compare();
    let old = case.commit("old");
    assert_eq!(report.models.len(), 1);
    assert_eq!(report.models[0].id, format!("org/moving@{}", &old[..7]));
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(
        report.skipped[0]
            .reason
            .contains("model-00001-of-00002.safetensors"),
        "{:?}",
        report.skipped
    );
}

/// Row 3: `snapshot_download(allow_patterns=["*.json"])` keeps 4 of the
/// commit's 7 files, and `trees/<commit>.json` lists all 7: the snapshot
/// is partial, skipped as incomplete naming the 3 missing files (it was
/// once verified with 4).
#[test]
fn a_snapshot_missing_files_its_publisher_lists_is_skipped_as_incomplete() {
    let Some(case) = case("partial_snapshot") else {
        return;
    };
    let commit = case.commit("org/partial");
    assert!(
        case.hub
            .join("models--org--partial/trees")
            .join(format!("{commit}.json"))
            .is_file(),
        "huggingface_hub wrote the commit's listing"
    );
    let (_root, catalog, report) = case.adopt_and_compare();
    assert!(report.models.is_empty());
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(
        report.skipped[0].reason.contains("3 of the 7 files"),
        "{:?}",
        report.skipped
    );
    assert!(!catalog.exists("org/partial"));
}

/// Row 4: with `HF_HUB_DISABLE_SYMLINKS=1` the snapshot holds the files
/// themselves; each is checked against the listing's `lfs_sha256` or git
/// blob id: verified, from the publisher (once `warned`).
#[test]
fn real_files_in_a_snapshot_are_checked_against_the_listing() {
    let Some(case) = case("no_symlinks") else {
        return;
    };
    let commit = case.commit("org/copies");
    let weights = case
        .snapshot("org/copies", commit)
        .join("model-00001-of-00002.safetensors");
    assert!(
        std::fs::symlink_metadata(&weights).unwrap().is_file(),
        "huggingface_hub wrote a real file"
    );
    let (_root, catalog, report) = case.adopt_and_compare();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let e = catalog.get("org/copies").unwrap();
    assert!(
        e.files
            .iter()
            .filter(|f| f.path.ends_with(".json") || f.path.ends_with(".md"))
            .all(|f| f.publisher_digest.is_some_and(|d| !d.is_sha256())),
        "small files checked against their git blob ids"
    );
}

/// Row 5: each revision huggingface_hub sees (main and tag v1.0 on one
/// commit; tag v0.9 on a commit first downloaded detached) is one entry,
/// referenced by its commit; the refs are its aliases, every one recorded
/// in the journal with its commit (v1.0 was recorded nowhere; v0.9 made a
/// second entry of one commit).
#[test]
fn each_revision_is_one_entry_and_every_ref_is_recorded() {
    let Some(case) = case("tags_and_refs") else {
        return;
    };
    let (_root, catalog, report) = case.adopt_and_compare();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let (main, old) = (case.commit("main"), case.commit("v0.9"));
    assert_eq!(
        catalog.get("org/tagged").unwrap().model_ref,
        format!("hf:org/tagged@{main}")
    );
    let detached = format!("org/tagged@{}", &old[..7]);
    assert_eq!(
        catalog.get(&detached).unwrap().model_ref,
        format!("hf:org/tagged@{old}")
    );
    assert_eq!(catalog.list_shared().len(), 2, "one entry per commit");
    let refs = |id: &str| {
        report
            .models
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.refs.clone())
            .unwrap()
    };
    assert_eq!(refs("org/tagged"), ["main", "v1.0"]);
    assert_eq!(refs(&detached), ["v0.9"]);
    for (id, name, commit) in [
        ("org/tagged", "v1.0", main),
        (detached.as_str(), "v0.9", old),
    ] {
        let recorded = catalog.history(id).unwrap().into_iter().any(|e| {
            matches!(&e.op, catalog_core::Op::RefMoved { name: n, to: Some(to), .. }
                if n == name && to == commit)
        });
        assert!(recorded, "{name} -> {commit} is in the history of {id}");
    }
    // Again: nothing moved, nothing is written.
    let seq = catalog.head().seq;
    let again = catalog
        .adopt(&case.hub, AdoptOptions::default(), &|_| {})
        .unwrap();
    assert!(again.ref_moves.is_empty(), "{:?}", again.ref_moves);
    assert_eq!(catalog.head().seq, seq);
}

/// Row 5, when `main` moves (huggingface_hub downloads the new commit; the
/// old one stays, with tag v1.0): `org/name`, the id an orchestrator uses,
/// is the new commit's entry and keeps its history, which says "main
/// moved"; the old commit becomes its own entry without a byte read again
/// (it was re-hashed under a new id with fresh history); one entry per
/// commit.
#[test]
fn when_main_moves_its_id_keeps_its_history_and_nothing_is_read_again() {
    let Some(staged) = Staged::new("moving_main") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let before = staged.step("before");
    let c2 = before["notes"]["commits"]["c2"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(first.models.len(), 1);
    assert_eq!(first.models[0].id, "org/moving-main");
    let after = staged.step("after");
    let c4 = after["notes"]["commits"]["c4"].as_str().unwrap();
    let report = catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let main = catalog.get("org/moving-main").unwrap();
    assert_eq!(main.model_ref, format!("hf:org/moving-main@{c4}"));
    let old_id = format!("org/moving-main@{}", &c2[..7]);
    let old = report.models.iter().find(|m| m.id == old_id).unwrap();
    assert_eq!(old.trust, TrustState::Verified, "{:?}", old.failure);
    assert_eq!(
        old.bytes_hashed, 0,
        "the old commit's files are not read again"
    );
    assert_eq!(old.refs, ["v1.0"]);
    assert_eq!(catalog.list_shared().len(), 2, "one entry per commit");
    assert!(
        report.ref_moves.iter().any(|m| m.id == "org/moving-main"
            && m.name == "main"
            && m.from.as_deref() == Some(c2.as_str())
            && m.to.as_deref() == Some(c4)),
        "{:?}",
        report.ref_moves
    );
    let history = catalog.history("org/moving-main").unwrap();
    let puts: Vec<&str> = history
        .iter()
        .filter_map(|e| match &e.op {
            catalog_core::Op::Put(spec) => Some(spec.model_ref.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        puts,
        [
            format!("hf:org/moving-main@{c2}"),
            format!("hf:org/moving-main@{c4}")
        ],
        "one history for org/moving-main across the move"
    );
    assert!(history.iter().any(|e| matches!(&e.op,
        catalog_core::Op::RefMoved { name, from: Some(f), to: Some(t), .. }
            if name == "main" && *f == c2 && t == c4)));
}

/// Row 6, the part that is adoption's: the same weights in two
/// repositories (two blobs, no shared store): both adopted, verified.
#[test]
fn the_same_weights_in_two_repositories_are_both_adopted() {
    let Some(case) = case("same_weights_two_repos") else {
        return;
    };
    let (_root, _catalog, report) = case.adopt_and_compare();
    assert_eq!(report.models.len(), 2);
}

/// A dataset beside a model: the model is adopted, the dataset reported.
#[test]
fn a_dataset_is_reported_and_the_model_beside_it_adopted() {
    let Some(case) = case("dataset_beside_model") else {
        return;
    };
    let (_root, _catalog, report) = case.adopt_and_compare();
    assert_eq!(report.models.len(), 1);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
}

/// The weights file of `repo`'s only snapshot in `hub`, opened to be
/// damaged (its write bits are off once the store shares its inode).
fn weights_of(hub: &Path, repo: &str) -> PathBuf {
    let snapshots = hub
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("snapshots");
    let commit = std::fs::read_dir(&snapshots)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let link = commit.join("model-00001-of-00002.safetensors");
    let blob = std::fs::canonicalize(&link).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    blob
}

/// Row 6: the same weights in two repositories, hard-linked: the store
/// keeps one file for both, so one repository's file stands in for the
/// other's — the adoption says so plainly, naming both files and the one
/// inode; the repository whose own file the store holds is watched by its
/// own bytes (damaging the other's file fails neither: their entries name
/// the intact one).
#[test]
fn the_same_weights_in_two_repositories_say_plainly_which_file_stands_in() {
    let Some(staged) = Staged::new("twins") else {
        return;
    };
    staged.step("before");
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let report = catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let model = |id: &str| report.models.iter().find(|m| m.id == id).unwrap();
    assert!(model("org/twin-a").stand_ins.is_empty());
    let b = model("org/twin-b");
    // The weights and the two small files both repositories hold alike.
    assert_eq!(b.stand_ins.len(), 3, "{:?}", b.stand_ins);
    let b_own = weights_of(&staged.hub(), "org/twin-b");
    assert!(
        b.stand_ins
            .iter()
            .any(|s| s.contains("model-00001-of-00002.safetensors")
                && s.contains(&b_own.display().to_string())),
        "{:?}",
        b.stand_ins
    );
    // Damage org/twin-b's own file: org/twin-a's weights are its own, intact.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&b_own)
        .unwrap();
    std::io::Write::write_all(&mut f, b"XXXX").unwrap();
    drop(f);
    let a = catalog
        .verify(
            "org/twin-a",
            catalog_core::VerifyOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert_eq!(a.entry.trust, TrustState::Verified, "{}", a.outcome.reason);
}

/// Row 9: a blob damaged after adoption (huggingface_hub's file, grown),
/// then adopted again: the entry keeps its publisher's digest — the
/// damaged bytes' manifest never becomes one — and is marked failed,
/// naming the file.
#[test]
fn a_damaged_blob_adopted_again_never_becomes_the_publishers_digest() {
    let Some(staged) = Staged::new("twins") else {
        return;
    };
    staged.step("before");
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let before = catalog.get("org/twin-a").unwrap();
    let blob = weights_of(&staged.hub(), "org/twin-a");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&blob)
        .unwrap();
    std::io::Write::write_all(&mut f, b"damage").unwrap();
    drop(f);
    let report = catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let m = report.models.iter().find(|m| m.id == "org/twin-a").unwrap();
    assert_eq!(m.trust, TrustState::Failed);
    assert!(
        m.failure
            .as_deref()
            .is_some_and(|f| f.contains("model-00001-of-00002.safetensors")),
        "{:?}",
        m.failure
    );
    let after = catalog.get("org/twin-a").unwrap();
    assert_eq!(after.digest, before.digest, "the publisher's digest stays");
    assert_eq!(after.files, before.files);
    assert_eq!(after.digest_source, Some(DigestSource::Publisher));
    assert_eq!(after.trust, TrustState::Failed);
}

/// `--allow-partial`: the snapshot `allow_patterns=["*.json"]` left is
/// adopted as it is — warned, its digest computed when adopted, never
/// verified (a later verification stays warned).
#[test]
fn a_partial_snapshot_is_adopted_when_asked_as_warned_never_verified() {
    let Some(case) = case("partial_snapshot") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let opts = AdoptOptions::default().allow_partial(true);
    let report = catalog.adopt(&case.hub, opts, &|_| {}).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.models.len(), 1);
    assert_eq!(report.models[0].trust, TrustState::Warned);
    assert_eq!(report.models[0].files, 4, "the four .json files");
    let e = catalog.get("org/partial").unwrap();
    assert_eq!(e.digest_source, Some(DigestSource::Import));
    let v = catalog
        .verify(
            "org/partial",
            catalog_core::VerifyOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert_eq!(v.entry.trust, TrustState::Warned, "{}", v.outcome.reason);
}

/// Bytes of `id`'s files that no other entry of `catalog` names.
fn own_bytes(catalog: &Catalog, id: &str) -> u64 {
    let e = catalog.get(id).unwrap();
    let others: Vec<catalog_core::Digest> = catalog
        .list_shared()
        .iter()
        .filter(|o| o.id != id)
        .flat_map(|o| o.files.iter().map(|f| f.digest))
        .collect();
    e.files
        .iter()
        .filter(|f| !others.contains(&f.digest))
        .map(|f| f.size_bytes)
        .sum()
}

/// Row 7: `hf cache rm` of a repository after adoption: adopting again
/// with `--sync` reports its entry (once silent), with the bytes deleting
/// it frees for real — the store's links were all that kept them — and
/// `--sync delete` frees them.
#[test]
fn a_repository_hf_cache_rm_removed_is_reported_and_freed() {
    let Some(staged) = Staged::new("removed") else {
        return;
    };
    staged.step("before");
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    let first = catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(first.models.len(), 3, "{:?}", first.skipped);
    let own = own_bytes(&catalog, "org/gone");
    let removed = staged.step("rm");
    assert!(
        removed["scan"]["repos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["repo_id"] != "org/gone"),
        "huggingface_hub removed it"
    );
    let report = catalog
        .adopt(
            &staged.hub(),
            AdoptOptions::default().vanished(catalog_core::Vanished::Report),
            &|_| {},
        )
        .unwrap();
    assert_eq!(report.vanished.len(), 1, "{:?}", report.vanished);
    let v = &report.vanished[0];
    assert_eq!(v.id, "org/gone");
    assert_eq!(
        v.bytes_freed,
        Some(own),
        "its own files, once only the store links them"
    );
    assert!(catalog.exists("org/gone"), "reported, not removed");

    let report = catalog
        .adopt(
            &staged.hub(),
            AdoptOptions::default().vanished(catalog_core::Vanished::Delete),
            &|_| {},
        )
        .unwrap();
    assert_eq!(report.vanished.len(), 1);
    assert_eq!(report.vanished[0].bytes_freed, Some(own));
    assert!(!catalog.exists("org/gone"));
    assert!(catalog.exists("org/kept"));
}

/// Row 8: `hf cache prune` removes the detached revision (exactly the
/// catalog's `@<7 hex>` entry): `--sync retire` retires that entry, and
/// only it.
#[test]
fn a_revision_hf_cache_prune_removed_is_retired_when_asked() {
    let Some(staged) = Staged::new("removed") else {
        return;
    };
    let before = staged.step("before");
    let old = before["notes"]["commits"]["old"].as_str().unwrap();
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    let detached = format!("org/kept@{}", &old[..7]);
    assert!(catalog.exists(&detached));
    staged.step("prune");
    let dry = catalog
        .adopt(
            &staged.hub(),
            AdoptOptions::default()
                .vanished(catalog_core::Vanished::Retire)
                .dry_run(true),
            &|_| {},
        )
        .unwrap();
    assert_eq!(dry.vanished.len(), 1);
    assert_eq!(
        catalog.get(&detached).unwrap().lifecycle,
        catalog_core::Lifecycle::Active,
        "a dry run changes nothing"
    );
    let report = catalog
        .adopt(
            &staged.hub(),
            AdoptOptions::default().vanished(catalog_core::Vanished::Retire),
            &|_| {},
        )
        .unwrap();
    let ids: Vec<&str> = report.vanished.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, [detached.as_str()]);
    assert_eq!(
        catalog.get(&detached).unwrap().lifecycle,
        catalog_core::Lifecycle::Retired
    );
    for id in ["org/kept", "org/gone"] {
        assert_eq!(
            catalog.get(id).unwrap().lifecycle,
            catalog_core::Lifecycle::Active
        );
    }
}

/// Row 10: last access (huggingface_hub keeps it for `hf cache ls --filter
/// "accessed>30d"`; the catalog kept none): handing a model's path out
/// marks it, at most once an hour and without a journal record.
#[test]
fn handing_out_a_models_path_records_its_last_access_coarsely() {
    let Some(staged) = Staged::new("twins") else {
        return;
    };
    staged.step("before");
    let root = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(root.path()).unwrap();
    catalog
        .adopt(&staged.hub(), AdoptOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(catalog.last_accessed("org/twin-a"), None);
    let seq = catalog.head().seq;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    catalog.model_path("org/twin-a").unwrap();
    let first = catalog.last_accessed("org/twin-a").unwrap();
    assert!(first + 5_000 >= now, "marked now: {first} vs {now}");
    assert_eq!(catalog.last_accessed("org/twin-b"), None);
    std::thread::sleep(std::time::Duration::from_millis(20));
    catalog.model_path("org/twin-a").unwrap();
    assert_eq!(
        catalog.last_accessed("org/twin-a"),
        Some(first),
        "at most once per {} ms",
        catalog_core::ACCESS_GRANULARITY_MS
    );
    assert_eq!(catalog.head().seq, seq, "no journal record");
}

/// Rows 8 and 10 through the command line: `catalog adopt --sync-retire`
/// after the real `hf cache prune` retires the detached revision's entry
/// and says what deleting it frees; `catalog list --sort accessed` puts
/// the model last handed out first.
#[test]
fn the_command_line_reconciles_and_sorts_by_access() {
    let Some(staged) = Staged::new("removed") else {
        return;
    };
    let before = staged.step("before");
    let old = before["notes"]["commits"]["old"].as_str().unwrap();
    let detached = format!("org/kept@{}", &old[..7]);
    let cli = crate::cli_support::Cli::new();
    let hub = staged.hub();
    let hub = hub.to_str().unwrap();
    cli.ok(&["adopt", hub]);
    staged.step("prune");
    let report = cli.json(&["adopt", hub, "--sync-retire"]);
    let vanished = report["vanished"].as_array().unwrap();
    assert_eq!(vanished.len(), 1, "{report}");
    assert_eq!(vanished[0]["id"], detached.as_str());
    assert_eq!(vanished[0]["action"], "retire");
    assert!(vanished[0]["bytes_freed"].as_u64().unwrap() > 0, "{report}");
    let list = cli.json(&["list"]);
    let state = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .map(|e| e["lifecycle"].clone())
            .unwrap()
    };
    assert_eq!(state(&detached), "retired", "{list}");
    assert_eq!(state("org/kept"), "active");

    let catalog = Catalog::open(cli.root()).unwrap();
    catalog.model_path("org/gone").unwrap();
    drop(catalog);
    let sorted = cli.json(&["list", "--sort", "accessed"]);
    assert_eq!(sorted[0]["id"], "org/gone", "{sorted}");
    assert!(sorted[0]["last_accessed_ms"].as_u64().is_some());
}
