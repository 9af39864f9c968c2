//! Section 1: durable puts by one writer at growing entry counts, the
//! four contenders interleaved in rounds.

use super::contenders::{
    AnyResult, CatalogPutter, JsonIndex, Putter, RawLog, RawOverwrite, SqlitePutter, sqlite_connect,
};
use super::machine::{DiskCounters, disk_counters};
use super::stats::{self, Latencies, Table, group, median, min, rate, ratio, us};
use super::{Config, Targets, journal};
use catalog_core::Catalog;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    /// Device write requests, KiB written and flushes per put, per round
    /// (the whole device: anything else writing shows up too).
    disk_writes: Vec<f64>,
    disk_kib: Vec<f64>,
    disk_flushes: Vec<f64>,
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

pub struct SizeStores {
    pub size: u64,
    pub catalog: Catalog,
    pub sqlite: PathBuf,
    pub json: JsonIndex,
    pub json_block: usize,
}

pub const N: usize = 5;

const CONTENDERS: [&str; N] = [
    "catalog `put`",
    "raw append `write`+`fdatasync` (limit)",
    "SQLite WAL FULL",
    "JSON whole-file rewrite",
    "raw overwrite of a preallocated file + `fdatasync`",
];

fn time_block(
    p: &mut dyn Putter,
    size: u64,
    block: usize,
    op: &mut u64,
    series: &mut PutSeries,
    dev: Option<&str>,
) -> AnyResult<()> {
    let disk0 = dev.and_then(disk_counters);
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
    if let (Some(a), Some(b)) = (disk0, dev.and_then(disk_counters)) {
        let per = |f: fn(&DiskCounters) -> u64| (f(&b) - f(&a)) as f64 / block as f64;
        series.disk_writes.push(per(|d| d.writes));
        series.disk_kib.push(per(|d| d.sectors) / 2.0);
        series.disk_flushes.push(per(|d| d.flushes));
    }
    series.block = block;
    Ok(())
}

pub struct PutResults {
    /// Per size: the four contenders' series.
    by_size: Vec<(u64, [PutSeries; N], usize)>,
    record_len: usize,
}

pub fn section_put(cfg: &Config, work: &Path, stores: &mut [SizeStores]) -> AnyResult<PutResults> {
    // The raw record is exactly as long as the catalog's average record.
    let base = &stores[0];
    let (bytes, segs) = journal(base.catalog.root())?;
    let records = base.catalog.commit_stats().records.max(1);
    let record_len = ((bytes - 84 * segs.len() as u64) / records) as usize;
    let mut raw = RawLog::create(&work.join("raw.log"), record_len)?;
    let mut overwrite =
        RawOverwrite::create(&work.join("raw-overwrite.log"), record_len, 64 << 20)?;
    let dev = super::machine::block_device(work);
    let dev = dev.as_deref();

    let mut by_size: Vec<(u64, [PutSeries; N], usize)> = stores
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
            let block = cfg.put_block;
            time_block(
                &mut CatalogPutter(&st.catalog),
                size,
                block,
                &mut op,
                &mut series[0],
                dev,
            )?;
            time_block(&mut raw, size, block, &mut op, &mut series[1], dev)?;
            time_block(&mut sql_conns[k], size, block, &mut op, &mut series[2], dev)?;
            time_block(
                &mut st.json,
                size,
                st.json_block,
                &mut op,
                &mut series[3],
                dev,
            )?;
            time_block(&mut overwrite, size, block, &mut op, &mut series[4], dev)?;
        }
    }
    Ok(PutResults {
        by_size,
        record_len,
    })
}

pub fn report_put(cfg: &Config, r: &PutResults, stores: &[SizeStores], targets: &mut Targets) {
    let (size, series, json_block) = &r.by_size[0];
    println!(
        "### Durable put, one writer, {} existing entries\n\n{} rounds; each round runs {} upserts \
         per contender ({} for JSON), contenders interleaved. Record size {} bytes (the raw loop \
         writes exactly that much per put). Latency percentiles pool every put of every round; \
         puts/s is per round; CPU is the putting thread's on-CPU time (median round), the rest \
         of a put's latency is waiting for the disk. Device writes, KiB and flushes per put come \
         from `/proc/diskstats` for the whole device (median round).\n",
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
        "device writes per put",
        "KiB written per put",
        "flushes per put",
        "puts/s (median round)",
        "puts/s (best round)",
        "p50 vs raw append",
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
            format!("{:.2}", median(&s.disk_writes)),
            format!("{:.1}", median(&s.disk_kib)),
            format!("{:.2}", median(&s.disk_flushes)),
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
    let p50_over = series[0].lat.p50() / series[4].lat.p50();
    println!(
        "Catalog p50 / raw overwrite of a preallocated file p50: {} (what appending costs over \
         overwriting in place on this file system).\n",
        ratio(p50_over)
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
        "raw append limit",
        "raw overwrite",
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
            cell(&s[4]),
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
                "p50 {} µs vs {} µs = {} (the raw append loop: {}; raw overwrite: {})",
                us(s[0].lat.p50()),
                us(s[3].lat.p50()),
                ratio(x),
                ratio(s[3].lat.p50() / s[1].lat.p50()),
                ratio(s[3].lat.p50() / s[4].lat.p50())
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
