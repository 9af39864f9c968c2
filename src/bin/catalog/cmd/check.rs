//! `catalog check [--deep]`: tamper evidence and health, without changing
//! anything or taking the writer lock.

use super::Context;
use catalog_core::{Catalog, CheckOptions, Options, ProblemKind, Result};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also replay the whole journal against every snapshot and hash every
    /// stored file.
    #[arg(long)]
    deep: bool,
    /// A head pinned earlier (`catalog head`): the journal must still hold
    /// record SEQ with chain value CHAIN. Catches the loss of the newest
    /// acknowledged records, which no log can see on its own.
    #[arg(long, value_name = "SEQ:CHAIN")]
    expect_head: Option<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let mut copts = CheckOptions::default().deep(args.deep);
    if let Some(pinned) = &args.expect_head {
        copts = copts.expect_head(pinned)?;
    }
    let r = Catalog::check_with(&ctx.root, Options::default(), copts)?;
    let code = if r.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if ctx.json {
        let problems: Vec<_> = r
            .problems
            .iter()
            .map(|p| {
                json!({
                    "kind": format!("{:?}", p.kind).to_lowercase(),
                    "file": p.file,
                    "offset": p.offset,
                    "seq": p.seq,
                    "what": p.what,
                })
            })
            .collect();
        outln!(
            "{}",
            json!({
                "ok": r.is_ok(),
                "deep": args.deep,
                "segments": r.segments,
                "records": r.records,
                "first_seq": r.first_seq,
                "last_seq": r.last_seq,
                "head_chain": r.head_chain,
                "snapshots": r.snapshots,
                "blobs_hashed": r.blobs_hashed,
                "problems": problems,
                "notes": r.notes,
            })
        );
        return Ok(code);
    }
    outln!(
        "{} segment{}, {} record{} (sequences {}..={}), {} snapshot{}{}",
        r.segments,
        if r.segments == 1 { "" } else { "s" },
        r.records,
        if r.records == 1 { "" } else { "s" },
        r.first_seq,
        r.last_seq,
        r.snapshots,
        if r.snapshots == 1 { "" } else { "s" },
        if args.deep {
            format!(", {} stored files hashed", r.blobs_hashed)
        } else {
            String::new()
        }
    );
    if !r.head_chain.is_empty() {
        outln!("head chain {}", r.head_chain);
    }
    for note in &r.notes {
        outln!("note: {note}");
    }
    for p in &r.problems {
        outln!(
            "problem ({}): {} at byte {} (sequence {}): {}",
            format!("{:?}", p.kind).to_lowercase(),
            p.file.display(),
            p.offset,
            p.seq.map_or("unknown".into(), |s| s.to_string()),
            p.what
        );
    }
    if r.is_ok() {
        outln!("ok");
    } else {
        let repairable = r
            .problems
            .iter()
            .any(|p| matches!(p.kind, ProblemKind::Journal | ProblemKind::Snapshot));
        errln!(
            "error: {} problem{} found{}",
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" },
            if repairable {
                "; `catalog repair` salvages every valid record"
            } else {
                ""
            }
        );
    }
    Ok(code)
}
