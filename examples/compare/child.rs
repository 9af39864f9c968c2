//! Peak memory, each measurement in its own process: the comparison
//! re-executes itself as `compare child rss <kind> <path>`, the child does
//! the work and prints its `VmHWM` / `VmRSS` from `/proc/self/status`.

use super::contenders::{
    AnyResult, JsonIndex, sqlite_connect, sqlite_count, sqlite_get, sqlite_list,
};
use super::workload::model_id;
use catalog_core::Catalog;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// (`VmHWM`, `VmRSS`) of this process, in KiB.
pub fn own_memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn report(key: &str) {
    let (hwm, rss) = own_memory_kib();
    println!("{key}_hwm_kib={hwm}");
    println!("{key}_rss_kib={rss}");
}

/// `compare child rss <kind> <path>`, in the child: `kind` is `baseline`, `catalog`, `sqlite` or `json`.
pub fn rss(kind: &str, path: &Path) -> AnyResult<()> {
    report("start");
    let started = Instant::now();
    match kind {
        "baseline" => {}
        "catalog" => {
            let catalog = Catalog::open(path)?;
            println!("open_ms={:.1}", started.elapsed().as_secs_f64() * 1e3);
            println!("entries={}", catalog.len());
            report("open");
            for i in 0..1000 {
                let _ = catalog.get(&model_id(i));
            }
            report("get");
            let all = catalog.list();
            println!("listed={}", all.len());
            report("list");
            let strings: usize = all
                .iter()
                .map(|e| 2 * e.id.len() + e.model_ref.len() + e.local_path.len())
                .sum();
            println!(
                "entry_inline_bytes={}",
                std::mem::size_of::<catalog_core::ModelEntry>()
            );
            println!(
                "key_inline_bytes={}",
                std::mem::size_of::<std::sync::Arc<str>>()
            );
            println!("entry_string_bytes={}", strings / all.len().max(1));
        }
        "catalog_indexes" => {
            // The indexes built on first use, nothing else: the map by
            // reference, then the per-model index of the retained journal.
            let catalog = Catalog::open(path)?;
            println!("open_ms={:.1}", started.elapsed().as_secs_f64() * 1e3);
            println!("entries={}", catalog.len());
            report("open");
            let source = catalog_core::ModelRef::parse(&super::workload::spec(0, 0).model_ref)?;
            std::hint::black_box(catalog.locate(&source));
            report("locate");
            std::hint::black_box(catalog.history(&model_id(0))?);
            println!("records={}", catalog.head().seq);
            report("history");
        }
        "sqlite" => {
            let conn = sqlite_connect(path)?;
            println!("entries={}", sqlite_count(&conn)?);
            println!("open_ms={:.1}", started.elapsed().as_secs_f64() * 1e3);
            report("open");
            for i in 0..1000 {
                let _ = sqlite_get(&conn, &model_id(i))?;
            }
            report("get");
            let all = sqlite_list(&conn)?;
            println!("listed={}", all.len());
            report("list");
        }
        "json" => {
            let map: BTreeMap<_, _> = JsonIndex::load(path)?;
            println!("open_ms={:.1}", started.elapsed().as_secs_f64() * 1e3);
            println!("entries={}", map.len());
            report("open");
            for i in 0..1000 {
                let _ = map.get(&model_id(i)).cloned();
            }
            report("get");
            let all: Vec<_> = map.values().cloned().collect();
            println!("listed={}", all.len());
            report("list");
        }
        other => return Err(format!("unknown child kind `{other}`").into()),
    }
    Ok(())
}

/// `compare child open <path> <times>`: opens the catalog `times` times and
/// prints each open's duration; a target for `perf record`.
pub fn child_open(path: &Path, times: usize) -> AnyResult<()> {
    for _ in 0..times {
        let started = Instant::now();
        let catalog = Catalog::open(path)?;
        println!(
            "open_ms={:.1} replayed={} entries={}",
            started.elapsed().as_secs_f64() * 1e3,
            catalog.recovery_report().records_replayed,
            catalog.len()
        );
    }
    Ok(())
}

/// `compare child get <path> <gets>`: `gets` scattered `get`s on the
/// catalog; a target for `perf record`.
pub fn child_get(path: &Path, gets: u64) -> AnyResult<()> {
    let catalog = Catalog::open(path)?;
    let n = catalog.len() as u64;
    let ids: Vec<String> = (0..4096u64)
        .map(|k| model_id(k.wrapping_mul(0x9e37_79b9) % n))
        .collect();
    let started = Instant::now();
    for k in 0..gets {
        std::hint::black_box(catalog.get(&ids[(k % 4096) as usize])?);
    }
    println!(
        "get_ns={:.0}",
        started.elapsed().as_secs_f64() * 1e9 / gets as f64
    );
    Ok(())
}

/// `compare child put <path> <puts> [threads] [pause_us]`: `threads`
/// writers putting into the catalog at `path` (created if needed), each
/// sleeping `pause_us` after every put; a target for `perf`
/// (`scripts/user-cpu.sh`).
pub fn child_put(path: &Path, puts: u64, threads: usize, pause_us: u64) -> AnyResult<()> {
    let catalog = Catalog::open(path)?;
    let next = std::sync::atomic::AtomicU64::new(0);
    let (user0, system0) = super::machine::cpu_split();
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= puts {
                        break;
                    }
                    catalog
                        .put(super::workload::spec(k % 1000, k))
                        .expect("put failed");
                    if pause_us > 0 {
                        std::thread::sleep(std::time::Duration::from_micros(pause_us));
                    }
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let (user1, system1) = super::machine::cpu_split();
    let st = catalog.commit_stats();
    // The kernel's user/system split of the process's CPU time (see
    // `scripts/user-cpu.sh` for why it overstates user time here).
    println!(
        "puts_per_sec={:.0} records={} batches={} fsyncs={} us_per_batch={:.1} \
         tick_user_us_per_put={:.2} tick_system_us_per_put={:.2}",
        puts as f64 / wall,
        st.records,
        st.batches,
        st.fsyncs,
        wall * 1e6 / st.batches.max(1) as f64,
        (user1 - user0) * 1e6 / puts.max(1) as f64,
        (system1 - system0) * 1e6 / puts.max(1) as f64
    );
    Ok(())
}

/// What a child printed, as key → value.
pub struct ChildReport(pub BTreeMap<String, String>);

impl ChildReport {
    pub fn kib(&self, key: &str) -> Option<u64> {
        self.0.get(key).and_then(|v| v.parse().ok())
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Runs `compare child rss <kind> <path>` and collects its report.
pub fn measure(kind: &str, path: &Path) -> AnyResult<ChildReport> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["child", "rss", kind])
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "child `{kind}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let map = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(ChildReport(map))
}
