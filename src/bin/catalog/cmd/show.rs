//! `catalog show <id>`

use super::Context;
use crate::output::{entry_json, human_size, iso_time, lifecycle, result, trust_line};
use catalog_core::{ModelRef, Result};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id.
    id: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let catalog = ctx.reader()?;
    let e = catalog.get(&args.id)?;
    // The path an engine loads, if it is there (a read-only handle reports
    // an incomplete directory view instead of rebuilding it).
    let model_path = catalog.model_path(&args.id).ok().filter(|p| p.exists());
    if ctx.json {
        let mut out = entry_json(&e);
        out["model_path"] = json!(model_path);
        outln!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("id          {}", e.id);
    outln!("ref         {}", ModelRef::redact_stored(&e.model_ref));
    if e.external {
        outln!(
            "path        {} (registered in place: never removed or moved by the catalog)",
            e.local_path
        );
    } else {
        outln!("path        {}", e.local_path);
    }
    match &model_path {
        Some(p) => outln!("model path  {}", p.display()),
        None => outln!("model path  - (missing; `catalog check` says more)"),
    }
    outln!("lifecycle   {}", lifecycle(e.lifecycle));
    outln!("trust       {}", trust_line(&e));
    outln!(
        "digest      {}{}",
        e.digest.map_or("-".into(), |d| d.to_string()),
        match (e.digest, e.digest_source) {
            (None, _) => String::new(),
            (Some(_), Some(source)) => format!(" (from the {})", source.as_str()),
            (Some(_), None) => " (source not recorded)".into(),
        }
    );
    outln!(
        "size        {} ({} bytes)",
        human_size(e.size_bytes),
        e.size_bytes
    );
    outln!("registered  {}", iso_time(e.registered_at_ms));
    outln!(
        "updated     {} (seq {})",
        iso_time(e.updated_at_ms),
        e.updated_seq
    );
    if let Some(v) = &e.last_verification {
        outln!(
            "verified    {} {}: {} ({} in {} ms)",
            e.last_verified_at_ms.map_or("-".into(), iso_time),
            result(v.result),
            v.reason,
            human_size(v.bytes),
            v.duration_ms
        );
    }
    if let Some(sig) = &e.signature {
        outln!(
            "signature   {}, bundle {} (kept in the store)",
            sig.signer.describe(),
            sig.bundle
        );
    }
    for f in &e.files {
        let mut line = format!(
            "file        {}  {}  {}",
            f.path,
            f.digest,
            human_size(f.size_bytes)
        );
        if let Some(m) = &f.media_type {
            line.push_str(&format!("  {m}"));
        }
        if let Some(p) = &f.publisher_digest {
            line.push_str(&format!("  (publisher: {p})"));
        }
        outln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
