//! Hashing: one large file with
//! `hash_file`, `openssl dgst -sha256` and `sha256sum` in alternating
//! rounds, then a multi-file model with `hash_files` on every core, one by
//! one, and one `openssl` process. Also the CPU time `hash_files` used, to
//! show how many cores were busy.

use super::contenders::AnyResult;
use super::stats::{Table, median, min, ratio, secs};
use catalog_core::{Digest, hash_file, hash_files};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub struct HashingResult {
    /// hash_file speed / openssl speed (medians), if openssl ran.
    pub vs_openssl: Option<f64>,
    /// Same, from the best rounds.
    pub vs_openssl_best: Option<f64>,
    /// Cores busy during `hash_files` (CPU time / wall time, median round).
    pub cores_busy: f64,
    pub cores: usize,
    /// hash_files speed / one-by-one speed.
    pub parallel_speedup: f64,
}

/// Writes `mib` MiB of xorshift bytes (incompressible), then syncs.
pub fn create_file(path: &Path, mib: u64, seed: u64) -> AnyResult<()> {
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

pub struct Tool {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
}

pub const OPENSSL: Tool = Tool {
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
    pub fn probe(&self) -> Option<String> {
        let out = Command::new(self.program).arg("--version").output().ok();
        let out = match out {
            Some(out) if out.status.success() => out,
            _ => Command::new(self.program).arg("version").output().ok()?,
        };
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
    }

    pub fn run(&self, files: &[PathBuf]) -> AnyResult<(f64, Vec<Digest>)> {
        let start = Instant::now();
        let out = Command::new(self.program)
            .args(self.args)
            .args(files)
            .output()?;
        let secs = start.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!("{} failed", self.name).into());
        }
        let digests = String::from_utf8(out.stdout)?
            .lines()
            .map(|l| format!("sha256:{}", l.split_whitespace().next().unwrap_or("")).parse())
            .collect::<Result<Vec<Digest>, _>>()?;
        if digests.len() != files.len() {
            return Err(format!("{} printed the wrong number of digests", self.name).into());
        }
        Ok((secs, digests))
    }
}

struct Series {
    name: String,
    times: Vec<f64>,
}

fn print_series(rows: &[Series], bytes: u64, reference: Option<usize>) {
    let mut t = Table::new(&[
        "contender",
        "median",
        "min",
        "GB/s (median)",
        "speed vs openssl (median)",
        "speed vs openssl (best)",
    ]);
    for row in rows {
        let m = median(&row.times);
        let (vs, vs_best) = match reference {
            Some(r) => (
                ratio(median(&rows[r].times) / m),
                ratio(min(&rows[r].times) / min(&row.times)),
            ),
            None => ("n/a".into(), "n/a".into()),
        };
        t.row(vec![
            row.name.clone(),
            secs(m),
            secs(min(&row.times)),
            format!("{:.2}", bytes as f64 / 1e9 / m),
            vs,
            vs_best,
        ]);
    }
    t.print();
}

pub fn run(
    workdir: &Path,
    size_mib: u64,
    files_n: usize,
    file_mib: u64,
    rounds: usize,
) -> AnyResult<HashingResult> {
    let cores = super::machine::cores();
    let mut tools = Vec::new();
    for tool in [OPENSSL, SHA256SUM] {
        match tool.probe() {
            Some(v) => {
                println!("- `{}`: {v}", tool.program);
                tools.push(tool);
            }
            None => println!("- `{}` not found; skipped", tool.program),
        }
    }
    let dir = workdir.join("hashing");
    std::fs::create_dir_all(&dir)?;

    // --- one large file ---------------------------------------------------
    let big = dir.join("big.bin");
    create_file(&big, size_mib, 1)?;
    let reference = hash_file(&big, &mut |_| {})?.digest; // also warms the cache
    let mut rows = vec![Series {
        name: "catalog `hash_file`".into(),
        times: Vec::new(),
    }];
    rows.extend(tools.iter().map(|t| Series {
        name: format!("`{}`", t.name),
        times: Vec::new(),
    }));
    for _ in 0..rounds {
        let start = Instant::now();
        let got = hash_file(&big, &mut |_| {})?;
        rows[0].times.push(start.elapsed().as_secs_f64());
        if got.digest != reference {
            return Err("hash_file disagrees with itself".into());
        }
        for (i, tool) in tools.iter().enumerate() {
            let (s, d) = tool.run(std::slice::from_ref(&big))?;
            if d[0] != reference {
                return Err(format!("{} disagrees with hash_file", tool.name).into());
            }
            rows[i + 1].times.push(s);
        }
    }
    let openssl_row = tools
        .iter()
        .position(|t| t.program == "openssl")
        .map(|i| i + 1);
    println!(
        "\nOne {size_mib} MiB file, page cache warm, {rounds} alternating rounds; every digest agrees.\n"
    );
    print_series(&rows, size_mib << 20, openssl_row);
    let vs_openssl = openssl_row.map(|r| median(&rows[r].times) / median(&rows[0].times));
    let vs_openssl_best = openssl_row.map(|r| min(&rows[r].times) / min(&rows[0].times));
    std::fs::remove_file(&big)?;

    // --- a multi-file model -----------------------------------------------
    let files: Vec<PathBuf> = (0..files_n)
        .map(|i| dir.join(format!("model-{:05}-of-{files_n:05}.safetensors", i + 1)))
        .collect();
    for (i, p) in files.iter().enumerate() {
        create_file(p, file_mib, 100 + i as u64)?;
    }
    let expected: Vec<Digest> = files
        .iter()
        .map(|p| hash_file(p, &mut |_| {}).map(|d| d.digest))
        .collect::<Result<_, _>>()?;
    let threads = cores.min(files.len());
    let mut rows = vec![
        Series {
            name: format!("catalog `hash_files` ({threads} threads)"),
            times: Vec::new(),
        },
        Series {
            name: "catalog `hash_file`, one by one".into(),
            times: Vec::new(),
        },
    ];
    let openssl = tools.iter().find(|t| t.program == "openssl");
    if let Some(t) = openssl {
        rows.push(Series {
            name: format!("`{}` (1 process, all files)", t.name),
            times: Vec::new(),
        });
    }
    let mut busy = Vec::new();
    for _ in 0..rounds {
        let cpu0 = super::machine::cpu_seconds();
        let start = Instant::now();
        let parallel = hash_files(&files, 0, &|_| {});
        let wall = start.elapsed().as_secs_f64();
        busy.push((super::machine::cpu_seconds() - cpu0) / wall);
        rows[0].times.push(wall);
        for (r, want) in parallel.into_iter().zip(&expected) {
            if r?.digest != *want {
                return Err("hash_files disagrees with hash_file".into());
            }
        }
        let start = Instant::now();
        for (p, want) in files.iter().zip(&expected) {
            if hash_file(p, &mut |_| {})?.digest != *want {
                return Err("hash_file disagrees with itself".into());
            }
        }
        rows[1].times.push(start.elapsed().as_secs_f64());
        if let Some(t) = openssl {
            let (s, d) = t.run(&files)?;
            if d != expected {
                return Err("openssl disagrees on the parts".into());
            }
            rows[2].times.push(s);
        }
    }
    println!(
        "{files_n} files × {file_mib} MiB, page cache warm, {rounds} alternating rounds; every digest agrees.\n"
    );
    let reference = openssl.map(|_| 2);
    print_series(&rows, (file_mib * files_n as u64) << 20, reference);
    let cores_busy = median(&busy);
    let parallel_speedup = median(&rows[1].times) / median(&rows[0].times);
    println!(
        "`hash_files`: {:.2} cores busy on average (CPU time / wall time, median round) of {cores} available; \
         {} the speed of hashing one by one.\n",
        cores_busy,
        ratio(parallel_speedup)
    );
    for p in &files {
        std::fs::remove_file(p)?;
    }
    Ok(HashingResult {
        vs_openssl,
        vs_openssl_best,
        cores_busy,
        cores,
        parallel_speedup,
    })
}
