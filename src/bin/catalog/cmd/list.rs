//! `catalog list`

use super::Context;
use crate::output::{entry_json, human_size, iso_time, lifecycle, table, trust};
use catalog_core::{ModelRef, Result};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only models in this lifecycle state.
    #[arg(long, value_parser = ["active", "retired"])]
    state: Option<String>,
    /// Only models in this trust state.
    #[arg(long, value_parser = ["verified", "warned", "unverified", "failed"])]
    trust: Option<String>,
    /// Sort order (`accessed`: most recently handed out by `model_path`
    /// first, recorded per hour; never accessed last).
    #[arg(long, default_value = "id", value_parser = ["id", "size", "registered", "updated", "accessed"])]
    sort: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.reader()?;
    let mut entries: Vec<_> = catalog
        .list_shared()
        .into_iter()
        .filter(|e| {
            args.state
                .as_deref()
                .is_none_or(|s| s == lifecycle(e.lifecycle))
        })
        .filter(|e| args.trust.as_deref().is_none_or(|t| t == trust(e.trust)))
        .collect();
    match args.sort.as_str() {
        "size" => entries.sort_by_key(|e| std::cmp::Reverse(e.size_bytes)),
        "registered" => entries.sort_by_key(|e| e.registered_at_ms),
        "updated" => entries.sort_by_key(|e| std::cmp::Reverse(e.updated_seq)),
        "accessed" => {
            entries.sort_by_cached_key(|e| std::cmp::Reverse(catalog.last_accessed(&e.id)))
        }
        _ => {}
    }
    let accessed = |id: &str| catalog.last_accessed(id).map_or("-".into(), iso_time);
    if ctx.json {
        let items: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut j = entry_json(e);
                j["last_accessed_ms"] = catalog.last_accessed(&e.id).into();
                j
            })
            .collect();
        outln!("{}", serde_json::Value::Array(items));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.clone(),
                lifecycle(e.lifecycle).to_string(),
                trust(e.trust).to_string(),
                human_size(e.size_bytes),
                e.digest
                    .map_or_else(|| "-".to_string(), |d| short_digest(&d.to_string())),
                accessed(&e.id),
                ModelRef::redact_stored(&e.model_ref),
            ]
        })
        .collect();
    table(
        &["ID", "STATE", "TRUST", "SIZE", "DIGEST", "ACCESSED", "REF"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

fn short_digest(d: &str) -> String {
    d.chars().take(7 + 12).collect()
}
