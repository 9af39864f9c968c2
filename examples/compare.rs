//! The catalog against its physical limit and its alternatives, measured
//! side by side in one process on one disk, every contender acknowledging
//! a write only after an fsync. See `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release --example compare -- [--quick|--smoke] [--dir DIR] [--keep]
//!     [--only put,threads,open,lookup,rss,audit,hash,adopt,verify,dedup]
//!     [--threads 1,2,4,8,16]
//! ```
//!
//! * `--quick`: everything scaled down (about a minute).
//! * `--smoke`: every section at a size that runs in seconds — not a
//!   measurement, a check that the program runs to the end (`.ci/run`).
//! * `--dir DIR`: where the working directory is made (default: the
//!   current directory, so the disk under test is the one you run from).
//! * `--keep`: keep the working directory.
//! * `--only LIST`: run only these sections.
//! * `--threads LIST`: the writer counts of the threads section (first 1).
//!
//! Sections:
//! 1. **put**: durable upserts by one writer at 1,000 / 10,000 / 100,000
//!    existing entries: catalog `put`, raw `write` + `fdatasync` of a record
//!    of the same size (the physical limit), SQLite (WAL,
//!    `synchronous=FULL`, one transaction per upsert), the whole-file JSON
//!    index. Rounds interleave the contenders (A B C D A B C D …).
//! 2. **threads**: 1, 2, 4, 8, 16 writer threads, catalog (group commit;
//!    fsyncs counted with `Catalog::commit_stats`) against SQLite (one
//!    connection per thread, busy timeout).
//! 3. **open**: `Catalog::open` of 1,000,000 journal records without a
//!    snapshot, and of a snapshot plus 10,000 tail records, next to a plain
//!    read of the same journal bytes.
//! 4. **lookup**: `get` and `list` at 100,000 entries against SQLite
//!    `SELECT` and a plain `BTreeMap`.
//! 5. **rss**: peak resident memory at 100,000 entries, each measured in a
//!    child process (`compare child rss <kind> <path>`).
//! 6. **hash**: `hash_file` against `openssl dgst -sha256` and `sha256sum`
//!    on a 1 GiB file; `hash_files` on all cores for a multi-file model.
//! 7. **adopt**: `Catalog::adopt` of a 1 GiB Hugging Face cache snapshot
//!    against `catalog add` of the same snapshot (copy, and
//!    `--link hardlink`) and `sha256sum` of its blobs: time and bytes
//!    written.
//! 8. **verify**: two models sharing one 256 MiB file verified together
//!    (`plan_verify`, as `catalog verify --all` does), one by one, and
//!    `openssl dgst -sha256` of the file once.
//! 9. **dedup**: the import of a model whose 256 MiB weights the store
//!    already holds (bytes written, time) beside the import of new bytes.
//!
//! It ends with the targets of the benchmark issue, each met or not.

#[path = "compare/adopt.rs"]
mod adopt;
#[path = "compare/audit.rs"]
mod audit;
#[path = "compare/child.rs"]
mod child;
#[path = "compare/contenders.rs"]
mod contenders;
#[path = "compare/dedup.rs"]
mod dedup;
#[path = "compare/hashing.rs"]
mod hashing;
#[path = "compare/lookup.rs"]
mod lookup;
#[path = "compare/machine.rs"]
mod machine;
#[path = "compare/memory.rs"]
mod memory;
#[path = "compare/open.rs"]
mod open;
#[path = "compare/put.rs"]
mod put;
#[path = "compare/stats.rs"]
mod stats;
#[path = "compare/threads.rs"]
mod threads;
#[path = "compare/verify.rs"]
mod verify;
#[path = "compare/workload.rs"]
mod workload;

use catalog_core::{Catalog, CommitStats};
use contenders::{AnyResult, JsonIndex, Putter, RawLog, sqlite_create};
use stats::{Latencies, Table, group, ratio, secs, us};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use workload::spec;

// --- configuration -----------------------------------------------------------

struct Config {
    quick: bool,
    dir: PathBuf,
    keep: bool,
    only: Option<Vec<String>>,
    /// Entry counts the put section runs at; the first is the base.
    sizes: Vec<u64>,
    put_rounds: usize,
    /// Puts per contender per round (the JSON index does fewer when big).
    put_block: usize,
    threads: Vec<usize>,
    thread_rounds: usize,
    thread_secs: f64,
    open_records: u64,
    open_ids: u64,
    open_tail: u64,
    open_rounds: usize,
    build_threads: usize,
    lookup_rounds: usize,
    lookup_gets: usize,
    hash_mib: u64,
    hash_files: usize,
    hash_file_mib: u64,
    hash_rounds: usize,
    adopt_shards: usize,
    adopt_shard_mib: u64,
    adopt_rounds: usize,
    verify_mib: u64,
    dedup_mib: u64,
}

impl Config {
    fn full() -> Config {
        Config {
            quick: false,
            dir: PathBuf::from("."),
            keep: false,
            only: None,
            sizes: vec![1_000, 10_000, 100_000],
            put_rounds: 7,
            put_block: 400,
            threads: vec![1, 2, 4, 8, 16],
            thread_rounds: 5,
            thread_secs: 1.0,
            open_records: 1_000_000,
            open_ids: 100_000,
            open_tail: 10_000,
            open_rounds: 5,
            build_threads: 64,
            lookup_rounds: 7,
            lookup_gets: 100_000,
            hash_mib: 1024,
            hash_files: 8,
            hash_file_mib: 128,
            hash_rounds: 5,
            adopt_shards: 4,
            adopt_shard_mib: 256,
            adopt_rounds: 5,
            verify_mib: 256,
            dedup_mib: 256,
        }
    }

    fn quick() -> Config {
        Config {
            quick: true,
            sizes: vec![1_000, 10_000],
            put_rounds: 3,
            put_block: 100,
            thread_rounds: 2,
            thread_secs: 0.25,
            open_records: 100_000,
            open_ids: 10_000,
            open_tail: 1_000,
            open_rounds: 3,
            lookup_rounds: 3,
            lookup_gets: 20_000,
            hash_mib: 256,
            hash_files: 4,
            hash_file_mib: 64,
            hash_rounds: 3,
            adopt_shard_mib: 64,
            adopt_rounds: 3,
            verify_mib: 64,
            dedup_mib: 64,
            ..Config::full()
        }
    }

    /// Every section at a size that runs in seconds: not a measurement, a
    /// check that the program still runs to the end (`.ci/run` runs it).
    fn smoke() -> Config {
        Config {
            sizes: vec![200, 1_000],
            put_rounds: 1,
            put_block: 20,
            threads: vec![1, 4],
            thread_rounds: 1,
            thread_secs: 0.05,
            open_records: 5_000,
            open_ids: 1_000,
            open_tail: 200,
            open_rounds: 1,
            build_threads: 8,
            lookup_rounds: 1,
            lookup_gets: 2_000,
            hash_mib: 16,
            hash_files: 2,
            hash_file_mib: 8,
            hash_rounds: 1,
            adopt_shards: 2,
            adopt_shard_mib: 8,
            adopt_rounds: 1,
            verify_mib: 8,
            dedup_mib: 8,
            ..Config::quick()
        }
    }

    fn runs(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == section))
    }

    /// JSON puts per round at `size` entries: each rewrites the whole index.
    fn json_block(&self, size: u64) -> usize {
        match size {
            0..=2_000 => self.put_block,
            2_001..=20_000 => (self.put_block / 10).max(10),
            _ => 3,
        }
    }
}

fn parse_args() -> AnyResult<Config> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = if raw.iter().any(|a| a == "--smoke") {
        Config::smoke()
    } else if raw.iter().any(|a| a == "--quick") {
        Config::quick()
    } else {
        Config::full()
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" | "--smoke" => {}
            "--dir" => cfg.dir = PathBuf::from(value()?),
            "--keep" => cfg.keep = true,
            "--only" => {
                cfg.only = Some(value()?.split(',').map(|s| s.trim().to_string()).collect())
            }
            "--threads" => {
                let list = value()?;
                cfg.threads = list
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("--threads {list}: {e}"))?;
                if cfg.threads.first() != Some(&1) {
                    return Err("--threads must start with 1 (the base of the ratios)".into());
                }
            }
            "-h" | "--help" => {
                println!(
                    "usage: compare [--quick|--smoke] [--dir DIR] [--keep] \
                     [--only put,threads,open,lookup,rss,audit,hash,adopt,verify,dedup] \
                     [--threads 1,2,4,8,16]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(cfg)
}

// --- helpers -------------------------------------------------------------------

/// `records` puts over `ids` models from `threads` threads; returns the
/// wall time.
fn fill_catalog(catalog: &Catalog, ids: u64, records: u64, threads: usize) -> AnyResult<f64> {
    let next = AtomicU64::new(0);
    let failed = Mutex::new(None);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= records {
                        break;
                    }
                    if let Err(e) = catalog.put(spec(k % ids, k / ids)) {
                        *failed.lock().unwrap() = Some(e.to_string());
                        break;
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e.into());
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Journal bytes (segment headers and records, all segments; not the zeros
/// the writer preallocates after the newest segment's last record) and the
/// segment paths.
fn journal(root: &Path) -> AnyResult<(u64, Vec<PathBuf>)> {
    use catalog_core::journal::record::{self, Parsed};
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("catalog/journal"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    paths.sort();
    let mut bytes = 0;
    for p in &paths {
        let data = std::fs::read(p)?;
        let mut pos = 84;
        while let Some(Parsed::Record(rec)) = data.get(pos..).map(record::parse) {
            pos += rec.frame_len();
        }
        bytes += pos as u64;
    }
    Ok((bytes, paths))
}

fn copy_dir(src: &Path, dst: &Path) -> AnyResult<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let to = dst.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), to)?;
        }
    }
    Ok(())
}

fn stats_delta(after: CommitStats, before: CommitStats) -> (u64, u64, u64) {
    (
        after.records - before.records,
        after.batches - before.batches,
        after.fsyncs - before.fsyncs,
    )
}

/// A `fdatasync` probe: `n` appends of `len` bytes, each synced.
fn fsync_probe(dir: &Path, n: usize, len: usize) -> AnyResult<Latencies> {
    let path = dir.join("fsync-probe.log");
    let mut raw = RawLog::create(&path, len)?;
    let mut lat = Latencies::default();
    for i in 0..n {
        let t = Instant::now();
        raw.put(i as u64, 0)?;
        lat.0.push(t.elapsed().as_nanos() as u64);
    }
    std::fs::remove_file(path)?;
    Ok(lat)
}

/// The targets of the issue, collected as the sections run.
#[derive(Default)]
struct Targets(Vec<(String, String, bool)>);

impl Targets {
    fn add(&mut self, target: &str, measured: String, met: bool) {
        self.0.push((target.to_string(), measured, met));
    }
}

// --- main ---------------------------------------------------------------------------------

fn main() -> AnyResult<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("child") {
        return match (argv.get(2).map(String::as_str), argv.get(3), argv.get(4)) {
            (Some("rss"), Some(kind), Some(path)) => child::rss(kind, Path::new(path)),
            (Some("open"), Some(path), times) => {
                child::child_open(Path::new(path), times.map_or(Ok(1), |t| t.parse())?)
            }
            (Some("put"), Some(path), puts) => child::child_put(
                Path::new(path),
                puts.map_or(Ok(10_000), |t| t.parse())?,
                argv.get(5).map_or(Ok(1), |t| t.parse())?,
                argv.get(6).map_or(Ok(0), |t| t.parse())?,
            ),
            (Some("get"), Some(path), gets) => {
                child::child_get(Path::new(path), gets.map_or(Ok(10_000_000), |t| t.parse())?)
            }
            _ => Err(
                "usage: compare child rss <kind> <path> | open <path> [times] | \
                      get <path> [gets] | put <path> [puts] [threads] [pause_us]"
                    .into(),
            ),
        };
    }
    let cfg = parse_args()?;
    let started = Instant::now();
    std::fs::create_dir_all(&cfg.dir)?;
    let workdir = tempfile::Builder::new()
        .prefix("compare-")
        .tempdir_in(&cfg.dir)?;
    let work = workdir.path().to_path_buf();

    println!(
        "## catalog-core comparison{}\n",
        if cfg.quick {
            " (--quick: scaled down)"
        } else {
            ""
        }
    );
    println!(
        "- CPU: {} — {} cores available, SHA-NI: {}",
        machine::cpu_model(),
        machine::cores(),
        if machine::has_cpu_flag("sha_ni") {
            "yes"
        } else {
            "no"
        }
    );
    println!(
        "- memory: {:.1} GiB; kernel {}",
        machine::mem_total_gib(),
        machine::kernel()
    );
    println!(
        "- working directory: {} — {}",
        work.display(),
        machine::filesystem(&work)
    );
    println!("- load average at start: {}", machine::load_average());
    println!(
        "- busiest processes at start: {}",
        machine::busy_processes()
    );
    let probe = fsync_probe(&work, if cfg.quick { 100 } else { 300 }, 256)?;
    println!(
        "- `write` + `fdatasync` of 256 bytes appended to a file: p50 {} µs, p99 {} µs, min {} µs",
        us(probe.p50()),
        us(probe.p99()),
        us(probe.min())
    );
    println!();
    let mut targets = Targets::default();

    // Stores at every size (catalog, SQLite, JSON), used by `put` and `threads`.
    let need_stores = cfg.runs("put") || cfg.runs("threads") || cfg.runs("rss");
    let mut stores: Vec<put::SizeStores> = Vec::new();
    if need_stores {
        let mut built = Table::new(&[
            "entries",
            "catalog fill",
            "catalog fsyncs",
            "SQLite fill",
            "JSON fill",
        ]);
        for &size in &cfg.sizes {
            let root = work.join(format!("catalog-{size}"));
            let catalog = Catalog::open(&root)?;
            let t = fill_catalog(&catalog, size, size, cfg.build_threads)?;
            let fsyncs = catalog.commit_stats().fsyncs;
            let sqlite = work.join(format!("sqlite-{size}.db"));
            let t0 = Instant::now();
            sqlite_create(&sqlite, size)?;
            let t_sql = t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let json = JsonIndex::create(&work.join(format!("json-{size}")), size)?;
            let t_json = t0.elapsed().as_secs_f64();
            built.row(vec![
                group(size),
                format!("{} ({} threads)", secs(t), cfg.build_threads),
                group(fsyncs),
                format!("{} (1 transaction)", secs(t_sql)),
                format!("{} (1 write)", secs(t_json)),
            ]);
            stores.push(put::SizeStores {
                size,
                catalog,
                sqlite,
                json,
                json_block: cfg.json_block(size),
            });
        }
        println!("Stores built (not part of any measurement):\n");
        built.print();
    }

    if cfg.runs("put") {
        let r = put::section_put(&cfg, &work, &mut stores)?;
        put::report_put(&cfg, &r, &stores, &mut targets);
    }
    if cfg.runs("threads") {
        let st = &stores[0];
        threads::section_threads(&cfg, &st.catalog, &st.sqlite, st.size, &mut targets)?;
    }
    // The stores' catalog handles hold writer locks: release them so the
    // children below can open the catalogs.
    let store_paths: Vec<(u64, PathBuf, PathBuf, PathBuf)> = stores
        .drain(..)
        .map(|s| {
            let root = s.catalog.root().to_path_buf();
            let json_dir = work.join(format!("json-{}", s.size));
            (s.size, root, s.sqlite, json_dir)
        })
        .collect();

    let need_fixtures =
        cfg.runs("open") || cfg.runs("lookup") || cfg.runs("rss") || cfg.runs("audit");
    let fixtures = if need_fixtures {
        println!("### Open fixtures\n");
        Some(open::build_open_fixtures(&cfg, &work)?)
    } else {
        None
    };
    if let (true, Some(fx)) = (cfg.runs("open"), &fixtures) {
        open::section_open(&cfg, fx, &mut targets)?;
    }
    let entries = cfg.open_ids;
    let sqlite_big = match store_paths.iter().find(|s| s.0 == entries) {
        Some(s) => s.2.clone(),
        None => {
            let p = work.join(format!("sqlite-{entries}.db"));
            if cfg.runs("lookup") || cfg.runs("rss") {
                sqlite_create(&p, entries)?;
            }
            p
        }
    };
    if let (true, Some(fx)) = (cfg.runs("lookup"), &fixtures) {
        lookup::section_lookup(&cfg, &fx.compacted, &sqlite_big, entries, &mut targets)?;
    }
    if let (true, Some(fx)) = (cfg.runs("rss"), &fixtures) {
        let mut kinds = vec![(
            "catalog, snapshot + tail".to_string(),
            "catalog",
            fx.compacted.clone(),
        )];
        if let Some(s) = store_paths.iter().find(|s| s.0 == entries) {
            kinds.push((
                "catalog, journal only (a put per entry, no snapshot)".to_string(),
                "catalog",
                s.1.clone(),
            ));
        }
        kinds.push((
            format!(
                "catalog, journal only ({} records, no snapshot)",
                group(cfg.open_records)
            ),
            "catalog",
            fx.full.clone(),
        ));
        kinds.push(("SQLite".to_string(), "sqlite", sqlite_big.clone()));
        let json_dir = match store_paths.iter().find(|s| s.0 == entries) {
            Some(s) => s.3.clone(),
            None => {
                let d = work.join(format!("json-{entries}"));
                JsonIndex::create(&d, entries)?;
                d
            }
        };
        kinds.push((
            "JSON index (parsed into a `BTreeMap`)".to_string(),
            "json",
            json_dir,
        ));
        let kinds: Vec<(&str, &str, PathBuf)> = kinds
            .iter()
            .map(|(l, k, p)| (l.as_str(), *k, p.clone()))
            .collect();
        memory::section_rss(entries, &kinds, &mut targets)?;
    }
    if let (true, Some(fx)) = (cfg.runs("audit"), &fixtures) {
        audit::section_audit(&cfg, &fx.full, &work, &mut targets)?;
    }
    if cfg.runs("hash") {
        println!("### Hashing\n");
        let h = hashing::run(
            &work,
            cfg.hash_mib,
            cfg.hash_files,
            cfg.hash_file_mib,
            cfg.hash_rounds,
        )?;
        if let (Some(x), Some(best)) = (h.vs_openssl, h.vs_openssl_best) {
            targets.add(
                "hashing ≥ 0.95× `openssl dgst -sha256` on one file",
                format!("{} (best rounds: {})", ratio(x), ratio(best)),
                x >= 0.95,
            );
        }
        targets.add(
            "multi-file models use every core",
            format!(
                "`hash_files` ran {} threads; {:.2} of {} cores busy; {} the speed of one by one",
                h.cores.min(cfg.hash_files),
                h.cores_busy,
                h.cores,
                ratio(h.parallel_speedup)
            ),
            h.cores_busy >= 0.9 * h.cores.min(cfg.hash_files) as f64,
        );
    }

    if cfg.runs("adopt") {
        println!("### Adoption\n");
        let a = adopt::section(
            &work,
            cfg.adopt_shards,
            cfg.adopt_shard_mib,
            cfg.adopt_rounds,
        )?;
        targets.add(
            "adopt of a snapshot on one file system writes no model byte",
            format!(
                "adopt wrote {} bytes, `add` {}; adopt takes {} the time of `add`",
                a.adopt_written,
                a.add_written,
                ratio(a.adopt_s / a.add_s),
            ),
            a.adopt_written == 0,
        );
        if let Some(s) = a.sha256sum_s {
            println!(
                "adopt takes {} the time of `sha256sum` of the same files (it reads each byte \
                 once, and also links, syncs and records).\n",
                ratio(a.adopt_s / s)
            );
        }
    }

    if cfg.runs("verify") {
        println!("### Verifying models that share a file\n");
        let v = verify::section(&work, cfg.verify_mib, cfg.hash_rounds)?;
        if let Some(x) = v.together_vs_openssl {
            targets.add(
                "`verify --all` of two models sharing a file ≤ 1.15× one `openssl` pass over it",
                format!(
                    "{} (one by one: {})",
                    ratio(x),
                    v.one_by_one_vs_openssl.map_or_else(|| "n/a".into(), ratio)
                ),
                x <= 1.15,
            );
        }
    }

    if cfg.runs("dedup") {
        println!("### Importing bytes the store already holds\n");
        let d = dedup::section(&work, cfg.dedup_mib, cfg.hash_rounds)?;
        targets.add(
            &format!(
                "dedup import of a {} MiB model: bytes written by the process < 16 MiB",
                cfg.dedup_mib
            ),
            format!(
                "{} bytes in {} (new bytes: {} bytes in {}{})",
                d.dedup_written,
                secs(d.dedup_s),
                d.fresh_written,
                secs(d.fresh_s),
                d.openssl_s
                    .map_or_else(String::new, |o| format!("; one openssl pass {}", secs(o)))
            ),
            d.dedup_written < 16 << 20,
        );
    }

    println!("### Targets\n");
    let mut t = Table::new(&["target", "measured", "verdict"]).left(&[1, 2]);
    for (name, measured, met) in &targets.0 {
        t.row(vec![
            name.clone(),
            measured.clone(),
            if *met { "met" } else { "**not met**" }.into(),
        ]);
    }
    t.print();
    println!(
        "Load average at end: {}; busiest processes: {}. Total time {}.",
        machine::load_average(),
        machine::busy_processes(),
        secs(started.elapsed().as_secs_f64())
    );
    if cfg.keep {
        let kept = workdir.keep();
        println!("Kept {}", kept.display());
    }
    Ok(())
}
