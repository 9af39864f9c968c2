//! Section 2: N writer threads, the catalog (group commit) against SQLite
//! (one connection per thread).

use super::contenders::{AnyResult, sqlite_connect, sqlite_put};
use super::machine::{DiskCounters, cpu_split, disk_counters};
use super::stats::{Latencies, Table, group, median, rate, ratio, us};
use super::workload::spec;
use super::{Config, Targets, stats_delta};
use catalog_core::Catalog;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// Process CPU seconds (all, and in user space), wall seconds, device
    /// flushes over every run.
    cpu: f64,
    user: f64,
    wall: f64,
    flushes: u64,
    puts: u64,
    per_sec: Vec<f64>,
    lat: Latencies,
    ops: u64,
    fsyncs: u64,
    batches: u64,
}

impl ThreadSeries {
    fn cpu_per_put_ns(&self) -> f64 {
        self.cpu * 1e9 / self.puts.max(1) as f64
    }

    fn user_per_put_ns(&self) -> f64 {
        self.user * 1e9 / self.puts.max(1) as f64
    }
}

/// Process CPU time and device flushes across one run.
struct Probe<'a> {
    dev: Option<&'a str>,
    cpu: (f64, f64),
    disk: Option<DiskCounters>,
}

impl<'a> Probe<'a> {
    fn start(dev: Option<&'a str>) -> Probe<'a> {
        Probe {
            dev,
            cpu: cpu_split(),
            disk: dev.and_then(disk_counters),
        }
    }

    fn stop(self, s: &mut ThreadSeries, r: &RunOut) {
        let (user, system) = cpu_split();
        s.cpu += user + system - self.cpu.0 - self.cpu.1;
        s.user += user - self.cpu.0;
        s.wall += r.wall;
        s.puts += r.ops;
        if let (Some(a), Some(b)) = (self.disk, self.dev.and_then(disk_counters)) {
            s.flushes += b.flushes - a.flushes;
        }
    }
}

pub fn section_threads(
    cfg: &Config,
    catalog: &Catalog,
    sqlite: &Path,
    size: u64,
    targets: &mut Targets,
) -> AnyResult<()> {
    let dur = Duration::from_secs_f64(cfg.thread_secs);
    let dev = super::machine::block_device(sqlite);
    let dev = dev.as_deref();
    let mut cat: BTreeMap<usize, ThreadSeries> = BTreeMap::new();
    let mut sql: BTreeMap<usize, ThreadSeries> = BTreeMap::new();
    let version = AtomicU64::new(1 << 32);
    for _round in 0..cfg.thread_rounds {
        for &n in &cfg.threads {
            // Catalog: one shared handle, group commit.
            let before = catalog.commit_stats();
            let probe = Probe::start(dev);
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
            probe.stop(s, &r);
            s.per_sec.push(r.ops as f64 / r.wall);
            s.lat.extend(&r.lat);
            s.ops += records;
            s.fsyncs += fsyncs;
            s.batches += batches;

            // SQLite: one connection per thread.
            let probe = Probe::start(dev);
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
            probe.stop(s, &r);
            s.per_sec.push(r.ops as f64 / r.wall);
            s.lat.extend(&r.lat);
            s.ops += r.ops;
        }
    }
    println!(
        "### Durable put, N writer threads, {} entries\n\n{} rounds of {:.2} s per contender and \
         thread count, interleaved (catalog N, SQLite N, catalog 2N, …). The catalog's fsyncs are \
         `commit_stats().fsyncs` (journal `fdatasync`s, rotations included); SQLite fsyncs its \
         WAL once per commit. puts/s: median round. CPU per put is the whole process's CPU time \
         (every thread, user + system, fsync work in the kernel included) over the puts, and \
         its user-space part alone (the catalog's own work, and the benchmark's loop making \
         each entry); cores busy is that CPU time over the wall time; device flushes come from \
         `/proc/diskstats`.\n",
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
        "CPU µs per put",
        "user CPU µs per put",
        "cores busy",
        "device flushes per put",
        "SQLite puts/s",
        "SQLite p50 µs",
        "SQLite p99 µs",
        "SQLite CPU µs per put",
        "SQLite device flushes per put",
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
            us(c.cpu_per_put_ns()),
            us(c.user_per_put_ns()),
            format!("{:.2}", c.cpu / c.wall),
            format!("{:.3}", c.flushes as f64 / c.puts.max(1) as f64),
            rate(median(&q.per_sec)),
            us(q.lat.p50()),
            us(q.lat.p99()),
            us(q.cpu_per_put_ns()),
            format!("{:.3}", q.flushes as f64 / q.puts.max(1) as f64),
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
        targets.add(
            "16 writers ≥ 6× single-writer throughput (issue 12)",
            format!(
                "{} = {} puts/s vs {}; p50 {} µs vs {} µs",
                ratio(scale),
                rate(median(&c16.per_sec)),
                rate(one),
                us(c16.lat.p50()),
                us(cat[&1].lat.p50())
            ),
            scale >= 6.0,
        );
        targets.add(
            "user-space CPU per put at 16 writers ≤ 5 µs",
            format!(
                "{} µs user of {} µs in all, as the kernel's tick splits it (it overstates \
                 user time here: `scripts/user-cpu.sh` samples it)",
                us(c16.user_per_put_ns()),
                us(c16.cpu_per_put_ns())
            ),
            c16.user_per_put_ns() <= 5_000.0,
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
