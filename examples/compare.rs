//! The catalog against its physical limit and its alternatives, measured
//! side by side in one process on one disk, every contender acknowledging
//! a write only after an fsync. See `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release --example compare -- [--quick] [--dir DIR] [--keep]
//!     [--only put,threads,open,lookup,rss,hash]
//! ```
//!
//! * `--quick`: everything scaled down (about a minute), for a smoke run.
//! * `--dir DIR`: where the working directory is made (default: the
//!   current directory, so the disk under test is the one you run from).
//! * `--keep`: keep the working directory.
//! * `--only LIST`: run only these sections.
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
//!
//! It ends with the targets of the benchmark issue, each met or not.

#[path = "compare/contenders.rs"]
mod contenders;
#[path = "compare/hashing.rs"]
mod hashing;
#[path = "compare/machine.rs"]
mod machine;
#[path = "compare/rss.rs"]
mod rss;
#[path = "compare/stats.rs"]
mod stats;
#[path = "compare/workload.rs"]
mod workload;

use catalog_core::{Catalog, CommitStats, Options};
use contenders::{
    AnyResult, CatalogPutter, JsonIndex, Putter, RawLog, SqlitePutter, sqlite_connect,
    sqlite_create, sqlite_get, sqlite_list, sqlite_put,
};
use stats::{Latencies, Table, group, median, min, rate, ratio, secs, us};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};
use workload::{model_id, spec};

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
            ..Config::full()
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
    let mut cfg = if raw.iter().any(|a| a == "--quick") {
        Config::quick()
    } else {
        Config::full()
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => {}
            "--dir" => cfg.dir = PathBuf::from(value()?),
            "--keep" => cfg.keep = true,
            "--only" => {
                cfg.only = Some(value()?.split(',').map(|s| s.trim().to_string()).collect())
            }
            "-h" | "--help" => {
                println!(
                    "usage: compare [--quick] [--dir DIR] [--keep] \
                     [--only put,threads,open,lookup,rss,hash]"
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

/// Journal bytes (all segments) and the segment paths.
fn journal(root: &Path) -> AnyResult<(u64, Vec<PathBuf>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("catalog/journal"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    paths.sort();
    let mut bytes = 0;
    for p in &paths {
        bytes += std::fs::metadata(p)?.len();
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

// --- section 1: one writer, growing entry counts ------------------------------

/// On-CPU time of the calling thread, in nanoseconds
/// (`/proc/thread-self/schedstat`), or 0 if unknown.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// One contender's puts at one size.
#[derive(Default)]
struct PutSeries {
    lat: Latencies,
    /// On-CPU nanoseconds per put of the putting thread, per round.
    cpu_ns: Vec<f64>,
    /// Seconds per round for the block.
    round_secs: Vec<f64>,
    block: usize,
}

impl PutSeries {
    fn per_sec(&self) -> Vec<f64> {
        self.round_secs
            .iter()
            .map(|s| self.block as f64 / s)
            .collect()
    }
}

struct SizeStores {
    size: u64,
    catalog: Catalog,
    sqlite: PathBuf,
    json: JsonIndex,
    json_block: usize,
}

const CONTENDERS: [&str; 4] = [
    "catalog `put`",
    "raw `write`+`fdatasync` (limit)",
    "SQLite WAL FULL",
    "JSON whole-file rewrite",
];

fn time_block(
    p: &mut dyn Putter,
    size: u64,
    block: usize,
    op: &mut u64,
    series: &mut PutSeries,
) -> AnyResult<()> {
    let cpu = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..block {
        *op += 1;
        let i = op.wrapping_mul(0x9e37_79b9) % size;
        let t = Instant::now();
        p.put(i, *op)?;
        series.lat.0.push(t.elapsed().as_nanos() as u64);
    }
    series.round_secs.push(start.elapsed().as_secs_f64());
    series
        .cpu_ns
        .push((thread_cpu_ns() - cpu) as f64 / block as f64);
    series.block = block;
    Ok(())
}

struct PutResults {
    /// Per size: the four contenders' series.
    by_size: Vec<(u64, [PutSeries; 4], usize)>,
    record_len: usize,
}

fn section_put(cfg: &Config, work: &Path, stores: &mut [SizeStores]) -> AnyResult<PutResults> {
    // The raw record is exactly as long as the catalog's average record.
    let base = &stores[0];
    let (bytes, segs) = journal(base.catalog.root())?;
    let records = base.catalog.commit_stats().records.max(1);
    let record_len = ((bytes - 84 * segs.len() as u64) / records) as usize;
    let mut raw = RawLog::create(&work.join("raw.log"), record_len)?;

    let mut by_size: Vec<(u64, [PutSeries; 4], usize)> = stores
        .iter()
        .map(|s| (s.size, Default::default(), s.json_block))
        .collect();
    let mut op = 0u64;
    let mut sql_conns: Vec<SqlitePutter> = stores
        .iter()
        .map(|s| sqlite_connect(&s.sqlite).map(SqlitePutter))
        .collect::<AnyResult<_>>()?;
    for _round in 0..cfg.put_rounds {
        for (k, st) in stores.iter_mut().enumerate() {
            let series = &mut by_size[k].1;
            let size = st.size;
            time_block(
                &mut CatalogPutter(&st.catalog),
                size,
                cfg.put_block,
                &mut op,
                &mut series[0],
            )?;
            time_block(&mut raw, size, cfg.put_block, &mut op, &mut series[1])?;
            time_block(
                &mut sql_conns[k],
                size,
                cfg.put_block,
                &mut op,
                &mut series[2],
            )?;
            time_block(&mut st.json, size, st.json_block, &mut op, &mut series[3])?;
        }
    }
    Ok(PutResults {
        by_size,
        record_len,
    })
}

fn report_put(cfg: &Config, r: &PutResults, stores: &[SizeStores], targets: &mut Targets) {
    let (size, series, json_block) = &r.by_size[0];
    println!(
        "### Durable put, one writer, {} existing entries\n\n{} rounds; each round runs {} upserts \
         per contender ({} for JSON), contenders interleaved. Record size {} bytes (the raw loop \
         writes exactly that much per put). Latency percentiles pool every put of every round; \
         puts/s is per round; CPU is the putting thread's on-CPU time (median round), the rest \
         of a put's latency is waiting for the disk.\n",
        group(*size),
        cfg.put_rounds,
        cfg.put_block,
        json_block,
        r.record_len
    );
    let mut t = Table::new(&[
        "contender",
        "p50 µs",
        "p99 µs",
        "min µs",
        "CPU µs per put",
        "puts/s (median round)",
        "puts/s (best round)",
        "p50 vs raw",
        "catalog speed vs this (median of per-round ratios)",
    ]);
    let cat_rounds = &series[0].round_secs;
    for (name, s) in CONTENDERS.iter().zip(series.iter()) {
        let per_round_ratio: Vec<f64> = s
            .round_secs
            .iter()
            .zip(cat_rounds)
            .map(|(theirs, ours)| (theirs / s.block as f64) / (ours / series[0].block as f64))
            .collect();
        t.row(vec![
            name.to_string(),
            us(s.lat.p50()),
            us(s.lat.p99()),
            us(s.lat.min()),
            us(median(&s.cpu_ns)),
            rate(median(&s.per_sec())),
            rate(stats::max(&s.per_sec())),
            ratio(s.lat.p50() / series[1].lat.p50()),
            ratio(median(&per_round_ratio)),
        ]);
    }
    t.print();

    let p50_ratio = series[0].lat.p50() / series[1].lat.p50();
    let round_ratio: Vec<f64> = series[0]
        .round_secs
        .iter()
        .zip(&series[1].round_secs)
        .map(|(c, r)| c / r)
        .collect();
    targets.add(
        "single-writer durable put ≤ 1.15× the raw fdatasync loop",
        format!(
            "p50 {} µs vs {} µs = {} (per-round time ratio: median {}, best {})",
            us(series[0].lat.p50()),
            us(series[1].lat.p50()),
            ratio(p50_ratio),
            ratio(median(&round_ratio)),
            ratio(min(&round_ratio))
        ),
        p50_ratio <= 1.15,
    );
    let vs_sqlite = median(&series[0].per_sec()) / median(&series[2].per_sec());
    targets.add(
        "put ≥ 1× SQLite, single writer",
        format!(
            "{} vs {} puts/s = {}",
            rate(median(&series[0].per_sec())),
            rate(median(&series[2].per_sec())),
            ratio(vs_sqlite)
        ),
        vs_sqlite >= 1.0,
    );

    println!(
        "### How put latency grows with the number of entries\n\np50 (p99) in µs, one writer, \
         same rounds as above. The JSON index rewrites the whole file on every put.\n"
    );
    let mut t = Table::new(&[
        "entries",
        "catalog",
        "raw limit",
        "SQLite",
        "JSON rewrite",
        "JSON file",
        "catalog vs raw (p50)",
        "JSON / catalog (p50)",
        "SQLite / catalog (p50)",
    ]);
    for ((size, s, _), st) in r.by_size.iter().zip(stores) {
        let cell = |x: &PutSeries| format!("{} ({})", us(x.lat.p50()), us(x.lat.p99()));
        t.row(vec![
            group(*size),
            cell(&s[0]),
            cell(&s[1]),
            cell(&s[2]),
            cell(&s[3]),
            format!("{:.1} MB", st.json.file_bytes as f64 / 1e6),
            ratio(s[0].lat.p50() / s[1].lat.p50()),
            ratio(s[3].lat.p50() / s[0].lat.p50()),
            ratio(s[2].lat.p50() / s[0].lat.p50()),
        ]);
    }
    t.print();
    if let Some((_, s, _)) = r.by_size.iter().find(|(size, _, _)| *size == 10_000) {
        let x = s[3].lat.p50() / s[0].lat.p50();
        targets.add(
            "put at 10,000 entries ≥ 100× the JSON-rewrite index",
            format!(
                "p50 {} µs vs {} µs = {}",
                us(s[0].lat.p50()),
                us(s[3].lat.p50()),
                ratio(x)
            ),
            x >= 100.0,
        );
    }
    let first = &r.by_size[0].1[0];
    let last = &r.by_size[r.by_size.len() - 1].1[0];
    println!(
        "Catalog p50 from {} to {} entries: {} µs → {} µs ({}).\n",
        group(r.by_size[0].0),
        group(r.by_size[r.by_size.len() - 1].0),
        us(first.lat.p50()),
        us(last.lat.p50()),
        ratio(last.lat.p50() / first.lat.p50())
    );
}

// --- section 2: N writer threads ---------------------------------------------------

struct RunOut {
    ops: u64,
    wall: f64,
    lat: Vec<u64>,
}

/// `n` threads, each with its own state from `setup` (made in the thread),
/// calling `op` until `dur` has passed.
fn run_threads<S>(
    n: usize,
    dur: Duration,
    setup: &(dyn Fn(usize) -> AnyResult<S> + Sync),
    op: &(dyn Fn(&mut S, usize, u64) -> AnyResult<()> + Sync),
) -> AnyResult<RunOut> {
    let barrier = Barrier::new(n + 1);
    let mut results: Vec<AnyResult<(u64, Vec<u64>)>> = Vec::new();
    let mut wall = 0.0;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let state = setup(t);
                    barrier.wait();
                    state.and_then(|mut state| {
                        let deadline = Instant::now() + dur;
                        let mut lat = Vec::with_capacity(1 << 16);
                        let mut k = 0u64;
                        while Instant::now() < deadline {
                            let t0 = Instant::now();
                            op(&mut state, t, k)?;
                            lat.push(t0.elapsed().as_nanos() as u64);
                            k += 1;
                        }
                        Ok((k, lat))
                    })
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            results.push(
                h.join()
                    .unwrap_or_else(|_| Err("writer thread panicked".into())),
            );
        }
        wall = start.elapsed().as_secs_f64();
    });
    let mut out = RunOut {
        ops: 0,
        wall,
        lat: Vec::new(),
    };
    for r in results {
        let (k, lat) = r?;
        out.ops += k;
        out.lat.extend(lat);
    }
    Ok(out)
}

#[derive(Default)]
struct ThreadSeries {
    per_sec: Vec<f64>,
    lat: Latencies,
    ops: u64,
    fsyncs: u64,
    batches: u64,
}

fn section_threads(
    cfg: &Config,
    catalog: &Catalog,
    sqlite: &Path,
    size: u64,
    targets: &mut Targets,
) -> AnyResult<()> {
    let dur = Duration::from_secs_f64(cfg.thread_secs);
    let mut cat: BTreeMap<usize, ThreadSeries> = BTreeMap::new();
    let mut sql: BTreeMap<usize, ThreadSeries> = BTreeMap::new();
    let version = AtomicU64::new(1 << 32);
    for _round in 0..cfg.thread_rounds {
        for &n in &cfg.threads {
            // Catalog: one shared handle, group commit.
            let before = catalog.commit_stats();
            let r = run_threads(
                n,
                dur,
                &|_| Ok(catalog.clone()),
                &|c: &mut Catalog, t, k| {
                    let i = (t as u64 + n as u64 * k).wrapping_mul(0x9e37_79b9) % size;
                    c.put(spec(i, version.fetch_add(1, Ordering::Relaxed)))?;
                    Ok(())
                },
            )?;
            let (records, batches, fsyncs) = stats_delta(catalog.commit_stats(), before);
            let s = cat.entry(n).or_default();
            s.per_sec.push(r.ops as f64 / r.wall);
            s.lat.extend(&r.lat);
            s.ops += records;
            s.fsyncs += fsyncs;
            s.batches += batches;

            // SQLite: one connection per thread.
            let r = run_threads(
                n,
                dur,
                &|_| sqlite_connect(sqlite),
                &|c: &mut rusqlite::Connection, t, k| {
                    let i = (t as u64 + n as u64 * k).wrapping_mul(0x9e37_79b9) % size;
                    sqlite_put(c, i, version.fetch_add(1, Ordering::Relaxed))
                },
            )?;
            let s = sql.entry(n).or_default();
            s.per_sec.push(r.ops as f64 / r.wall);
            s.lat.extend(&r.lat);
            s.ops += r.ops;
        }
    }
    println!(
        "### Durable put, N writer threads, {} entries\n\n{} rounds of {:.2} s per contender and \
         thread count, interleaved (catalog N, SQLite N, catalog 2N, …). The catalog's fsyncs are \
         `commit_stats().fsyncs` (journal `fdatasync`s, rotations included); SQLite fsyncs its \
         WAL once per commit. puts/s: median round.\n",
        group(size),
        cfg.thread_rounds,
        cfg.thread_secs
    );
    let mut t = Table::new(&[
        "threads",
        "catalog puts/s",
        "vs 1 thread",
        "p50 µs",
        "p99 µs",
        "fsyncs",
        "puts per fsync",
        "SQLite puts/s",
        "SQLite p50 µs",
        "SQLite p99 µs",
        "catalog / SQLite",
    ]);
    let one = median(&cat[&1].per_sec);
    for &n in &cfg.threads {
        let c = &cat[&n];
        let q = &sql[&n];
        t.row(vec![
            n.to_string(),
            rate(median(&c.per_sec)),
            ratio(median(&c.per_sec) / one),
            us(c.lat.p50()),
            us(c.lat.p99()),
            group(c.fsyncs),
            format!("{:.2}", c.ops as f64 / c.fsyncs.max(1) as f64),
            rate(median(&q.per_sec)),
            us(q.lat.p50()),
            us(q.lat.p99()),
            ratio(median(&c.per_sec) / median(&q.per_sec)),
        ]);
    }
    t.print();
    if let (Some(c16), Some(q16)) = (cat.get(&16), sql.get(&16)) {
        let scale = median(&c16.per_sec) / one;
        let per_fsync = c16.ops as f64 / c16.fsyncs.max(1) as f64;
        targets.add(
            "16 writers ≥ 8× single-writer throughput, ≤ 1 fsync per 4 puts",
            format!(
                "{} puts/s vs {} = {}; {:.2} puts per fsync ({} puts, {} fsyncs, {} batches)",
                rate(median(&c16.per_sec)),
                rate(one),
                ratio(scale),
                per_fsync,
                group(c16.ops),
                group(c16.fsyncs),
                group(c16.batches)
            ),
            scale >= 8.0 && per_fsync >= 4.0,
        );
        let x = median(&c16.per_sec) / median(&q16.per_sec);
        targets.add(
            "put ≥ 5× SQLite at 16 writers",
            format!(
                "{} vs {} puts/s = {}",
                rate(median(&c16.per_sec)),
                rate(median(&q16.per_sec)),
                ratio(x)
            ),
            x >= 5.0,
        );
    }
    Ok(())
}

// --- section 3: open ---------------------------------------------------------------

struct OpenFixtures {
    full: PathBuf,
    compacted: PathBuf,
}

fn build_open_fixtures(cfg: &Config, work: &Path) -> AnyResult<OpenFixtures> {
    let full = work.join("open-full");
    let compacted = work.join("open-compacted");
    let catalog = Catalog::open_with(&full, Options::default().auto_compact(None))?;
    let wall = fill_catalog(&catalog, cfg.open_ids, cfg.open_records, cfg.build_threads)?;
    let st = catalog.commit_stats();
    println!(
        "Built {} records over {} ids with {} threads in {} ({} puts/s, {} fsyncs, {:.1} puts per \
         fsync).\n",
        group(st.records),
        group(cfg.open_ids),
        cfg.build_threads,
        secs(wall),
        rate(st.records as f64 / wall),
        group(st.fsyncs),
        st.records as f64 / st.fsyncs.max(1) as f64
    );
    drop(catalog);
    copy_dir(&full, &compacted)?;
    let catalog = Catalog::open_with(&compacted, Options::default().auto_compact(None))?;
    let report = catalog.compact()?;
    fill_catalog(
        &catalog,
        cfg.open_ids,
        cfg.open_tail,
        cfg.build_threads.min(16),
    )?;
    println!(
        "Copied it and compacted the copy (snapshot of {} entries, {:.1} MB), then {} more puts \
         (the tail).\n",
        group(report.entries),
        report.snapshot_bytes as f64 / 1e6,
        group(cfg.open_tail)
    );
    Ok(OpenFixtures { full, compacted })
}

fn section_open(cfg: &Config, fx: &OpenFixtures, targets: &mut Targets) -> AnyResult<()> {
    let (journal_bytes, segs) = journal(&fx.full)?;
    let mut t_full = Vec::new();
    let mut t_comp = Vec::new();
    let mut t_read = Vec::new();
    let mut replayed = (0, 0);
    let mut snap_seq = None;
    for _ in 0..cfg.open_rounds {
        let t = Instant::now();
        let c = Catalog::open(&fx.full)?;
        t_full.push(t.elapsed().as_secs_f64());
        replayed.0 = c.recovery_report().records_replayed;
        drop(c);

        let t = Instant::now();
        let c = Catalog::open(&fx.compacted)?;
        t_comp.push(t.elapsed().as_secs_f64());
        replayed.1 = c.recovery_report().records_replayed;
        snap_seq = c.recovery_report().snapshot_seq;
        drop(c);

        let t = Instant::now();
        let mut n = 0;
        for p in &segs {
            n += black_box(std::fs::read(p)?).len();
        }
        t_read.push(t.elapsed().as_secs_f64());
        assert_eq!(n as u64, journal_bytes);
    }
    println!(
        "### Open\n\n`Catalog::open` (writer: lock, recovery, one `fdatasync`), page cache warm, \
         {} rounds interleaved. Journal: {} records, {:.1} MB in {} segments.\n",
        cfg.open_rounds,
        group(cfg.open_records),
        journal_bytes as f64 / 1e6,
        segs.len()
    );
    let mut t = Table::new(&[
        "what",
        "records replayed",
        "median",
        "min",
        "vs full replay",
    ]);
    t.row(vec![
        "open, no snapshot (full replay)".into(),
        group(replayed.0),
        secs(median(&t_full)),
        secs(min(&t_full)),
        "1.00×".into(),
    ]);
    t.row(vec![
        format!(
            "open, snapshot at seq {} + tail",
            snap_seq.map_or("?".into(), group)
        ),
        group(replayed.1),
        secs(median(&t_comp)),
        secs(min(&t_comp)),
        ratio(median(&t_comp) / median(&t_full)),
    ]);
    t.row(vec![
        "baseline: `std::fs::read` of the same journal bytes".into(),
        "–".into(),
        secs(median(&t_read)),
        secs(min(&t_read)),
        ratio(median(&t_read) / median(&t_full)),
    ]);
    t.print();
    let per_record = median(&t_full) / replayed.0.max(1) as f64;
    println!(
        "Full replay: {} per record, {:.0} MB/s of journal; {} the cost of reading the bytes.\n",
        secs(per_record),
        journal_bytes as f64 / 1e6 / median(&t_full),
        ratio(median(&t_full) / median(&t_read))
    );
    let frac = median(&t_comp) / median(&t_full);
    targets.add(
        "open of a compacted catalog (snapshot + tail) ≤ 10% of the full replay",
        format!(
            "{} vs {} = {:.1}%",
            secs(median(&t_comp)),
            secs(median(&t_full)),
            frac * 100.0
        ),
        frac <= 0.10,
    );
    let full_scaled = median(&t_full) * 1_000_000.0 / cfg.open_records as f64;
    targets.add(
        "full replay of 1,000,000 records ≤ 1 s",
        if cfg.open_records == 1_000_000 {
            format!("{} (min {})", secs(median(&t_full)), secs(min(&t_full)))
        } else {
            format!(
                "{} for {} records, about {} per million (scaled down run)",
                secs(median(&t_full)),
                group(cfg.open_records),
                secs(full_scaled)
            )
        },
        full_scaled <= 1.0,
    );
    Ok(())
}

// --- section 4: lookups --------------------------------------------------------------

fn section_lookup(
    cfg: &Config,
    catalog_root: &Path,
    sqlite: &Path,
    entries: u64,
    targets: &mut Targets,
) -> AnyResult<()> {
    let catalog = Catalog::open(catalog_root)?;
    let conn = sqlite_connect(sqlite)?;
    let map: BTreeMap<String, catalog_core::ModelEntry> = catalog
        .list()
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    if catalog.len() as u64 != entries {
        return Err(format!("catalog has {} entries, not {entries}", catalog.len()).into());
    }
    let shared: BTreeMap<String, std::sync::Arc<catalog_core::ModelEntry>> = map
        .iter()
        .map(|(k, v)| (k.clone(), std::sync::Arc::new(v.clone())))
        .collect();
    let ids: Vec<String> = (0..cfg.lookup_gets as u64)
        .map(|k| model_id(k.wrapping_mul(0x9e37_79b9) % entries))
        .collect();
    let mut get = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let mut list = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..cfg.lookup_rounds {
        let t = Instant::now();
        for id in &ids {
            black_box(catalog.get(id)?);
        }
        get[0].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(sqlite_get(&conn, id)?.ok_or("missing row")?);
        }
        get[1].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(map.get(id.as_str()).cloned().ok_or("missing")?);
        }
        get[2].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(shared.get(id.as_str()).cloned().ok_or("missing")?);
        }
        get[3].push(t.elapsed().as_secs_f64() / ids.len() as f64);

        let t = Instant::now();
        let n0 = black_box(catalog.list()).len();
        list[0].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n1 = black_box(sqlite_list(&conn)?).len();
        list[1].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n2 = black_box(map.values().cloned().collect::<Vec<_>>()).len();
        list[2].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(shared.values().cloned().collect::<Vec<_>>());
        list[3].push(t.elapsed().as_secs_f64());
        if n0 as u64 != entries || n1 as u64 != entries || n2 as u64 != entries {
            return Err("list returned the wrong number of entries".into());
        }
    }
    println!(
        "### get and list at {} entries\n\n{} rounds interleaved; `get` of {} scattered ids per \
         round (an owned entry each time: the catalog clones its entry, SQLite materialises the \
         row through a cached prepared statement), `list` of every entry (ordered by id).\n",
        group(entries),
        cfg.lookup_rounds,
        group(cfg.lookup_gets as u64)
    );
    let mut t = Table::new(&[
        "contender",
        "get (median)",
        "get (min)",
        "list (median)",
        "list (min)",
        "catalog speed vs this: get",
        "list",
    ]);
    let names = [
        "catalog",
        "SQLite `SELECT`",
        "baseline: plain `BTreeMap` + clone",
        "reference: `BTreeMap` of `Arc<ModelEntry>` + `Arc` clone",
    ];
    for (k, name) in names.iter().enumerate() {
        t.row(vec![
            name.to_string(),
            secs(median(&get[k])),
            secs(min(&get[k])),
            secs(median(&list[k])),
            secs(min(&list[k])),
            ratio(median(&get[k]) / median(&get[0])),
            ratio(median(&list[k]) / median(&list[0])),
        ]);
    }
    t.print();
    let x = median(&get[1]) / median(&get[0]);
    targets.add(
        "get ≥ 20× SQLite",
        format!(
            "{} vs {} per get = {}",
            secs(median(&get[0])),
            secs(median(&get[1])),
            ratio(x)
        ),
        x >= 20.0,
    );
    Ok(())
}

// --- section 5: memory ----------------------------------------------------------------

fn section_rss(
    entries: u64,
    kinds: &[(&str, &str, PathBuf)],
    targets: &mut Targets,
) -> AnyResult<()> {
    let base = rss::measure("baseline", Path::new("."))?;
    let base_hwm = base.kib("start_hwm_kib").unwrap_or(0);
    println!(
        "### Peak memory at {} entries\n\nEach line is a fresh process (this program re-executed as \
         `compare child rss …`): it opens the store, does 1,000 gets, then lists every entry. \
         `VmHWM` (peak resident set) from `/proc/self/status`; the empty process peaks at {:.1} MiB.\n",
        group(entries),
        base_hwm as f64 / 1024.0
    );
    let mut t = Table::new(&[
        "store",
        "entries",
        "open time",
        "peak after open",
        "resident after open",
        "peak after list",
    ]);
    for (label, kind, path) in kinds {
        let r = rss::measure(kind, path)?;
        let mib = |k: &str| {
            r.kib(k)
                .map_or("?".into(), |v| format!("{:.1} MiB", v as f64 / 1024.0))
        };
        t.row(vec![
            label.to_string(),
            r.get("entries").unwrap_or("?").to_string(),
            r.get("open_ms").map_or("?".into(), |v| format!("{v} ms")),
            mib("open_hwm_kib"),
            mib("open_rss_kib"),
            mib("list_hwm_kib"),
        ]);
        if *kind == "catalog" && label.contains("snapshot") {
            let hwm = r.kib("open_hwm_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            let list = r.kib("list_hwm_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            let rss = r.kib("open_rss_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            targets.add(
                &format!("≤ 64 MiB RSS for {} entries", group(entries)),
                format!(
                    "{label}: peak {hwm:.1} MiB during open, {rss:.1} MiB resident after it, \
                     peak {list:.1} MiB once `list()` has copied every entry"
                ),
                hwm <= 64.0,
            );
        }
    }
    t.print();
    Ok(())
}

// --- main ---------------------------------------------------------------------------------

fn main() -> AnyResult<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("child") {
        return match (argv.get(2).map(String::as_str), argv.get(3), argv.get(4)) {
            (Some("rss"), Some(kind), Some(path)) => rss::child(kind, Path::new(path)),
            (Some("open"), Some(path), times) => rss::child_open(
                Path::new(path),
                times.map_or(Ok(1), |t| t.parse())?,
            ),
            (Some("get"), Some(path), gets) => rss::child_get(
                Path::new(path),
                gets.map_or(Ok(10_000_000), |t| t.parse())?,
            ),
            _ => Err("usage: compare child rss <kind> <path> | open <path> [times] | \
                      get <path> [gets]"
                .into()),
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
    let mut stores: Vec<SizeStores> = Vec::new();
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
            stores.push(SizeStores {
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
        let r = section_put(&cfg, &work, &mut stores)?;
        report_put(&cfg, &r, &stores, &mut targets);
    }
    if cfg.runs("threads") {
        let st = &stores[0];
        section_threads(&cfg, &st.catalog, &st.sqlite, st.size, &mut targets)?;
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

    let need_fixtures = cfg.runs("open") || cfg.runs("lookup") || cfg.runs("rss");
    let fixtures = if need_fixtures {
        println!("### Open fixtures\n");
        Some(build_open_fixtures(&cfg, &work)?)
    } else {
        None
    };
    if let (true, Some(fx)) = (cfg.runs("open"), &fixtures) {
        section_open(&cfg, fx, &mut targets)?;
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
        section_lookup(&cfg, &fx.compacted, &sqlite_big, entries, &mut targets)?;
    }
    if let (true, Some(fx)) = (cfg.runs("rss"), &fixtures) {
        let mut kinds = vec![(
            "catalog, snapshot + tail".to_string(),
            "catalog",
            fx.compacted.clone(),
        )];
        if let Some(s) = store_paths.iter().find(|s| s.0 == entries) {
            kinds.push((
                format!("catalog, journal only ({} records)", group(entries)),
                "catalog",
                s.1.clone(),
            ));
        }
        kinds.push((
            format!(
                "catalog, journal only ({} records)",
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
        section_rss(entries, &kinds, &mut targets)?;
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
