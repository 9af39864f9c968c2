//! Issue 19, attacked after the fix. Adopting a model in place reads each
//! file inside the model's directory (no symlink out of it). Verifying it
//! later opens each file "as named" (`ForeignPath::named` of
//! `local_path/<file>`): its directory, and a final symlink, are followed
//! wherever they lead. The owner of the directory replaces `w.bin` by a
//! symlink to a file they cannot read (`/etc/shadow`); `catalog verify`,
//! as root, reads it and records "digest mismatch ..., got sha256:<the
//! secret's digest>" (and its size) in the journal, which is
//! world-readable, and prints it: a digest oracle on any file root can
//! read (a six-digit PIN or a short token falls to it at once).
//!
//! Verification must refuse a file that leads out of the model's
//! directory, without reading it: the outside file's digest appears in no
//! outcome.
//!
//! Failed before the fix (the attack of 2026-12-07): the outcome names the outside file's
//! digest. Shown as root against a root-owned 0600 `TOKEN=123456` file
//! with `nobody` owning the model directory.

use catalog_core::{AdoptOptions, Catalog, Digest, VerifyOptions, VerifyResult};

#[test]
fn a_symlink_out_of_a_model_in_place_is_refused_unread() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    std::fs::write(dir.join("w.bin"), vec![7u8; 4096]).unwrap();
    let secret = base.path().join("secret");
    std::fs::write(&secret, b"TOKEN=123456\n").unwrap();
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let report = catalog
        .adopt(&dir, AdoptOptions::default().in_place(true), &|_| {})
        .unwrap();
    let id = report.models[0].id.clone();
    std::fs::remove_file(dir.join("w.bin")).unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("w.bin")).unwrap();

    let report = catalog
        .verify(&id, VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.outcome.result, VerifyResult::Fail, "{report:?}");
    let leaked = Digest::of_bytes(b"TOKEN=123456\n").to_string();
    let events: Vec<String> = catalog
        .history(&id)
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(
        !report.outcome.reason.contains(&leaked) && !events.iter().any(|e| e.contains(&leaked)),
        "the digest of a file outside the model ({leaked}) is recorded: {}",
        report.outcome.reason
    );
}
