//! `catalog events [--since SEQ] [--follow]`: the journal as a stream of
//! events, read through a read-only handle (never blocks the writer).

use super::Context;
use crate::output::{context_summary, event_json, iso_time, op_summary};
use crate::stdio;
use catalog_core::{Event, Result};
use std::process::ExitCode;
use std::time::Duration;

/// How often `--follow` looks for new records.
const POLL: Duration = Duration::from_millis(500);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Start at this sequence number (inclusive); pass the last seen `seq`
    /// plus one to resume.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    since: u64,
    /// Keep running and print new events as the writer appends them (polls
    /// every 500 ms, each poll reading only the bytes appended since the
    /// last) until interrupted.
    #[arg(long)]
    follow: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.reader()?;
    if !ctx.json
        && !stdio::line(&format!(
            "{:<8}  {:<24}  {:<9}  {:<20}  {:<40}  CONTEXT",
            "SEQ", "TIME", "KIND", "ID", "CHANGE"
        ))
    {
        return Ok(ExitCode::SUCCESS);
    }
    let mut events = catalog.events(args.since)?;
    loop {
        for event in events.by_ref() {
            let line = render(&event?, ctx.json);
            if !stdio::line(&line) {
                return Ok(ExitCode::SUCCESS); // stdout is gone (see `stdio`)
            }
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        // Resume after the last event printed: a poll reads only the bytes
        // appended since (by sequence number if that segment was pruned).
        let position = events.position();
        std::thread::sleep(POLL);
        events = catalog.events_from(&position)?;
    }
}

/// One event as a JSON line, or as a table row with fixed widths (rows are
/// printed as they come, so columns cannot be fitted to the widest cell).
fn render(e: &Event, json: bool) -> String {
    if json {
        return event_json(e).to_string();
    }
    format!(
        "{:<8}  {:<24}  {:<9}  {:<20}  {:<40}  {}",
        e.seq,
        iso_time(e.time_ms),
        e.kind(),
        e.model_id().unwrap_or("-"),
        op_summary(&e.op),
        context_summary(&e.context)
    )
}
