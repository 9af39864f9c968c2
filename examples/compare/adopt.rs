//! Adoption: a Hugging Face cache snapshot of about 1 GiB (LFS shards named
//! by their SHA-256, small files by their git blob id, the snapshot made of
//! relative symlinks, as huggingface_hub lays it out) adopted with
//! `Catalog::adopt`, against `Catalog::import` of the same snapshot
//! directory (what `catalog add <dir>` does: a copy; and with
//! `--link hardlink`, which copies a snapshot of symlinks all the same),
//! and against `sha256sum` of the same blob files (reading and hashing the
//! bytes, nothing else). Every contender runs in alternating rounds into a
//! fresh catalog root, with the page cache warm. Bytes written: what the
//! catalog reports, and what the kernel counted for this process
//! (`/proc/self/io` `write_bytes`: pages it dirtied for the storage layer).

use super::contenders::AnyResult;
use super::hashing::create_file;
use super::stats::{Table, median, min, ratio, secs};
use catalog_core::{AdoptOptions, Catalog, ImportOptions, LinkMode, ModelRef, hash_file};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What the section measured (for BENCHMARKS.md).
pub struct AdoptResult {
    pub adopt_s: f64,
    pub add_s: f64,
    pub sha256sum_s: Option<f64>,
    pub adopt_written: u64,
    pub add_written: u64,
}

/// `write_bytes` of `/proc/self/io`.
pub fn write_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes: "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn git_blob_hex(bytes: &[u8]) -> String {
    catalog_core::Digest::git_blob_of_bytes(bytes).hex()
}

/// Builds `hub/models--bench--llama` with one snapshot of `shards` LFS
/// files of `shard_mib` MiB and two small git files; returns the hub, the
/// snapshot directory and the blob files.
fn build_snapshot(
    work: &Path,
    shards: usize,
    shard_mib: u64,
) -> AnyResult<(PathBuf, PathBuf, Vec<PathBuf>)> {
    let hub = work.join("hub");
    let repo = hub.join("models--bench--llama");
    let blobs = repo.join("blobs");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let snapshot = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&blobs)?;
    std::fs::create_dir_all(&snapshot)?;
    std::fs::create_dir_all(repo.join("refs"))?;
    std::fs::write(repo.join("refs/main"), commit)?;
    let mut files = Vec::new();
    for i in 0..shards {
        let tmp = blobs.join(format!("shard-{i}.tmp"));
        create_file(&tmp, shard_mib, 500 + i as u64)?;
        let hex = hash_file(&tmp, &mut |_| {})?.digest.hex();
        let blob = blobs.join(&hex);
        std::fs::rename(&tmp, &blob)?;
        let name = format!("model-{:05}-of-{shards:05}.safetensors", i + 1);
        std::os::unix::fs::symlink(format!("../../blobs/{hex}"), snapshot.join(name))?;
        files.push(blob);
    }
    for (name, bytes) in [
        (
            "config.json",
            br#"{"architectures":["LlamaForCausalLM"]}"#.to_vec(),
        ),
        ("tokenizer.json", vec![b'{'; 2 << 20]),
    ] {
        let hex = git_blob_hex(&bytes);
        let blob = blobs.join(&hex);
        std::fs::write(&blob, &bytes)?;
        std::os::unix::fs::symlink(format!("../../blobs/{hex}"), snapshot.join(name))?;
        files.push(blob);
    }
    Ok((hub, snapshot, files))
}

pub fn section(
    work: &Path,
    shards: usize,
    shard_mib: u64,
    rounds: usize,
) -> AnyResult<AdoptResult> {
    let dir = work.join("adopt");
    let (hub, snapshot, blobs) = build_snapshot(&dir, shards, shard_mib)?;
    let total: u64 = blobs
        .iter()
        .map(|b| std::fs::metadata(b).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;
    // Warm the page cache for every contender alike.
    for b in &blobs {
        hash_file(b, &mut |_| {})?;
    }
    let sha256sum = Command::new("sha256sum").arg("--version").output().is_ok();
    let names = [
        "`catalog adopt` (hard links)",
        "`catalog add <snapshot>` (copy)",
        "`catalog add <snapshot> --link hardlink`",
        "`sha256sum` of the blob files",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut reported = [0u64; 3];
    let mut kernel = [0u64; 3];
    let source = ModelRef::parse(&format!("file:{}", snapshot.display()))?;
    for round in 0..rounds {
        // adopt
        let root = dir.join(format!("root-adopt-{round}"));
        let catalog = Catalog::open(&root)?;
        let w0 = write_bytes();
        let t = Instant::now();
        let report = catalog.adopt(&hub, AdoptOptions::default(), &|_| {})?;
        times[0].push(t.elapsed().as_secs_f64());
        kernel[0] = write_bytes() - w0;
        reported[0] = report.bytes_written();
        if report.failed() || report.models.len() != 1 {
            return Err("the adoption did not adopt the snapshot".into());
        }
        drop(catalog);
        std::fs::remove_dir_all(&root)?;
        // add, copy and "hard link"
        for (i, link) in [(1, LinkMode::Copy), (2, LinkMode::HardLink)] {
            let root = dir.join(format!("root-add-{i}-{round}"));
            let catalog = Catalog::open(&root)?;
            let w0 = write_bytes();
            let t = Instant::now();
            let r = catalog.import(&source, ImportOptions::default().id("m").link(link))?;
            times[i].push(t.elapsed().as_secs_f64());
            kernel[i] = write_bytes() - w0;
            reported[i] = r.bytes_stored;
            drop(catalog);
            std::fs::remove_dir_all(&root)?;
        }
        if sha256sum {
            let t = Instant::now();
            let out = Command::new("sha256sum").args(&blobs).output()?;
            times[3].push(t.elapsed().as_secs_f64());
            if !out.status.success() {
                return Err("sha256sum failed".into());
            }
        }
    }
    println!(
        "\nOne snapshot of {shards} LFS shards × {shard_mib} MiB and 2 git files ({:.2} GiB), \
         page cache warm, {rounds} alternating rounds, each into a fresh catalog root.\n",
        total as f64 / (1u64 << 30) as f64
    );
    let mut t = Table::new(&[
        "contender",
        "median",
        "min",
        "GB/s (median)",
        "time vs adopt",
        "bytes written (reported)",
        "write_bytes (kernel)",
    ]);
    let adopt_m = median(&times[0]);
    for (i, name) in names.iter().enumerate() {
        if times[i].is_empty() {
            continue;
        }
        let m = median(&times[i]);
        t.row(vec![
            name.to_string(),
            secs(m),
            secs(min(&times[i])),
            format!("{:.2}", total as f64 / 1e9 / m),
            ratio(m / adopt_m),
            if i < 3 {
                super::stats::group(reported[i])
            } else {
                "0".into()
            },
            if i < 3 {
                super::stats::group(kernel[i])
            } else {
                "-".into()
            },
        ]);
    }
    t.print();
    std::fs::remove_dir_all(&dir)?;
    Ok(AdoptResult {
        adopt_s: adopt_m,
        add_s: median(&times[1]),
        sha256sum_s: (!times[3].is_empty()).then(|| median(&times[3])),
        adopt_written: reported[0],
        add_written: reported[1],
    })
}
