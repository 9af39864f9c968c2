//! `catalog delete <id>`: remove a model from the catalog, and the stored
//! files no other model uses.

use super::Context;
use crate::output::file_errors_json;
use crate::removal;
use catalog_core::Result;
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id.
    id: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.existing_writer()?;
    let report = catalog
        .with_context(ctx.op_context("delete"))
        .delete_with_report(&args.id)?;
    let errors = report.as_ref().map_or(&[][..], |r| &r.errors[..]);
    if ctx.json {
        outln!(
            "{}",
            json!({
                "id": args.id,
                "deleted": report.is_some(),
                "files_removed": report.as_ref().map_or(0, |r| r.files_removed),
                "bytes_reclaimed": report.as_ref().map_or(0, |r| r.bytes_reclaimed),
                "left_in_place": report.as_ref().map_or(0, |r| r.left_in_place),
                "errors": file_errors_json(errors),
            })
        );
    } else if let Some(r) = &report {
        outln!("deleted {}", args.id);
        if r.left_in_place > 0 {
            outln!(
                "its {} file{} left where registered in place (the catalog never removes them)",
                r.left_in_place,
                if r.left_in_place == 1 { "" } else { "s" }
            );
        }
    } else {
        outln!("{} was not in the catalog; nothing written", args.id);
    }
    Ok(removal::report(errors))
}
