//! `catalog retire <id>` and `catalog activate <id>`

use super::Context;
use crate::output::{entry_json, lifecycle};
use catalog_core::{Lifecycle, Result};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id.
    id: String,
}

pub fn run(ctx: &Context, args: &Args, to: Lifecycle) -> Result<ExitCode> {
    let command = match to {
        Lifecycle::Active => "activate",
        Lifecycle::Retired => "retire",
    };
    let catalog = ctx.existing_writer()?;
    let e = catalog
        .with_context(ctx.op_context(command))
        .set_state(&args.id, to)?;
    if ctx.json {
        outln!("{}", entry_json(&e));
    } else {
        outln!("{} is {}", e.id, lifecycle(e.lifecycle));
    }
    Ok(ExitCode::SUCCESS)
}
