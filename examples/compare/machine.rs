//! What the numbers were measured on.

use std::path::Path;

fn cpuinfo_field(name: &str) -> Option<String> {
    std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    })
}

pub fn cpu_model() -> String {
    cpuinfo_field("model name").unwrap_or_else(|| "unknown".into())
}

pub fn has_cpu_flag(flag: &str) -> bool {
    cpuinfo_field("flags").is_some_and(|f| f.split_whitespace().any(|w| w == flag))
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

pub fn mem_total_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / (1024.0 * 1024.0))
}

pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// (device, file system type, mount options) of the mount holding `dir`.
fn mount_of(dir: &Path) -> Option<(String, String, String)> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && dir.starts_with(f[1])).then(|| {
                (
                    f[1].len(),
                    (f[0].to_string(), f[2].to_string(), f[3].to_string()),
                )
            })
        })
        .max_by_key(|m| m.0)
        .map(|m| m.1)
}

/// Name of the block device holding `dir` as `/proc/diskstats` spells it.
pub fn block_device(dir: &Path) -> Option<String> {
    let (dev, _, _) = mount_of(dir)?;
    dev.starts_with("/dev/")
        .then(|| dev.rsplit('/').next().unwrap_or("").to_string())
}

/// Cumulative counters of a block device (`/proc/diskstats`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskCounters {
    /// Write requests completed.
    pub writes: u64,
    /// 512-byte sectors written.
    pub sectors: u64,
    /// Flush (cache flush / FUA barrier) requests completed.
    pub flushes: u64,
}

pub fn disk_counters(dev: &str) -> Option<DiskCounters> {
    let stats = std::fs::read_to_string("/proc/diskstats").ok()?;
    let f: Vec<u64> = stats
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&dev))?
        .iter()
        .skip(3)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    Some(DiskCounters {
        writes: *f.get(4)?,
        sectors: *f.get(6)?,
        flushes: f.get(15).copied().unwrap_or(0),
    })
}

/// Device, file system type and mount options of the mount holding `dir`.
pub fn filesystem(dir: &Path) -> String {
    match mount_of(dir) {
        Some((dev, fs, opts)) => {
            let dev = dev.as_str();
            let name = dev.rsplit('/').next().unwrap_or(dev);
            let rotational = std::fs::read_to_string(format!("/sys/block/{name}/queue/rotational"))
                .map(|s| {
                    if s.trim() == "0" {
                        ", non-rotational"
                    } else {
                        ", rotational"
                    }
                })
                .unwrap_or("");
            format!("{fs} on {dev}{rotational} ({opts})")
        }
        None => "unknown".into(),
    }
}

/// The processes using the most CPU right now (`ps`), to say what else ran.
pub fn busy_processes() -> String {
    let out = std::process::Command::new("ps")
        .args(["-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"])
        .output();
    match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .take(4)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.starts_with("0.0"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => "unknown".into(),
    }
}

/// CPU seconds (user + system) this process has used, all threads.
pub fn cpu_seconds() -> f64 {
    let (user, system) = cpu_split();
    user + system
}

/// CPU seconds this process has used, all threads: (user, system).
pub fn cpu_split() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) / 100.0, ticks(12) / 100.0)
}
