//! `catalog evict <id> [--dry-run]`: remove a model and the stored files no
//! other model uses.

use super::Context;
use crate::output::{file_errors_json, human_size};
use crate::removal;
use catalog_core::Result;
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id.
    id: String,
    /// Say what would be reclaimed; write and remove nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.existing_writer()?;
    let r = catalog
        .with_context(ctx.op_context("evict"))
        .evict(&args.id, args.dry_run)?;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "id": r.id,
                "dry_run": r.dry_run,
                "bytes_reclaimed": r.bytes_reclaimed,
                "files_removed": r.files_removed,
                "shared_kept": r.shared_kept,
                "left_in_place": r.left_in_place,
                "errors": file_errors_json(&r.errors),
            })
        );
        return Ok(removal::report(&r.errors));
    }
    if r.dry_run {
        outln!(
            "would evict {}: {} reclaimed ({} bytes), {} shared object{} kept; nothing changed",
            r.id,
            human_size(r.bytes_reclaimed),
            r.bytes_reclaimed,
            r.shared_kept,
            if r.shared_kept == 1 { "" } else { "s" }
        );
    } else {
        outln!(
            "evicted {}: {} reclaimed ({} bytes), {} file{} removed, {} shared object{} kept",
            r.id,
            human_size(r.bytes_reclaimed),
            r.bytes_reclaimed,
            r.files_removed,
            if r.files_removed == 1 { "" } else { "s" },
            r.shared_kept,
            if r.shared_kept == 1 { "" } else { "s" }
        );
    }
    if r.left_in_place > 0 {
        outln!(
            "{} file{} of {} left where {} (registered in place: the catalog never removes them)",
            r.left_in_place,
            if r.left_in_place == 1 { "" } else { "s" },
            r.id,
            if r.left_in_place == 1 {
                "it is"
            } else {
                "they are"
            }
        );
    }
    Ok(removal::report(&r.errors))
}
