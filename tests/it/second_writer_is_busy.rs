//! Matrix row 10: one writer per root. A second writer — another process or
//! another handle — fails at once with `Busy`; when the first writer dies
//! (even by SIGKILL) the lock is free without manual cleanup. Readers are
//! never blocked.

use crate::support::{child, spec};
use catalog_core::{Catalog, Error, Options};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Child body: opens the catalog for writing and reports what happened;
/// with `CATALOG_CHILD_HOLD` it then holds the lock until killed.
#[test]
#[ignore = "child process body; run by the busy tests"]
fn child_open_writer() {
    let Ok(root) = std::env::var("CATALOG_CHILD_ROOT") else {
        return;
    };
    match Catalog::open(&root) {
        Ok(catalog) => {
            catalog.put(spec(7)).unwrap();
            println!("\nOPENED");
            if std::env::var("CATALOG_CHILD_HOLD").is_ok() {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        Err(Error::Busy { .. }) => println!("\nBUSY"),
        Err(other) => println!("\nERROR {other}"),
    }
}

/// The tests here run one at a time: a child forked by one test would
/// briefly share another test's open lock file until it execs (flock
/// semantics), which would make "the lock is free" flaky.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn outcome(root: &std::path::Path) -> String {
    let out = child(
        &crate::support::test_path(module_path!(), "child_open_writer"),
        &[("CATALOG_CHILD_ROOT", root.to_str().unwrap())],
    )
    .stderr(Stdio::null())
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ["OPENED", "BUSY", "ERROR"]
        .into_iter()
        .find(|w| text.contains(w))
        .unwrap_or("NOTHING")
        .to_string()
}

#[test]
fn a_second_writer_process_gets_busy_at_once() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let started = Instant::now();
    assert_eq!(outcome(dir.path()), "BUSY");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "busy is reported without waiting"
    );
    // The same process cannot open a second writer either.
    let err = Catalog::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Busy { root, .. } if root == dir.path()),
        "{err}"
    );
    assert!(
        err.to_string().contains("read-only"),
        "the message says what to do: {err}"
    );
    // Readers are not blocked by the writer.
    catalog.put(spec(1)).unwrap();
    assert!(
        Catalog::open_read_only(dir.path())
            .unwrap()
            .exists("model-0001")
    );
    drop(catalog);
    assert_eq!(
        outcome(dir.path()),
        "OPENED",
        "the lock is released with the handle"
    );
}

#[test]
fn a_killed_writer_leaves_no_lock_behind() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut holder = child(
        &crate::support::test_path(module_path!(), "child_open_writer"),
        &[
            ("CATALOG_CHILD_ROOT", dir.path().to_str().unwrap()),
            ("CATALOG_CHILD_HOLD", "1"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(
        lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("OPENED")),
        "holder did not open"
    );
    assert!(matches!(Catalog::open(dir.path()), Err(Error::Busy { .. })));
    // Waiting with a timeout also ends in Busy while the holder lives.
    let opts = Options::default().lock_wait(Duration::from_millis(100));
    assert!(matches!(
        Catalog::open_with(dir.path(), opts),
        Err(Error::Busy { .. })
    ));

    holder.kill().unwrap(); // SIGKILL: no destructor runs
    holder.wait().unwrap();
    let catalog = Catalog::open(dir.path()).expect("lock released by the kernel");
    assert!(
        catalog.exists("model-0007"),
        "the killed writer's acknowledged put is there"
    );
}

#[test]
fn a_waiting_writer_gets_the_lock_when_it_is_released() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let first = Catalog::open(dir.path()).unwrap();
    let root = dir.path().to_path_buf();
    let waiter = std::thread::spawn(move || {
        Catalog::open_with(&root, Options::default().lock_wait(Duration::from_secs(30)))
    });
    std::thread::sleep(Duration::from_millis(50));
    first.put(spec(1)).unwrap();
    drop(first);
    let second = waiter.join().unwrap().expect("waited for the lock");
    assert!(second.exists("model-0001"));
}
