//! `catalog check` tells a file that is gone from one replaced by something
//! that is not a regular file, and names what it found (issue 19, N8): an
//! in-place model's file replaced by a FIFO, a socket, a directory or a
//! link to a device; a stored blob replaced by a FIFO, with `--deep` too;
//! the catalog's own journal segment replaced by a FIFO. It never opens
//! such a file (opening a FIFO blocks until a writer comes), so every run
//! here is bounded by a timeout and exits 1.

use crate::cli_support::Cli;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs `catalog check [extra]` (bounded) and returns what it printed.
fn check_fails(cli: &Cli, extra: &[&str]) -> String {
    let mut args = vec!["check"];
    args.extend_from_slice(extra);
    let out = cli.run_within(LIMIT, &args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "check {extra:?}:\n{text}");
    text
}

#[test]
fn an_in_place_file_replaced_by_a_fifo_socket_directory_or_device_is_named_not_missing() {
    let cli = Cli::new();
    let dir = cli.src.path().join("m");
    cli.write_src("m/model.gguf", b"GGUF in place");
    cli.write_src("m/config.json", b"{}");
    cli.ok(&["adopt", "--in-place", dir.to_str().unwrap()]);
    cli.ok(&["check"]);
    let file = dir.join("model.gguf");
    type Replace = fn(&Path);
    let cases: [(&str, Replace); 4] = [
        ("is a FIFO", mkfifo),
        ("is a socket", |p| {
            // The listener is dropped; the socket file stays.
            std::os::unix::net::UnixListener::bind(p).unwrap();
        }),
        ("is a directory", |p| std::fs::create_dir(p).unwrap()),
        ("is a character device", |p| {
            std::os::unix::fs::symlink("/dev/null", p).unwrap();
        }),
    ];
    for (says, replace) in cases {
        std::fs::remove_file(&file)
            .or_else(|_| std::fs::remove_dir(&file))
            .unwrap();
        replace(&file);
        for extra in [&[][..], &["--deep"][..], &["--json"][..]] {
            let text = check_fails(&cli, extra);
            assert!(text.contains(says), "{says:?} {extra:?}:\n{text}");
            assert!(text.contains("not a regular file"), "{extra:?}:\n{text}");
            assert!(!text.contains("missing"), "{says:?} {extra:?}:\n{text}");
        }
    }
    std::fs::remove_file(&file).unwrap();
    let text = check_fails(&cli, &[]);
    assert!(text.contains("missing"), "a file that is gone:\n{text}");
}

#[test]
fn a_stored_blob_replaced_by_a_fifo_is_named_and_never_opened() {
    let cli = Cli::new();
    let bytes = b"GGUF stored weights";
    let file = cli.write_src("w.gguf", bytes);
    cli.ok(&["add", file.to_str().unwrap()]);
    let blob = cli
        .root()
        .join("blobs/sha256")
        .join(catalog_core::Digest::of_bytes(bytes).hex());
    std::fs::remove_file(&blob).unwrap();
    mkfifo(&blob);
    for extra in [&[][..], &["--deep"][..]] {
        let text = check_fails(&cli, extra);
        assert!(text.contains("is a FIFO"), "{extra:?}:\n{text}");
        assert!(!text.contains("missing"), "{extra:?}:\n{text}");
    }
}

#[test]
fn a_journal_segment_replaced_by_a_fifo_is_named_and_never_opened() {
    let cli = Cli::new();
    let file = cli.write_src("w.gguf", b"GGUF w");
    cli.ok(&["add", file.to_str().unwrap()]);
    let segment = crate::cli_support::segment(cli.root(), 1);
    std::fs::remove_file(&segment).unwrap();
    mkfifo(&segment);
    for extra in [&[][..], &["--deep"][..]] {
        let text = check_fails(&cli, extra);
        assert!(text.contains("is a FIFO"), "{extra:?}:\n{text}");
        assert!(
            text.contains("00000000000000000001.seg"),
            "{extra:?}:\n{text}"
        );
    }
}
