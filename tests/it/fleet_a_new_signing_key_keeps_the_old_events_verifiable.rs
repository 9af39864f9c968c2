//! Issue 21 item 2, key rotation: a node whose signing key is replaced
//! (the key file removed, a new one made by the next `export --sign`)
//! names the new key in its claim and keeps the old one in
//! `old_sign_keys`, so what it signed before still verifies; a reader that
//! pinned only the new key drops the old events (`--keys` decides).

use crate::nats_support::{NatsServer, as_user, catalog, run};
use catalog_core::{Catalog, EntrySpec, Lifecycle};
use serde_json::Value;

fn export(root: &std::path::Path, url: &str) -> String {
    let (code, out, err) = run(as_user(
        &mut catalog(
            root,
            &["--json", "export", "--nats", url, "--node", "n1", "--sign"],
        ),
        "n1",
    ));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    report["sign_key"].as_str().unwrap().to_string()
}

fn verified_seqs(root: &std::path::Path, url: &str, extra: &[&str]) -> Vec<u64> {
    let mut args = vec![
        "--json", "fleet", "history", "m", "--nats", url, "--since", "24h",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(as_user(&mut catalog(root, &args), "reader"));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn the_old_key_stays_in_the_claim_and_its_events_still_verify() {
    let server = NatsServer::start_with_permissions();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(dir.path()).unwrap();
    c.put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();
    let old = export(dir.path(), &url);
    std::fs::remove_file(catalog_core::fleet::key_path(dir.path())).unwrap();
    c.set_state("m", Lifecycle::Retired).unwrap();
    let new = export(dir.path(), &url);
    assert_ne!(old, new, "a new key was made");

    let (code, out, err) = run(as_user(
        &mut catalog(
            dir.path(),
            &["--json", "fleet", "ls", "--nats", &url, "--verify"],
        ),
        "reader",
    ));
    assert_eq!(code, 0, "{err}");
    let listing: Value = serde_json::from_str(&out).unwrap();
    let node = &listing["nodes"][0];
    assert_eq!(node["sign_key"], new.as_str());
    assert_eq!(node["old_sign_keys"], serde_json::json!([old]));
    assert_eq!(listing["models"].as_array().unwrap().len(), 1, "{out}");

    assert_eq!(verified_seqs(dir.path(), &url, &["--verify"]), [1, 2]);
    let pins = dir.path().join("pins");
    std::fs::write(&pins, format!("n1 {new}\n")).unwrap();
    let pinned = pins.to_str().unwrap();
    assert_eq!(
        verified_seqs(dir.path(), &url, &["--keys", pinned]),
        [2],
        "only what the pinned key signed"
    );
    std::fs::write(&pins, format!("n1 {new}\nn1 {old}\n")).unwrap();
    assert_eq!(verified_seqs(dir.path(), &url, &["--keys", pinned]), [1, 2]);
}
