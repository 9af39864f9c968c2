//! `catalog demo`: the main job end to end on an embedded sample model, so a
//! fresh machine can see the catalog work with no preparation: import the
//! sample (with its expected digest), verify it, retire and re-activate it,
//! show its history, compact, reopen read-only and compare.

use super::Context;
use crate::output::{entry_json, human_size, lifecycle, trust};
use catalog_core::{
    Catalog, Digest, ImportOptions, Lifecycle, ModelRef, OpContext, Result, VerifyOptions,
};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// Id under which the sample is registered.
const SAMPLE_ID: &str = "demo-sample-q4";
/// Size of the embedded sample model.
const SAMPLE_LEN: usize = 4 << 20;

/// The embedded sample: a GGUF-like header and deterministic bytes.
fn sample() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SAMPLE_LEN);
    bytes.extend_from_slice(b"GGUF\x03\x00\x00\x00");
    let mut x: u32 = 0x9e37_79b9;
    while bytes.len() < SAMPLE_LEN {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(SAMPLE_LEN);
    bytes
}

pub fn run(ctx: &Context) -> Result<ExitCode> {
    let started = Instant::now();
    // The sample is written outside the catalog, as a downloaded model would be.
    let staging = std::env::temp_dir().join(format!("catalog-demo-{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(|e| io(&staging, e))?;
    let file = staging.join("sample-q4.gguf");
    let bytes = sample();
    std::fs::write(&file, &bytes).map_err(|e| io(&file, e))?;
    let expected = Digest::of_bytes(&bytes);
    let result = run_job(ctx, &file, expected, started);
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn run_job(
    ctx: &Context,
    file: &std::path::Path,
    expected: Digest,
    started: Instant,
) -> Result<ExitCode> {
    let op = OpContext::new()
        .correlation_id("demo")
        .actor("catalog demo");
    let catalog = Catalog::open(&ctx.root)?;
    let source = ModelRef::parse_with_base(&file.to_string_lossy(), std::path::Path::new("/"))?;
    let imported = catalog.import(
        &source,
        ImportOptions::default()
            .id(SAMPLE_ID)
            .expected(expected)
            .context(op.clone()),
    )?;
    let verified = catalog.verify(
        SAMPLE_ID,
        VerifyOptions::default().context(op.clone()),
        &|_| {},
    )?;
    let scoped = catalog.with_context(op);
    scoped.set_state(SAMPLE_ID, Lifecycle::Retired)?;
    scoped.set_state(SAMPLE_ID, Lifecycle::Active)?;
    let compacted = catalog.compact()?;
    let head = catalog.head();
    let stats = catalog.commit_stats();
    let path = catalog.model_path(SAMPLE_ID)?;
    let before = catalog.get(SAMPLE_ID)?;
    drop(catalog);

    // Reopen read-only: everything acknowledged is there, with its history.
    let reopened = Catalog::open_read_only(&ctx.root)?;
    let entry = reopened.get(SAMPLE_ID)?;
    let history = reopened.history(SAMPLE_ID)?;
    let same = entry == before && reopened.head() == head;
    let ok = same && entry.digest == Some(expected) && verified.outcome.bytes == SAMPLE_LEN as u64;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "root": ctx.root,
                "entry": entry_json(&entry),
                "model_path": path,
                "imported_bytes_stored": imported.bytes_stored,
                "verification": {
                    "result": format!("{:?}", verified.outcome.result).to_lowercase(),
                    "reason": verified.outcome.reason,
                    "bytes": verified.outcome.bytes,
                    "duration_ms": verified.outcome.duration_ms,
                },
                "history": history.iter().map(|e| json!({"seq": e.seq, "kind": e.kind()})).collect::<Vec<_>>(),
                "head": { "seq": head.seq, "chain": head.chain },
                "snapshot_seq": compacted.seq,
                "fsyncs": stats.fsyncs,
                "records": stats.records,
                "reopen_matches": same,
                "elapsed_ms": started.elapsed().as_millis() as u64,
            })
        );
    } else {
        outln!("catalog root   {}", ctx.root.display());
        outln!(
            "imported       {} ({}, {}); {} newly stored",
            entry.id,
            human_size(entry.size_bytes),
            entry.digest.map_or("-".into(), |d| d.to_string()),
            human_size(imported.bytes_stored)
        );
        outln!("model path     {}", path.display());
        outln!(
            "verified       {} — {} ({} hashed in {} ms)",
            trust(entry.trust),
            verified.outcome.reason,
            human_size(verified.outcome.bytes),
            verified.outcome.duration_ms
        );
        outln!(
            "lifecycle      {} (retired and re-activated)",
            lifecycle(entry.lifecycle)
        );
        let kinds: Vec<String> = history
            .iter()
            .map(|e| format!("{}:{}", e.seq, e.kind()))
            .collect();
        outln!("history        {}", kinds.join(" "));
        outln!(
            "journal        {} records written with {} fsyncs; snapshot at sequence {}",
            stats.records,
            stats.fsyncs,
            compacted.seq
        );
        outln!("head           seq {} chain {}", head.seq, head.chain);
        outln!(
            "reopened       {} entries, state {}",
            reopened.len(),
            if same { "identical" } else { "DIFFERENT" }
        );
        outln!("done in {} ms", started.elapsed().as_millis());
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn io(path: &std::path::Path, source: std::io::Error) -> catalog_core::Error {
    catalog_core::Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
