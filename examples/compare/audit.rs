//! Section: audit reads on the long journal (`open_records` records over
//! `open_ids` ids, no snapshot). `history(id)` through the per-model index
//! (the first call on a handle builds it; later calls catch up and read the
//! model's own records) beside the full read it replaced (`history_scan`);
//! `entry_at` beside `state_at`; `locate` beside a scan of every entry; a
//! follower's poll for one new record, resumed at a byte offset
//! (`events_from`) beside a resume by sequence number (`events(seq)`, what
//! `--follow` did before).

use super::contenders::AnyResult;
use super::stats::{Table, group, median, ratio, secs, us};
use super::workload::{model_id, spec};
use super::{Config, Targets, copy_dir};
use catalog_core::{Catalog, ModelRef, Options};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// Seconds as microseconds, with the unit.
fn micros(s: f64) -> String {
    format!("{} µs", us(s * 1e9))
}

/// Spread sample `k` over `n` ids.
fn pick(k: u64, n: u64) -> u64 {
    k.wrapping_mul(0x9e37_79b9) % n
}

pub fn section_audit(
    cfg: &Config,
    full: &Path,
    work: &Path,
    targets: &mut Targets,
) -> AnyResult<()> {
    let root = work.join("audit");
    copy_dir(full, &root)?;
    let ids = cfg.open_ids;
    let opts = Options::default().auto_compact(None);
    let catalog = Catalog::open_with(&root, opts.clone())?;
    let records = catalog.head().seq;
    let (scan_rounds, warm_calls, locate_scans, polls, reseeks) = if cfg.quick {
        (2, 2_000, 20, 200, 10)
    } else {
        (3, 10_000, 20, 500, 20)
    };

    // The first calls build the indexes (the memory section measures what
    // they hold, in a fresh process).
    let source = |k: u64| ModelRef::parse(&spec(pick(k, ids), 0).model_ref);
    let t = Instant::now();
    let found = catalog.locate(&source(1)?);
    let locate_cold = t.elapsed().as_secs_f64();
    let id = model_id(pick(7, ids));
    let t = Instant::now();
    let first = catalog.history(&id)?;
    let cold = t.elapsed().as_secs_f64();
    if first != catalog.history_scan(&id)? {
        return Err("history(id) differs from the full read".into());
    }
    if found != catalog.locate_scan(&source(1)?) || found.len() != 1 {
        return Err("locate differs from the scan".into());
    }

    // history(id): the full read it replaced, then the index warm.
    let mut scan = Vec::new();
    for k in 0..scan_rounds {
        let id = model_id(pick(k, ids));
        let t = Instant::now();
        black_box(catalog.history_scan(&id)?);
        scan.push(t.elapsed().as_secs_f64());
    }
    let mut warm = Vec::with_capacity(warm_calls);
    let mut events = 0u64;
    for k in 0..warm_calls as u64 {
        let id = model_id(pick(k + 11, ids));
        let t = Instant::now();
        events += black_box(catalog.history(&id)?).len() as u64;
        warm.push(t.elapsed().as_secs_f64());
    }
    let warm_med = median(&warm);
    warm.sort_by(f64::total_cmp);
    let warm_p99 = warm[(warm.len() * 99 / 100).min(warm.len() - 1)];

    // entry_at(id, seq) against state_at(seq) (a replay up to seq).
    let at = records / 2;
    let id = model_id(pick(3, ids));
    let t = Instant::now();
    let expected = catalog.state_at(at)?.remove(&id);
    let state_at_s = t.elapsed().as_secs_f64();
    let mut entry_at = Vec::new();
    for k in 0..1_000u64 {
        let id = model_id(pick(k + 5, ids));
        let t = Instant::now();
        black_box(catalog.entry_at(&id, at)?);
        entry_at.push(t.elapsed().as_secs_f64());
    }
    if catalog.entry_at(&id, at)? != expected {
        return Err("entry_at differs from state_at".into());
    }

    // locate(ref) probes; the scan compares every entry's reference.
    let mut locate = Vec::new();
    for k in 0..warm_calls as u64 {
        let s = source(k + 2)?;
        let t = Instant::now();
        black_box(catalog.locate(&s));
        locate.push(t.elapsed().as_secs_f64());
    }
    let mut locate_scan = Vec::new();
    for k in 0..locate_scans {
        let s = source(k + 2)?;
        let t = Instant::now();
        black_box(catalog.locate_scan(&s));
        locate_scan.push(t.elapsed().as_secs_f64());
    }

    // A follower, caught up, polls once per new record.
    let mut cursor = catalog.events(records)?;
    for e in cursor.by_ref() {
        e?;
    }
    let mut position = cursor.position();
    let mut follow = Vec::with_capacity(polls);
    let mut reseek = Vec::with_capacity(reseeks);
    for k in 0..polls as u64 {
        catalog.put(spec(pick(k, ids), 100 + k))?;
        let t = Instant::now();
        let mut events = catalog.events_from(&position)?;
        let n = events
            .by_ref()
            .map(|e| e.map(|_| 1))
            .sum::<catalog_core::Result<usize>>()?;
        position = events.position();
        follow.push(t.elapsed().as_secs_f64());
        if n != 1 {
            return Err(format!("a poll after one put saw {n} events").into());
        }
        if (k as usize) < reseeks {
            let t = Instant::now();
            let n = catalog.events(position.next_seq() - 1)?.count();
            reseek.push(t.elapsed().as_secs_f64());
            if n != 1 {
                return Err(format!("a resume by sequence number saw {n} events").into());
            }
        }
    }

    println!(
        "### Audit reads at {} records / {} ids\n\nOne process, one writer handle on a copy of the \
         long journal (no snapshot, every segment retained). `history_scan` is what `history(id)` \
         did before (every retained segment read, each record checked and decoded); the index \
         is built by the first `history` call on a handle. A follower resumes either at the byte \
         offset after the last event (`events_from`, what `catalog events --follow` polls with \
         now) or by sequence number (`events(seq)`: every segment header and the newest segment \
         read again, what it did before); each poll follows one `put`. What the indexes hold is \
         measured by the memory section (`--only rss`), in a fresh process.\n",
        group(records),
        group(ids)
    );
    let mut t = Table::new(&["read", "indexed", "baseline (same run)", "speed-up"]).left(&[1, 2]);
    let scan_med = median(&scan);
    t.row(vec![
        "`history(id)`, first call (builds the index)".into(),
        secs(cold),
        format!(
            "`history_scan`: {} (median of {scan_rounds})",
            secs(scan_med)
        ),
        ratio(scan_med / cold),
    ]);
    t.row(vec![
        format!(
            "`history(id)`, later calls ({} ids, {} events)",
            group(warm_calls as u64),
            group(events)
        ),
        format!("median {}, p99 {}", micros(warm_med), micros(warm_p99)),
        format!("`history_scan`: {}", secs(scan_med)),
        ratio(scan_med / warm_med),
    ]);
    t.row(vec![
        format!("`entry_at(id, {})`", group(at)),
        format!("median {}", micros(median(&entry_at))),
        format!("`state_at({})`: {}", group(at), secs(state_at_s)),
        ratio(state_at_s / median(&entry_at)),
    ]);
    t.row(vec![
        "`locate(ref)`, first call (builds the map)".into(),
        secs(locate_cold),
        format!("`locate_scan`: {}", micros(median(&locate_scan))),
        ratio(median(&locate_scan) / locate_cold),
    ]);
    t.row(vec![
        format!("`locate(ref)`, later calls ({})", group(warm_calls as u64)),
        format!("median {}", micros(median(&locate))),
        format!(
            "`locate_scan`: median {} of {locate_scans}",
            micros(median(&locate_scan))
        ),
        ratio(median(&locate_scan) / median(&locate)),
    ]);
    t.row(vec![
        format!("follow: one new record ({polls} polls)"),
        format!("`events_from`: median {}", micros(median(&follow))),
        format!(
            "`events(seq)`: median {} of {reseeks}",
            micros(median(&reseek))
        ),
        ratio(median(&reseek) / median(&follow)),
    ]);
    t.print();
    targets.add(
        &format!(
            "`history(id)` at {} records / {} ids ≤ 5 ms",
            group(records),
            group(ids)
        ),
        format!(
            "median {} once indexed (first call {} builds the index); a full read {}",
            micros(warm_med),
            secs(cold),
            secs(scan_med)
        ),
        warm_med <= 0.005,
    );
    targets.add(
        &format!(
            "`events --follow`: one new record at {} records ≤ 1 ms",
            group(records)
        ),
        format!(
            "median {} from the byte offset; {} resuming by sequence number",
            micros(median(&follow)),
            micros(median(&reseek))
        ),
        median(&follow) <= 0.001,
    );
    drop(catalog);
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
