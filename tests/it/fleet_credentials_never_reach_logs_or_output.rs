//! NATS credentials — a token from `NATS_TOKEN` — authenticate, and never
//! appear on stdout or stderr (logs at -vv, errors, `--json` output),
//! whether the server accepts them or not, nor when one is put in a URL
//! (which is refused: `fleet_a_server_url_with_credentials_is_refused`).

use crate::nats_support::{NatsServer, catalog, run};
use catalog_core::{Catalog, EntrySpec};

const TOKEN: &str = "s3cretTOKENvalue-9f8e7d";
const WRONG: &str = "wrongTOKENvalue-1a2b3c";

#[test]
fn tokens_authenticate_and_are_never_printed() {
    let server = NatsServer::start_with(&["--auth", TOKEN]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    Catalog::open(root)
        .unwrap()
        .put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();
    let plain = server.url();
    let in_url = format!("nats://{TOKEN}@127.0.0.1:{}", server.port);
    let wrong_url = format!("nats://{WRONG}@127.0.0.1:{}", server.port);
    let check = |out: &str, err: &str| {
        for secret in [TOKEN, WRONG] {
            assert!(!out.contains(secret), "stdout shows a credential: {out}");
            assert!(!err.contains(secret), "stderr shows a credential: {err}");
        }
    };

    let (code, out, err) = run(
        catalog(root, &["-vv", "export", "--nats", &plain, "--node", "n1"])
            .env("NATS_TOKEN", WRONG),
    );
    assert_eq!(code, 1, "a wrong token is refused: {err}");
    check(&out, &err);

    let (code, out, err) = run(&mut catalog(
        root,
        &[
            "--json", "-vv", "export", "--nats", &wrong_url, "--node", "n1",
        ],
    ));
    assert_eq!(code, 2, "a token in a URL is refused: {err}");
    check(&out, &err);

    let (code, out, err) = run(
        catalog(root, &["-vv", "export", "--nats", &plain, "--node", "n1"])
            .env("NATS_TOKEN", TOKEN),
    );
    assert_eq!(
        code, 0,
        "the token from the environment authenticates: {err}"
    );
    check(&out, &err);

    let (code, out, err) = run(catalog(
        root,
        &["--json", "-vv", "export", "--nats", &plain, "--node", "n1"],
    )
    .env("NATS_TOKEN", TOKEN));
    assert_eq!(code, 0, "{err}");
    check(&out, &err);
    assert!(out.contains(&plain), "the server is named: {out}");

    for (args, token) in [
        (
            vec!["--json", "-vv", "fleet", "ls", "--nats", &plain],
            TOKEN,
        ),
        (
            vec!["-vv", "fleet", "history", "m", "--nats", &plain],
            TOKEN,
        ),
        (vec!["--json", "fleet", "ls", "--nats", &plain], WRONG),
        (vec!["--json", "fleet", "ls", "--nats", &in_url], TOKEN),
    ] {
        let (_, out, err) = run(catalog(root, &args).env("NATS_TOKEN", token));
        check(&out, &err);
    }
}
