//! Issue 19, finding N8. The files of a model registered `--in-place` stay
//! in their owner's directory, and the owner can replace one by something
//! that is not a regular file: a FIFO (an `open()` for reading waits for a
//! writer forever) or a symlink to `/dev/zero` (a read to end of file never
//! ends). `catalog verify --all` holds the writer lock while it hashes:
//! it must still finish, exit 1, and record the model as `failed` with a
//! reason saying the file is not a regular file. Likewise an in-place
//! adoption planned before a file was replaced by a FIFO finishes, and the
//! FIFO is never registered as a model file.

use catalog_core::{AdoptOptions, Catalog};
use std::path::Path;
use std::time::Duration;

/// How long anything here may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(20);

const CONFIG: &[u8] = b"{\"architectures\":[\"LlamaForCausalLM\"]}";

/// A plain model directory `model/` in `src`.
fn model_dir(src: &Path) -> std::path::PathBuf {
    let dir = src.join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), CONFIG).unwrap();
    std::fs::write(dir.join("weights.bin"), vec![7u8; 256 * 1024]).unwrap();
    dir
}

fn replace_by_fifo(file: &Path) {
    std::fs::remove_file(file).unwrap();
    rustix::fs::mkfifoat(rustix::fs::CWD, file, rustix::fs::Mode::from(0o644)).unwrap();
}

#[cfg(feature = "cli")]
fn replace_by_link_to_dev_zero(file: &Path) {
    std::fs::remove_file(file).unwrap();
    std::os::unix::fs::symlink("/dev/zero", file).unwrap();
}

#[cfg(feature = "cli")]
fn verify_all_finishes_and_fails_the_model(what: &str, replace: fn(&Path)) {
    use crate::cli_support::Cli;
    use std::time::Instant;
    let cli = Cli::new();
    let dir = model_dir(cli.src.path());
    cli.ok(&["adopt", dir.to_str().unwrap(), "--in-place"]);
    let before = cli
        .listed("model")
        .expect("the directory is adopted as `model`");
    assert_eq!(before["external"], true, "adopted in place: {before}");
    replace(&dir.join("weights.bin"));

    let mut verify = cli
        .cmd(&["--json", "verify", "--all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while verify.try_wait().unwrap().is_none() {
        if started.elapsed() > DEADLINE {
            verify.kill().unwrap();
            verify.wait().unwrap();
            panic!(
                "`catalog verify --all` with weights.bin of an in-place model replaced by \
                 {what} must finish, but it was still running (holding the writer lock) after \
                 {DEADLINE:?} and was killed"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = verify.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "`catalog verify --all` fails (exit 1) when a model's file is {what}\nstdout:\n{}\n\
         stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let after = cli.listed("model").expect("the model is still listed");
    assert_eq!(
        after["trust"], "failed",
        "the model whose weights.bin is {what} is recorded as failed: {after}"
    );
    let reason = after["last_verification"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    // A symlink that leads out of the model's directory is not followed
    // at all (FORMAT.md §11.7); a FIFO is opened without blocking and
    // refused as what it is.
    assert!(
        reason.contains("not a regular file") || reason.contains("leads out of"),
        "the recorded reason says weights.bin ({what}) is not a regular file, or a link out of \
         the model: {reason:?}"
    );
}

#[cfg(feature = "cli")]
#[test]
fn verify_all_of_an_in_place_model_whose_file_became_a_fifo_fails_it_and_finishes() {
    verify_all_finishes_and_fails_the_model("a FIFO", replace_by_fifo);
}

#[cfg(feature = "cli")]
#[test]
fn verify_all_of_an_in_place_model_whose_file_became_a_link_to_dev_zero_fails_it_and_finishes() {
    verify_all_finishes_and_fails_the_model("a symlink to /dev/zero", replace_by_link_to_dev_zero);
}

#[test]
fn an_in_place_adoption_finishes_and_never_registers_a_fifo_swapped_in_after_the_plan() {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let dir = model_dir(src.path());
    let fifo = dir.join("weights.bin");
    let catalog = Catalog::open(root.path()).unwrap();
    let opts = AdoptOptions::default().in_place(true);
    let plan = catalog.plan_adoption(&dir, &opts).unwrap();
    assert_eq!(plan.models(), 1, "the plan found the model");
    replace_by_fifo(&fifo);

    let (tx, rx) = std::sync::mpsc::channel();
    {
        let catalog = catalog.clone();
        std::thread::spawn(move || {
            let _ = tx.send(catalog.adopt_planned(plan, &opts, &|_| {}));
        });
    }
    let adopted = match rx.recv_timeout(DEADLINE) {
        Ok(adopted) => adopted,
        Err(_) => {
            // Let the stuck reader go (a writer that opens and closes the
            // FIFO gives it an end of file), so the thread ends.
            let released = rustix::fs::open(
                &fifo,
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NONBLOCK,
                rustix::fs::Mode::empty(),
            );
            drop(released);
            let _ = rx.recv_timeout(DEADLINE);
            panic!(
                "adopt_planned (in place) of a directory whose weights.bin became a FIFO after \
                 the plan must finish, but it was still running after {DEADLINE:?}"
            );
        }
    };
    for e in catalog.list() {
        assert!(
            e.files.iter().all(|f| f.path != "weights.bin")
                && !e.local_path.ends_with("weights.bin"),
            "the FIFO is never registered as a model file: {e:?} (adoption: {adopted:?})"
        );
    }
}
