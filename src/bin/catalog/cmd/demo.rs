//! `catalog demo`: the main job end to end on an embedded sample model, so a
//! fresh machine can see the catalog work with no preparation.

use super::Context;
use crate::output::{entry_json, human_size, lifecycle, trust};
use catalog_core::{
    Catalog, Digest, EntrySpec, Lifecycle, OpContext, Result, Verification, VerifyResult,
};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// Id under which the sample is registered.
const SAMPLE_ID: &str = "demo-sample-q4";
/// Size of the embedded sample model.
const SAMPLE_LEN: usize = 256 * 1024;

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
    let catalog = Catalog::open(&ctx.root)?;
    let bytes = sample();
    let hashing = Instant::now();
    let digest = Digest::of_bytes(&bytes);
    let hash_ms = hashing.elapsed().as_millis() as u64;
    let op = OpContext::new()
        .correlation_id("demo")
        .actor("catalog demo");
    let spec = EntrySpec::new(
        SAMPLE_ID,
        "hf:catalog-core/demo-sample/sample-q4.gguf",
        format!("blobs/sha256/{}", digest.hex()),
    )
    .digest(digest)
    .size_bytes(bytes.len() as u64);
    let scoped = catalog.with_context(op);
    catalog_core::CatalogStore::put(&scoped, spec)?;
    let expected = Digest::of_bytes(&sample());
    let outcome = Verification {
        result: if digest == expected {
            VerifyResult::Pass
        } else {
            VerifyResult::Fail
        },
        reason: if digest == expected {
            "digest matches".into()
        } else {
            "digest mismatch".into()
        },
        actual: Some(digest),
        bytes: bytes.len() as u64,
        duration_ms: hash_ms,
        files: vec![],
    };
    let verified = catalog.record_verification(SAMPLE_ID, outcome)?;
    catalog.set_state(SAMPLE_ID, Lifecycle::Retired)?;
    catalog.set_state(SAMPLE_ID, Lifecycle::Active)?;
    let compacted = catalog.compact()?;
    let head = catalog.head();
    let stats = catalog.commit_stats();
    drop(catalog);

    // Reopen read-only: everything acknowledged is there.
    let reopened = Catalog::open_read_only(&ctx.root)?;
    let entry = reopened.get(SAMPLE_ID)?;
    let same = entry == verified_with_state(&verified, &entry) && reopened.head() == head;
    if ctx.json {
        println!(
            "{}",
            json!({
                "root": ctx.root,
                "entry": entry_json(&entry),
                "head": { "seq": head.seq, "chain": head.chain },
                "snapshot_seq": compacted.seq,
                "fsyncs": stats.fsyncs,
                "records": stats.records,
                "reopen_matches": same,
                "elapsed_ms": started.elapsed().as_millis() as u64,
            })
        );
    } else {
        println!("catalog root   {}", ctx.root.display());
        println!(
            "registered     {} ({}, {})",
            entry.id,
            human_size(entry.size_bytes),
            entry.digest.map_or("-".into(), |d| d.to_string())
        );
        println!(
            "verified       {} ({} bytes hashed in {} ms)",
            trust(entry.trust),
            entry.last_verification.as_ref().map_or(0, |v| v.bytes),
            hash_ms
        );
        println!(
            "lifecycle      {} (retired and re-activated)",
            lifecycle(entry.lifecycle)
        );
        println!(
            "journal        {} records written with {} fsyncs; snapshot at sequence {}",
            stats.records, stats.fsyncs, compacted.seq
        );
        println!("head           seq {} chain {}", head.seq, head.chain);
        println!(
            "reopened       {} entries, state {}",
            reopened.len(),
            if same { "identical" } else { "DIFFERENT" }
        );
        println!("done in {} ms", started.elapsed().as_millis());
    }
    Ok(if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The verified entry as it should look after the two lifecycle changes.
fn verified_with_state(
    verified: &catalog_core::ModelEntry,
    now: &catalog_core::ModelEntry,
) -> catalog_core::ModelEntry {
    catalog_core::ModelEntry {
        lifecycle: Lifecycle::Active,
        updated_at_ms: now.updated_at_ms,
        updated_seq: now.updated_seq,
        ..verified.clone()
    }
}
