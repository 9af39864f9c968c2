//! Helpers for the `catalog` command-line tests: run the built binary
//! against a temporary root, never the real `~/.cache`.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the built `catalog` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_catalog");

/// A temporary catalog root, a directory for model sources (the working
/// directory of every run) and a fake `$HOME`.
pub struct Cli {
    pub root: tempfile::TempDir,
    pub src: tempfile::TempDir,
    pub home: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Cli {
        Cli {
            root: tempfile::tempdir().unwrap(),
            src: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A command with a clean environment: `$HOME` is a temporary
    /// directory, `CATALOG_ROOT` is unset, no colour; no `--root` yet.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.src.path())
            .env_remove("CATALOG_ROOT")
            .env("HOME", self.home.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `catalog --root <root> <args>`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare();
        cmd.arg("--root").arg(self.root()).args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs like [`Cli::run`], but kills the command and fails the test if
    /// it has not exited within `limit` (a command that could block, say on
    /// opening a FIFO, can never hang the suite).
    pub fn run_within(&self, limit: Duration, args: &[&str]) -> Output {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("catalog {args:?} did not exit within {limit:?} (killed)");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// Runs and asserts the exit code; returns stdout.
    pub fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "catalog {args:?}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }

    /// Runs `catalog --json <args>`, asserts success, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs `catalog --json <args>` and parses every stdout line.
    pub fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
            .collect()
    }

    /// Writes a model source file under the source directory.
    pub fn write_src(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.src.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The entry `id` as `list --json` shows it, if it is there.
    pub fn listed(&self, id: &str) -> Option<Value> {
        let list = self.json(&["list"]);
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
    }

    /// Whether anything was created under the root.
    pub fn root_is_empty(&self) -> bool {
        std::fs::read_dir(self.root()).unwrap().next().is_none()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    catalog_core::Digest::of_bytes(bytes).to_string()
}

/// Deterministic, incompressible-looking bytes.
pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The path of journal segment `n` under `root`.
pub fn segment(root: &Path, n: u64) -> PathBuf {
    root.join("catalog/journal").join(format!("{n:020}.seg"))
}
