//! A node name belongs to one catalog: a second catalog exporting under it
//! (a reinstalled node, two nodes with one name) is refused with exit 1
//! and publishes nothing — also when both start at the same moment.

use crate::nats_support::{NatsServer, catalog, node_messages, run};
use catalog_core::{Catalog, EntrySpec};

fn make(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(dir.path()).unwrap();
    for i in 0..n {
        c.put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    dir
}

#[test]
fn a_second_catalog_under_a_taken_name_is_refused_and_publishes_nothing() {
    let server = NatsServer::start();
    let url = server.url();
    let (a, b) = (make(3), make(5));
    let export = |root: &std::path::Path, node: &str| {
        run(&mut catalog(
            root,
            &["export", "--nats", &url, "--node", node],
        ))
    };
    let (code, _, err) = export(a.path(), "n1");
    assert_eq!(code, 0, "{err}");
    let before = node_messages(&url, "n1");
    assert_eq!(before.len(), 3);

    let (code, out, err) = export(b.path(), "n1");
    assert_eq!(code, 1, "refused: {out} {err}");
    assert!(err.contains("belongs to catalog"), "{err}");
    let ours = Catalog::open_read_only(b.path()).unwrap().catalog_id();
    assert!(err.contains(&ours), "names this catalog: {err}");
    assert_eq!(
        node_messages(&url, "n1").len(),
        before.len(),
        "nothing was published"
    );

    // Two catalogs starting at once on a new name: one wins, the other is
    // refused, and the subject holds one history.
    let spawn = |root: &std::path::Path| {
        catalog(root, &["export", "--nats", &url, "--node", "n2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut x, mut y) = (spawn(a.path()), spawn(b.path()));
    let codes = [
        x.wait().unwrap().code().unwrap(),
        y.wait().unwrap().code().unwrap(),
    ];
    let mut sorted = codes;
    sorted.sort();
    assert_eq!(sorted, [0, 1], "one exporter wins the name: {codes:?}");
    let msgs = node_messages(&url, "n2");
    let ids: std::collections::BTreeSet<&str> = msgs
        .iter()
        .map(|m| m.body["catalog_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one history under n2: {ids:?}");
    let seqs: Vec<u64> = msgs
        .iter()
        .map(|m| m.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
}
