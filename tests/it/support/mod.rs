//! Helpers shared by the integration tests.

pub mod golden;
pub mod layouts;
pub mod mem_fs;
pub mod swap_race;

use catalog_core::{Digest, EntrySpec, Lifecycle, ManifestFile, ModelEntry};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A deterministic spec for model number `i`, with every field set.
pub fn spec(i: u64) -> EntrySpec {
    let digest = Digest::of_bytes(format!("weights-{i}").as_bytes());
    let mut s = EntrySpec::new(
        format!("model-{i:04}"),
        format!("hf:org-{}/repo-{i}", i % 7),
        format!("blobs/sha256/{}", digest.hex()),
    )
    .digest(digest)
    .size_bytes(1_000 + i);
    if i.is_multiple_of(3) {
        s = s.lifecycle(Lifecycle::Retired);
    }
    if i.is_multiple_of(4) {
        s = s.files(vec![
            ManifestFile::new("config.json", Digest::of_bytes(b"config"), 6),
            ManifestFile::new(
                format!("model-0000{i}-of-00002.safetensors"),
                Digest::of_bytes(format!("shard-{i}").as_bytes()),
                500 + i,
            ),
        ]);
    }
    s
}

/// The path of journal segment `n` under `root`.
pub fn segment(root: &Path, n: u64) -> PathBuf {
    root.join("catalog/journal").join(format!("{n:020}.seg"))
}

/// The snapshot covering `seq` under `root`.
pub fn snapshot(root: &Path, seq: u64) -> PathBuf {
    root.join("catalog/snapshots")
        .join(format!("{seq:020}.snap"))
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dst = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), dst).unwrap();
        }
    }
}

/// The entries of a catalog as a map, for comparisons.
pub fn as_map(entries: Vec<ModelEntry>) -> BTreeMap<String, ModelEntry> {
    entries.into_iter().map(|e| (e.id.clone(), e)).collect()
}

/// The name the test harness gives the test `name` of the module
/// `module_path` (`module_path!()` there): the module path without the
/// test binary's crate name, as `--exact` wants it.
pub fn test_path(module_path: &str, name: &str) -> String {
    let module = module_path.split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::{name}")
}

/// A command that re-runs this test binary, executing only the ignored test
/// `name` (a child-process body), with `envs` set.
pub fn child(name: &str, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the child-process body `name` with `envs`; it prints `READY` when
/// its work starts and `DONE` when it finished. With a `delay`, the child
/// is killed (SIGKILL) that long after `READY`; without, it runs to the
/// end. Returns how long it ran after `READY` and whether it said `DONE`.
pub fn run_child_until_killed(
    name: &str,
    envs: &[(&str, &str)],
    delay: Option<std::time::Duration>,
) -> (std::time::Duration, bool) {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let mut proc = child(name, envs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = proc.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut done = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("READY") {
                let _ = tx.send(Instant::now());
            }
            done |= line.contains("DONE");
        }
        done
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("child did not start");
    if let Some(d) = delay {
        std::thread::sleep(d);
        proc.kill().unwrap(); // SIGKILL
    }
    proc.wait().unwrap();
    (ready.elapsed(), reader.join().unwrap())
}

/// A small deterministic pseudo-random generator (xorshift), so failures
/// can be replayed from the printed seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A seed from the environment (`CATALOG_TEST_SEED`) or the clock; printed
/// so that a failure can be replayed.
pub fn seed() -> u64 {
    let seed = std::env::var("CATALOG_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("seed: {seed} (set CATALOG_TEST_SEED={seed} to replay)");
    seed
}

/// The end offsets of the records in a segment's bytes, found by parsing
/// the frames (the file itself may go on with preallocated zeros).
pub fn record_ends(segment: &[u8]) -> Vec<u64> {
    use catalog_core::journal::record::{self, Parsed};
    let mut ends = Vec::new();
    let mut pos = 84;
    while let Some(Parsed::Record(rec)) = segment.get(pos..).map(record::parse) {
        pos += rec.frame_len();
        ends.push(pos as u64);
    }
    ends
}

/// The end of a segment's last record: where the next one would be written.
pub fn logical_end(segment: &[u8]) -> usize {
    record_ends(segment).last().map_or(84, |&e| e as usize)
}

/// A segment file's bytes up to its last record (without the zeros the
/// writer preallocates after it).
pub fn logical_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    bytes.truncate(logical_end(&bytes));
    bytes
}

/// Writes `tail` right after the segment's last record, over the
/// preallocated zeros, as a torn write would land.
pub fn write_at_end(path: &Path, tail: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let end = logical_end(&bytes);
    if bytes.len() < end + tail.len() {
        bytes.resize(end + tail.len(), 0);
    }
    bytes[end..end + tail.len()].copy_from_slice(tail);
    std::fs::write(path, bytes).unwrap();
}
