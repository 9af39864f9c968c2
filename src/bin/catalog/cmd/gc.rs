//! `catalog gc [--dry-run] [--grace SECS] [--max-time SECS] [--max-bytes N]`

use super::Context;
use super::progress::Progress;
use crate::output::{file_errors_json, human_size};
use crate::removal;
use catalog_core::{GcOptions, Result};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Say what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only remove unreferenced files older than this many seconds (a file
    /// an import is about to register is younger).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    grace: u64,
    /// Stop after this many seconds and report what was not reached.
    #[arg(long, value_name = "SECS")]
    max_time: Option<u64>,
    /// Size budget for the store (bytes, or with a K/M/G/T suffix, powers of
    /// 1024): evict retired models, least recently used first (last access, else last change), until the
    /// models in use fit.
    #[arg(long, value_name = "N", value_parser = parse_size)]
    max_bytes: Option<u64>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.existing_writer()?;
    let mut opts = GcOptions::default()
        .grace(Duration::from_secs(args.grace))
        .dry_run(args.dry_run);
    if let Some(secs) = args.max_time {
        opts = opts.max_time(Duration::from_secs(secs));
    }
    if let Some(bytes) = args.max_bytes {
        opts = opts.max_bytes(bytes);
    }
    let bar = Progress::count("gc", "objects examined");
    let report = catalog.gc(opts, &|n| bar.inc(n));
    bar.finish();
    let r = report?;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "dry_run": r.dry_run,
                "files_removed": r.files_removed,
                "bytes_removed": r.bytes_removed,
                "kept": r.kept,
                "kept_bytes": r.kept_bytes,
                "skipped_young": r.skipped_young,
                "not_reached": r.not_reached,
                "evicted": r.evicted,
                "evicted_bytes": r.evicted_bytes,
                "errors": file_errors_json(&r.errors),
                "restored_moved": r.restored_moved,
                "kept_moved": r.kept_moved.iter().map(|k| json!({
                    "staged": k.staged, "source": k.source, "reason": k.reason,
                })).collect::<Vec<_>>(),
                "duration_ms": r.duration_ms,
            })
        );
        return Ok(removal::report(&r.errors));
    }
    let verb = if r.dry_run { "would remove" } else { "removed" };
    outln!(
        "{verb} {} unreferenced file{} ({})",
        r.files_removed,
        if r.files_removed == 1 { "" } else { "s" },
        human_size(r.bytes_removed)
    );
    outln!(
        "kept {} object{} in use ({})",
        r.kept,
        if r.kept == 1 { "" } else { "s" },
        human_size(r.kept_bytes)
    );
    if r.skipped_young > 0 {
        outln!(
            "skipped {} unreferenced younger than the grace period ({} s)",
            r.skipped_young,
            args.grace
        );
    }
    if !r.evicted.is_empty() {
        outln!(
            "{} {} retired model{} to meet the size budget ({}): {}",
            if r.dry_run { "would evict" } else { "evicted" },
            r.evicted.len(),
            if r.evicted.len() == 1 { "" } else { "s" },
            human_size(r.evicted_bytes),
            r.evicted.join(", ")
        );
    }
    if r.not_reached > 0 {
        outln!(
            "time budget ran out: {} object{} not examined; run gc again",
            r.not_reached,
            if r.not_reached == 1 { "" } else { "s" }
        );
    }
    for source in &r.restored_moved {
        outln!(
            "put back {} (moved in by an import that did not finish)",
            source.display()
        );
    }
    for k in &r.kept_moved {
        outln!(
            "kept {}: moved in from {} by an import that did not finish, not put back ({}); \
             never removed — move it where you want it",
            k.staged.display(),
            k.source.display(),
            k.reason
        );
    }
    outln!("done in {} ms", r.duration_ms);
    Ok(removal::report(&r.errors))
}

/// `1024`, `10K`, `1.5G`, `2GiB`, `512MB` (units are powers of 1024).
fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => return Err(format!("unknown size unit `{other}`; use K, M, G or T")),
    };
    let bad = || format!("`{s}` is not a size (a number of bytes, optionally with K/M/G/T)");
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(1u64 << shift).ok_or_else(bad);
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    let bytes = f * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1536"), Ok(1536));
        assert_eq!(parse_size("10K"), Ok(10 << 10));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
