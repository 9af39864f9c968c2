//! `catalog show <id>`

use super::Context;
use crate::output::{entry_json, human_size, lifecycle, trust};
use catalog_core::Result;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model id.
    id: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let e = ctx.reader()?.get(&args.id)?;
    if ctx.json {
        println!("{}", entry_json(&e));
        return Ok(ExitCode::SUCCESS);
    }
    println!("id          {}", e.id);
    println!("ref         {}", e.model_ref);
    println!("path        {}", e.local_path);
    println!("lifecycle   {}", lifecycle(e.lifecycle));
    println!("trust       {}", trust(e.trust));
    println!(
        "digest      {}",
        e.digest.map_or("-".into(), |d| d.to_string())
    );
    println!(
        "size        {} ({} bytes)",
        human_size(e.size_bytes),
        e.size_bytes
    );
    println!("registered  {} ms", e.registered_at_ms);
    println!("updated     {} ms (seq {})", e.updated_at_ms, e.updated_seq);
    if let Some(v) = &e.last_verification {
        println!(
            "verified    {:?}: {} ({} bytes in {} ms)",
            v.result, v.reason, v.bytes, v.duration_ms
        );
    }
    for f in &e.files {
        println!(
            "file        {}  {}  {}",
            f.path,
            f.digest,
            human_size(f.size_bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}
