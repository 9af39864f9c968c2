//! Section 3: opening a catalog: full replay of a long journal, a snapshot
//! plus a short tail, and a plain read of the same journal bytes.

use super::contenders::AnyResult;
use super::stats::{Table, group, median, min, rate, ratio, secs};
use super::{Config, Targets, copy_dir, fill_catalog, journal};
use catalog_core::{Catalog, Options};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct OpenFixtures {
    pub full: PathBuf,
    pub compacted: PathBuf,
}

pub fn build_open_fixtures(cfg: &Config, work: &Path) -> AnyResult<OpenFixtures> {
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

pub fn section_open(cfg: &Config, fx: &OpenFixtures, targets: &mut Targets) -> AnyResult<()> {
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
        // The files, including the newest segment's preallocated zeros
        // after its last record (the records alone are `journal_bytes`).
        assert!(n as u64 >= journal_bytes, "{n} < {journal_bytes}");
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
