//! `catalog head`

use super::Context;
use crate::output::iso_time;
use catalog_core::Result;
use serde_json::json;
use std::process::ExitCode;

pub fn run(ctx: &Context) -> Result<ExitCode> {
    let catalog = ctx.reader()?;
    let head = catalog.head();
    if ctx.json {
        outln!(
            "{}",
            json!({
                "catalog_id": catalog.catalog_id(),
                "seq": head.seq,
                "chain": head.chain,
                "pin": format!("{}:{}", head.seq, head.chain),
                "time_ms": head.time_ms,
                "time": (head.seq > 0).then(|| iso_time(head.time_ms)),
            })
        );
    } else {
        outln!("catalog {}", catalog.catalog_id());
        outln!("seq     {}", head.seq);
        outln!("chain   {}", head.chain);
        outln!(
            "pin     {}:{}  (catalog check --expect-head <pin>)",
            head.seq,
            head.chain
        );
        if head.seq > 0 {
            outln!("time    {}", iso_time(head.time_ms));
        } else {
            outln!("time    - (empty journal)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
