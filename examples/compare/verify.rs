//! Verifying models that share a file: two models holding one
//! deduplicated weights file, verified together (`plan_verify`, what
//! `catalog verify --all` runs), one by one (`verify` per model, which reads
//! the shared file once per model), and `openssl dgst -sha256` of the one
//! file: the physical limit.

use super::contenders::AnyResult;
use super::hashing::{OPENSSL, create_file};
use super::stats::{Table, median, ratio, secs};
use catalog_core::{Catalog, ImportOptions, ModelRef, VerifyOptions, VerifyResult};
use std::path::Path;
use std::time::Instant;

pub struct VerifyResultRow {
    /// `plan_verify` of both models / openssl of the shared file (medians).
    pub together_vs_openssl: Option<f64>,
    /// One `verify` per model / openssl of the shared file (medians).
    pub one_by_one_vs_openssl: Option<f64>,
}

pub fn section(work: &Path, shared_mib: u64, rounds: usize) -> AnyResult<VerifyResultRow> {
    let dir = work.join("verify");
    let weights = dir.join("weights.safetensors");
    std::fs::create_dir_all(&dir)?;
    create_file(&weights, shared_mib, 7)?;
    let root = dir.join("root");
    let catalog = Catalog::open(&root)?;
    for name in ["a", "b"] {
        let model = dir.join(name);
        std::fs::create_dir_all(&model)?;
        std::fs::hard_link(&weights, model.join("model.safetensors"))?;
        std::fs::write(
            model.join("config.json"),
            format!("{{\"name\":\"{name}\"}}"),
        )?;
        let r = ModelRef::parse(&format!("file:{}", model.display()))?;
        catalog.import(&r, ImportOptions::default().id(name))?;
    }
    let blob = catalog
        .get("a")?
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .map(|f| root.join(format!("blobs/sha256/{}", f.digest.hex())))
        .ok_or("no weights file in model a")?;
    let openssl = OPENSSL.probe().is_some();
    let ok = |r: &catalog_core::VerifyReport| r.outcome.result != VerifyResult::Fail;
    // Warm the page cache for every contender alike.
    catalog.verify("a", VerifyOptions::default(), &|_| {})?;
    let mut together = Vec::new();
    let mut one_by_one = Vec::new();
    let mut tool = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let reports = catalog
            .plan_verify(&["a", "b"], VerifyOptions::default())?
            .run(&mut |_| {}, &|_| {});
        together.push(start.elapsed().as_secs_f64());
        for (id, r) in reports {
            if !ok(&r?) {
                return Err(format!("{id} failed verification").into());
            }
        }
        let start = Instant::now();
        for id in ["a", "b"] {
            if !ok(&catalog.verify(id, VerifyOptions::default(), &|_| {})?) {
                return Err(format!("{id} failed verification").into());
            }
        }
        one_by_one.push(start.elapsed().as_secs_f64());
        if openssl {
            let (s, d) = OPENSSL.run(std::slice::from_ref(&blob))?;
            if Some(d[0])
                != catalog
                    .get("a")?
                    .files
                    .iter()
                    .find(|f| f.path == "model.safetensors")
                    .map(|f| f.digest)
            {
                return Err("openssl disagrees with the catalog".into());
            }
            tool.push(s);
        }
    }
    println!(
        "Two models sharing one {shared_mib} MiB weights file (stored once), page cache warm, \
         {rounds} alternating rounds; each verification records one journal record per model.\n"
    );
    let mut t = Table::new(&["contender", "median", "vs openssl of the one file"]);
    let vs = |x: &[f64]| (!tool.is_empty()).then(|| median(x) / median(&tool));
    let rows: [(&str, &[f64]); 2] = [
        ("`plan_verify` of both (`verify --all`)", &together),
        ("`verify` of each, one by one", &one_by_one),
    ];
    for (name, times) in rows {
        t.row(vec![
            name.into(),
            secs(median(times)),
            vs(times).map_or_else(|| "n/a".into(), ratio),
        ]);
    }
    if !tool.is_empty() {
        t.row(vec![
            "`openssl dgst -sha256` of the file".into(),
            secs(median(&tool)),
            ratio(1.0),
        ]);
    }
    t.print();
    drop(catalog);
    std::fs::remove_dir_all(&dir)?;
    Ok(VerifyResultRow {
        together_vs_openssl: vs(&together),
        one_by_one_vs_openssl: vs(&one_by_one),
    })
}
