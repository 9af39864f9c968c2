//! Compares catalog-core's hashing with `openssl dgst -sha256` and
//! `sha256sum` on the same files, in one run.
//!
//! ```text
//! cargo run --release --example hash_compare -- [--size-mib 1024] [--dir DIR]
//!     [--rounds 5] [--files 8] [--file-mib 128]
//! ```
//!
//! 1. One file of `--size-mib` MiB (pseudo-random bytes) under `--dir`
//!    (default: the system temp dir), page cache warmed, then `--rounds`
//!    rounds that each run `hash_file`, `openssl` and `sha256sum` in turn
//!    (alternating, so a noisy neighbour hurts all of them alike). The tools
//!    run as processes; one that is missing is skipped with a note. All
//!    digests must agree.
//! 2. `--files` files of `--file-mib` MiB hashed with `hash_files` on all
//!    cores, with `hash_file` one after another, and with one `openssl`
//!    process over all of them.
//!
//! Every file is created in a fresh directory that is deleted at the end.

use catalog_core::{Digest, hash_file, hash_files};
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type AnyResult<T> = Result<T, Box<dyn Error>>;

struct Args {
    size_mib: u64,
    dir: PathBuf,
    rounds: usize,
    files: usize,
    file_mib: u64,
}

fn parse_args() -> AnyResult<Args> {
    let mut args = Args {
        size_mib: 1024,
        dir: std::env::temp_dir(),
        rounds: 5,
        files: 8,
        file_mib: 128,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--size-mib" => args.size_mib = value()?.parse()?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "--rounds" => args.rounds = value()?.parse()?,
            "--files" => args.files = value()?.parse()?,
            "--file-mib" => args.file_mib = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: hash_compare [--size-mib 1024] [--dir DIR] [--rounds 5] \
                     [--files 8] [--file-mib 128]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    if args.rounds == 0 || args.size_mib == 0 || args.files == 0 || args.file_mib == 0 {
        return Err("sizes, counts and rounds must be at least 1".into());
    }
    Ok(args)
}

/// Writes `mib` MiB of xorshift bytes (about 1–2 GB/s, far from compressible).
fn create_file(path: &Path, mib: u64, seed: u64) -> AnyResult<()> {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        file.write_all(&chunk)?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn cpu_flags() -> String {
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let has = |f: &str| {
        flags
            .lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| l.split_whitespace().any(|w| w == f))
    };
    format!(
        "sha_ni={} avx512f={}",
        if has("sha_ni") { "yes" } else { "no" },
        if has("avx512f") { "yes" } else { "no" }
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// An external tool that prints `<hex> ...` per file (`openssl dgst -r`,
/// `sha256sum`).
struct Tool {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
}

const OPENSSL: Tool = Tool {
    name: "openssl dgst -sha256",
    program: "openssl",
    args: &["dgst", "-sha256", "-r"],
};
const SHA256SUM: Tool = Tool {
    name: "sha256sum",
    program: "sha256sum",
    args: &[],
};

impl Tool {
    /// The tool's version line, or `None` if it cannot be run.
    fn probe(&self) -> Option<String> {
        let out = Command::new(self.program).arg("--version").output().ok();
        let out = match out {
            Some(out) if out.status.success() => out,
            // openssl wants `version`, not `--version`.
            _ => Command::new(self.program).arg("version").output().ok()?,
        };
        if !out.status.success() {
            return None;
        }
        Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        )
    }

    /// Runs the tool over `files`; returns the wall time and one digest per file.
    fn run(&self, files: &[PathBuf]) -> AnyResult<(f64, Vec<Digest>)> {
        let start = Instant::now();
        let out = Command::new(self.program)
            .args(self.args)
            .args(files)
            .output()?;
        let secs = start.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!(
                "{} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let digests = String::from_utf8(out.stdout)?
            .lines()
            .map(|l| {
                let hex = l.split_whitespace().next().unwrap_or("");
                format!("sha256:{hex}").parse::<Digest>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        if digests.len() != files.len() {
            return Err(format!(
                "{} printed {} digests for {} files",
                self.name,
                digests.len(),
                files.len()
            )
            .into());
        }
        Ok((secs, digests))
    }
}

/// Median and minimum of a set of timings.
fn stats(times: &[f64]) -> (f64, f64) {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0])
}

struct Row {
    name: String,
    times: Vec<f64>,
}

fn print_table(rows: &[Row], bytes: u64, reference: Option<&str>) {
    let reference_median = reference
        .and_then(|r| rows.iter().find(|row| row.name == r))
        .map(|row| stats(&row.times).0);
    println!(
        "  {:<34} {:>10} {:>10} {:>10} {:>18}",
        "tool", "median s", "min s", "GB/s", "speed vs openssl"
    );
    for row in rows {
        let (median, min) = stats(&row.times);
        let ratio =
            reference_median.map_or_else(|| "n/a".to_string(), |r| format!("{:.2}x", r / median));
        println!(
            "  {:<34} {:>10.3} {:>10.3} {:>10.2} {:>18}",
            row.name,
            median,
            min,
            bytes as f64 / 1e9 / median,
            ratio
        );
    }
}

fn main() -> AnyResult<()> {
    let args = parse_args()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "CPU: {} — {} cores available ({})",
        cpu_model(),
        cores,
        cpu_flags()
    );
    println!("load average at start: {}", load_average());
    let mut tools = Vec::new();
    for tool in [OPENSSL, SHA256SUM] {
        match tool.probe() {
            Some(version) => {
                println!("{}: {version}", tool.program);
                tools.push(tool);
            }
            None => println!(
                "note: `{}` not found or not runnable; skipped",
                tool.program
            ),
        }
    }

    let workdir = tempfile::Builder::new()
        .prefix("hash_compare-")
        .tempdir_in(&args.dir)?;
    println!("working in {}", workdir.path().display());

    // --- one large file -------------------------------------------------
    let big = workdir.path().join("big.bin");
    let big_bytes = args.size_mib << 20;
    let t = Instant::now();
    create_file(&big, args.size_mib, 1)?;
    println!(
        "\ncreated {} MiB in {:.2} s; warming the page cache",
        args.size_mib,
        t.elapsed().as_secs_f64()
    );
    let reference = hash_file(&big, &mut |_| {})?.digest;

    let mut rows = vec![Row {
        name: "catalog hash_file".to_string(),
        times: Vec::new(),
    }];
    rows.extend(tools.iter().map(|tool| Row {
        name: tool.name.to_string(),
        times: Vec::new(),
    }));
    for _ in 0..args.rounds {
        let start = Instant::now();
        let got = hash_file(&big, &mut |_| {})?;
        rows[0].times.push(start.elapsed().as_secs_f64());
        if got.digest != reference || got.bytes != big_bytes {
            return Err(format!("hash_file disagrees with itself: {got:?}").into());
        }
        for (i, tool) in tools.iter().enumerate() {
            let (secs, digests) = tool.run(std::slice::from_ref(&big))?;
            if digests[0] != reference {
                return Err(format!(
                    "{} says {}, catalog says {reference}",
                    tool.name, digests[0]
                )
                .into());
            }
            rows[i + 1].times.push(secs);
        }
    }
    println!(
        "one {} MiB file, warm page cache, {} alternating rounds; all digests agree: {reference}",
        args.size_mib, args.rounds
    );
    print_table(
        &rows,
        big_bytes,
        tools
            .iter()
            .any(|t| t.program == "openssl")
            .then_some(OPENSSL.name),
    );
    std::fs::remove_file(&big)?;

    // --- several files ---------------------------------------------------
    let files: Vec<PathBuf> = (0..args.files)
        .map(|i| workdir.path().join(format!("part-{i}.bin")))
        .collect();
    for (i, path) in files.iter().enumerate() {
        create_file(path, args.file_mib, 100 + i as u64)?;
    }
    let threads = cores.min(files.len());
    let total_bytes = (args.file_mib * files.len() as u64) << 20;
    let expected: Vec<Digest> = files
        .iter()
        .map(|p| hash_file(p, &mut |_| {}).map(|d| d.digest))
        .collect::<Result<_, _>>()?;

    let mut rows = vec![
        Row {
            name: format!("catalog hash_files ({threads} threads)"),
            times: Vec::new(),
        },
        Row {
            name: "catalog hash_file, one by one".to_string(),
            times: Vec::new(),
        },
    ];
    let openssl = tools.iter().find(|t| t.program == "openssl");
    if let Some(tool) = openssl {
        rows.push(Row {
            name: format!("{} (1 process)", tool.name),
            times: Vec::new(),
        });
    }
    for _ in 0..args.rounds {
        let start = Instant::now();
        let parallel = hash_files(&files, 0, &|_| {});
        rows[0].times.push(start.elapsed().as_secs_f64());
        for (result, want) in parallel.into_iter().zip(&expected) {
            if result?.digest != *want {
                return Err("hash_files disagrees with hash_file".into());
            }
        }

        let start = Instant::now();
        for (path, want) in files.iter().zip(&expected) {
            if hash_file(path, &mut |_| {})?.digest != *want {
                return Err("hash_file disagrees with itself".into());
            }
        }
        rows[1].times.push(start.elapsed().as_secs_f64());

        if let Some(tool) = openssl {
            let (secs, digests) = tool.run(&files)?;
            if digests != expected {
                return Err(format!("{} disagrees with catalog on the parts", tool.name).into());
            }
            rows[2].times.push(secs);
        }
    }
    println!(
        "\n{} files x {} MiB, warm page cache, {} alternating rounds; all digests agree",
        files.len(),
        args.file_mib,
        args.rounds
    );
    print_table(&rows, total_bytes, openssl.map(|_| rows[2].name.as_str()));
    let (par, _) = stats(&rows[0].times);
    let (seq, _) = stats(&rows[1].times);
    println!(
        "  hash_files used {threads} threads (available_parallelism = {cores}): \
         {:.2}x the speed of hashing one by one",
        seq / par
    );
    if openssl.is_some() {
        let (ossl, _) = stats(&rows[2].times);
        println!("  and {:.2}x the speed of one openssl process", ossl / par);
    }

    println!("\nload average at end: {}", load_average());
    let path = workdir.path().to_path_buf();
    workdir.close()?;
    println!("removed {}", path.display());
    Ok(())
}
