//! A dedup import: a second model directory whose weights file the store
//! already holds (another download of the same repository, say), imported
//! by copy (`catalog add <dir>`, the default). It hashes the weights where
//! they lie and writes only its config and records. Beside it, in the same
//! rounds: the import of a model of the same size whose bytes are new (a
//! full copy), and one `openssl dgst -sha256` pass over the weights.
//!
//! Bytes written are the kernel's count for this process (`/proc/self/io`
//! `write_bytes`: pages it dirtied for the storage layer), taken around the
//! import call alone.

use super::adopt::write_bytes;
use super::contenders::AnyResult;
use super::hashing::{OPENSSL, create_file};
use super::stats::{Table, median, ratio, secs};
use catalog_core::{Catalog, ImportOptions, ModelRef};
use std::path::Path;
use std::time::Instant;

pub struct DedupResult {
    /// Median bytes the dedup import made the kernel write.
    pub dedup_written: u64,
    /// The same for the import of new bytes.
    pub fresh_written: u64,
    pub dedup_s: f64,
    pub fresh_s: f64,
    pub openssl_s: Option<f64>,
}

fn model(dir: &Path, weights_seed: u64, mib: u64, config: &str) -> AnyResult<ModelRef> {
    std::fs::create_dir_all(dir)?;
    create_file(&dir.join("model.safetensors"), mib, weights_seed)?;
    std::fs::write(dir.join("config.json"), config)?;
    Ok(ModelRef::parse(&format!("file:{}", dir.display()))?)
}

pub fn section(work: &Path, mib: u64, rounds: usize) -> AnyResult<DedupResult> {
    let dir = work.join("dedup");
    let a = model(&dir.join("a"), 11, mib, "{\"name\":\"a\"}")?;
    // The same weights, written again as another file (not a link).
    let b = model(&dir.join("b"), 11, mib, "{\"name\":\"b\"}")?;
    let fresh = model(&dir.join("fresh"), 12, mib, "{\"name\":\"fresh\"}")?;
    let root = dir.join("root");
    let catalog = Catalog::open(&root)?;
    catalog.import(&a, ImportOptions::default().id("a"))?;
    let openssl = OPENSSL.probe().is_some();
    let weights = dir.join("b/model.safetensors");
    let (mut dedup, mut dedup_w, mut new, mut new_w, mut tool) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let w0 = write_bytes();
        let start = Instant::now();
        let report = catalog.import(&b, ImportOptions::default().id(format!("b-{round}")))?;
        dedup.push(start.elapsed().as_secs_f64());
        dedup_w.push(write_bytes() - w0);
        if report.bytes_deduplicated < mib << 20 {
            return Err(format!(
                "the weights were not deduplicated ({} bytes)",
                report.bytes_deduplicated
            )
            .into());
        }
        // New bytes, into a catalog of their own (emptied each round).
        let fresh_root = dir.join(format!("fresh-root-{round}"));
        let other = Catalog::open(&fresh_root)?;
        let w0 = write_bytes();
        let start = Instant::now();
        let report = other.import(&fresh, ImportOptions::default().id("fresh"))?;
        new.push(start.elapsed().as_secs_f64());
        new_w.push(write_bytes() - w0);
        if report.bytes_stored != report.bytes {
            return Err("the new model was deduplicated".into());
        }
        drop(other);
        std::fs::remove_dir_all(&fresh_root)?;
        if openssl {
            tool.push(OPENSSL.run(std::slice::from_ref(&weights))?.0);
        }
    }
    println!(
        "A model of one {mib} MiB weights file and a config, imported by copy (`catalog add \
         <dir>`) into a catalog that already holds the weights (as another file), against \
         the same import of new bytes; {rounds} alternating rounds, page cache warm for the \
         sources. Bytes written: the kernel's `write_bytes` for this process around the \
         import call.\n"
    );
    let medians = |v: &[u64]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let mut t = Table::new(&[
        "contender",
        "median",
        "bytes written (kernel)",
        "time vs openssl",
    ]);
    let vs = |x: &[f64]| (!tool.is_empty()).then(|| ratio(median(x) / median(&tool)));
    let na = || "n/a".to_string();
    t.row(vec![
        "import, the weights already stored".into(),
        secs(median(&dedup)),
        format!("{}", medians(&dedup_w)),
        vs(&dedup).unwrap_or_else(na),
    ]);
    t.row(vec![
        "import of new bytes (a full copy)".into(),
        secs(median(&new)),
        format!("{}", medians(&new_w)),
        vs(&new).unwrap_or_else(na),
    ]);
    if !tool.is_empty() {
        t.row(vec![
            "`openssl dgst -sha256` of the weights".into(),
            secs(median(&tool)),
            "0".into(),
            ratio(1.0),
        ]);
    }
    t.print();
    drop(catalog);
    std::fs::remove_dir_all(&dir)?;
    Ok(DedupResult {
        dedup_written: medians(&dedup_w),
        fresh_written: medians(&new_w),
        dedup_s: median(&dedup),
        fresh_s: median(&new),
        openssl_s: (!tool.is_empty()).then(|| median(&tool)),
    })
}
