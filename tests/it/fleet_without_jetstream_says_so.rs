//! S12 (issue 21): against a NATS server without JetStream, `fleet ls`,
//! `fleet history` and `export` say that JetStream is not enabled and how
//! to enable it, instead of "has any node exported yet?".

use crate::nats_support::{NatsServer, catalog, run};

#[test]
fn a_server_without_jetstream_is_named_as_such() {
    let server = NatsServer::start_without_jetstream();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    catalog_core::Catalog::open(root).unwrap();
    for args in [
        vec!["fleet", "ls", "--nats", &url],
        vec!["fleet", "history", "m", "--nats", &url],
        vec!["export", "--nats", &url, "--node", "n1"],
    ] {
        let (code, out, err) = run(&mut catalog(root, &args));
        assert_eq!(code, 1, "{args:?}: {out} {err}");
        assert!(
            err.contains("JetStream is not enabled") && err.contains("-js"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("has any node exported"), "{err}");
    }
}
