//! `catalog delete <id>`

use super::Context;
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
    let removed = catalog
        .with_context(ctx.op_context("delete"))
        .delete(&args.id)?;
    if ctx.json {
        outln!("{}", json!({ "id": args.id, "deleted": removed }));
    } else if removed {
        outln!("deleted {}", args.id);
    } else {
        outln!("{} was not in the catalog; nothing written", args.id);
    }
    Ok(ExitCode::SUCCESS)
}
