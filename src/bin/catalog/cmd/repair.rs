//! `catalog repair`

use super::Context;
use catalog_core::{Catalog, Error, Options, Result};
use serde_json::json;
use std::process::ExitCode;

pub fn run(ctx: &Context) -> Result<ExitCode> {
    // A root without a catalog directory is a wrong `--root`, not damage.
    if !ctx.root.join("catalog").is_dir() {
        return Err(Error::NoCatalog {
            root: std::path::absolute(&ctx.root).unwrap_or_else(|_| ctx.root.clone()),
        });
    }
    let report = Catalog::repair(&ctx.root, Options::default())?;
    if ctx.json {
        let gaps: Vec<_> = report
            .gaps
            .iter()
            .map(|g| {
                json!({ "file": g.file, "offset": g.offset, "bytes": g.bytes,
                        "lost_seqs": g.lost_seqs, "reason": g.reason })
            })
            .collect();
        outln!(
            "{}",
            json!({
                "damage_found": report.damage_found,
                "records_kept": report.records_kept,
                "gaps": gaps,
                "dropped_records": report.dropped_records,
                "quarantined_to": report.quarantined_to,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !report.damage_found {
        outln!("no damage found; nothing changed");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("kept {} records", report.records_kept);
    for g in &report.gaps {
        let lost = g
            .lost_seqs
            .map_or("none".into(), |(a, b)| format!("{a}..={b}"));
        outln!(
            "gap: {} at byte {} ({} bytes, sequences {lost}): {}",
            g.file.display(),
            g.offset,
            g.bytes,
            g.reason
        );
    }
    for (seq, why) in &report.dropped_records {
        outln!("dropped record {seq}: {why}");
    }
    if let Some(q) = &report.quarantined_to {
        outln!("original files kept in {}", q.display());
    }
    Ok(ExitCode::SUCCESS)
}
