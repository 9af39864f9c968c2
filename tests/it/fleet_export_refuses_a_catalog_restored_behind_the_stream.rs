//! A catalog restored from an older copy is refused (exit 1, nothing
//! published): whether its journal ends before what the stream holds, or
//! it has since written different events under the same sequence numbers
//! (which the stream would drop as duplicates, or mix in).

use crate::nats_support::{NatsServer, catalog, node_messages, run};
use crate::support::copy_dir;
use catalog_core::{Catalog, EntrySpec};

#[test]
fn a_catalog_behind_or_beside_the_stream_is_refused() {
    let server = NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let backup = dir.path().join("backup");
    let put = |root: &std::path::Path, id: &str| {
        let c = Catalog::open(root).unwrap();
        c.put(EntrySpec::new(id, "hf:org/repo", "blobs/x")).unwrap();
    };
    for i in 0..3 {
        put(&root, &format!("m{i}"));
    }
    copy_dir(&root, &backup);
    for i in 3..6 {
        put(&root, &format!("m{i}"));
    }
    let export = || {
        run(&mut catalog(
            &root,
            &["export", "--nats", &url, "--node", "n1"],
        ))
    };
    assert_eq!(export().0, 0);
    assert_eq!(node_messages(&url, "n1").len(), 6);

    // Restored: the journal ends at 3, the stream holds 6.
    std::fs::remove_dir_all(&root).unwrap();
    copy_dir(&backup, &root);
    let (code, _, err) = export();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("journal ends at 3"), "{err}");

    // And then written to: event 6 is not the stream's event 6.
    for id in ["x", "y", "z"] {
        put(&root, id);
    }
    let (code, _, err) = export();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("disagree") && err.contains("sequence 6"),
        "{err}"
    );
    let msgs = node_messages(&url, "n1");
    assert_eq!(msgs.len(), 6, "nothing was published");
    assert_eq!(msgs[5].body["id"], "m5");
}
