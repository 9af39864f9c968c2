//! `catalog compact`

use super::Context;
use crate::output::human_size;
use catalog_core::Result;
use serde_json::json;
use std::process::ExitCode;

pub fn run(ctx: &Context) -> Result<ExitCode> {
    let report = ctx.existing_writer()?.compact()?;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "seq": report.seq,
                "entries": report.entries,
                "snapshot": report.snapshot,
                "snapshot_bytes": report.snapshot_bytes,
                "removed_snapshots": report.removed_snapshots,
                "removed_segments": report.removed_segments,
            })
        );
    } else if let Some(path) = &report.snapshot {
        outln!(
            "snapshot of {} entries at sequence {} ({}): {}",
            report.entries,
            report.seq,
            human_size(report.snapshot_bytes),
            path.display()
        );
    } else {
        outln!("nothing new since the snapshot at sequence {}", report.seq);
    }
    Ok(ExitCode::SUCCESS)
}
