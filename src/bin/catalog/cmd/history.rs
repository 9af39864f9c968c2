//! `catalog history <id>`: every event of one model, oldest first, across
//! sealed segments and compactions.

use super::Context;
use crate::output::{context_summary, event_json, iso_time, op_summary, table};
use crate::stdio;
use catalog_core::{Error, Result};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id (a deleted model's history is still shown).
    id: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.reader()?;
    let events = catalog.history(&args.id)?;
    if events.is_empty() && !catalog.exists(&args.id) {
        return Err(Error::NotFound {
            id: args.id.clone(),
        });
    }
    if ctx.json {
        for e in &events {
            if !stdio::line(&event_json(e).to_string()) {
                break;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let start = catalog.history_start()?;
    if start > 1 {
        outln!("(history before sequence {start} was pruned by retention)");
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                iso_time(e.time_ms),
                e.kind().to_string(),
                op_summary(&e.op),
                context_summary(&e.context),
            ]
        })
        .collect();
    table(&["SEQ", "TIME", "KIND", "CHANGE", "CONTEXT"], &rows);
    Ok(ExitCode::SUCCESS)
}
