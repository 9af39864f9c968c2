//! Section 4: `get` and `list` against SQLite and plain maps.

use super::contenders::{AnyResult, sqlite_connect, sqlite_get, sqlite_list};
use super::stats::{Table, group, median, min, ratio, secs};
use super::workload::model_id;
use super::{Config, Targets};
use catalog_core::Catalog;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

pub fn section_lookup(
    cfg: &Config,
    catalog_root: &Path,
    sqlite: &Path,
    entries: u64,
    targets: &mut Targets,
) -> AnyResult<()> {
    let catalog = Catalog::open(catalog_root)?;
    let conn = sqlite_connect(sqlite)?;
    let map: BTreeMap<String, catalog_core::ModelEntry> = catalog
        .list()
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    if catalog.len() as u64 != entries {
        return Err(format!("catalog has {} entries, not {entries}", catalog.len()).into());
    }
    let shared: BTreeMap<String, std::sync::Arc<catalog_core::ModelEntry>> = map
        .iter()
        .map(|(k, v)| (k.clone(), std::sync::Arc::new(v.clone())))
        .collect();
    let hashed: std::collections::HashMap<String, std::sync::Arc<catalog_core::ModelEntry>> =
        shared.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let ids: Vec<String> = (0..cfg.lookup_gets as u64)
        .map(|k| model_id(k.wrapping_mul(0x9e37_79b9) % entries))
        .collect();
    let mut get = [
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ];
    let mut list = [
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ];
    for _ in 0..cfg.lookup_rounds {
        let t = Instant::now();
        for id in &ids {
            black_box(catalog.get(id)?);
        }
        get[0].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(sqlite_get(&conn, id)?.ok_or("missing row")?);
        }
        get[1].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(map.get(id.as_str()).cloned().ok_or("missing")?);
        }
        get[2].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(shared.get(id.as_str()).cloned().ok_or("missing")?);
        }
        get[3].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(hashed.get(id.as_str()).cloned().ok_or("missing")?);
        }
        get[4].push(t.elapsed().as_secs_f64() / ids.len() as f64);
        let t = Instant::now();
        for id in &ids {
            black_box(catalog.lookup(id).ok_or("missing")?);
        }
        get[5].push(t.elapsed().as_secs_f64() / ids.len() as f64);

        let t = Instant::now();
        let n0 = black_box(catalog.list()).len();
        list[0].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n1 = black_box(sqlite_list(&conn)?).len();
        list[1].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n2 = black_box(map.values().cloned().collect::<Vec<_>>()).len();
        list[2].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(shared.values().cloned().collect::<Vec<_>>());
        list[3].push(t.elapsed().as_secs_f64());
        // Unordered: a hash map has no id order (sorting would add to it).
        let t = Instant::now();
        black_box(hashed.values().cloned().collect::<Vec<_>>());
        list[4].push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n5 = black_box(catalog.list_shared()).len();
        list[5].push(t.elapsed().as_secs_f64());
        if [n0, n1, n2, n5].iter().any(|&n| n as u64 != entries) {
            return Err("list returned the wrong number of entries".into());
        }
    }
    println!(
        "### get and list at {} entries\n\n{} rounds interleaved; `get` of {} scattered ids per \
         round (an owned entry each time: the catalog clones its entry, SQLite materialises the \
         row through a cached prepared statement), `list` of every entry (ordered by id).\n",
        group(entries),
        cfg.lookup_rounds,
        group(cfg.lookup_gets as u64)
    );
    let mut t = Table::new(&[
        "contender",
        "get (median)",
        "get (min)",
        "list (median)",
        "list (min)",
        "catalog speed vs this: get",
        "list",
    ]);
    let names = [
        "catalog `get` (an owned copy)",
        "SQLite `SELECT`",
        "baseline: plain `BTreeMap` + clone",
        "reference: `BTreeMap` of `Arc<ModelEntry>` + `Arc` clone",
        "reference: `HashMap` of `Arc<ModelEntry>` + `Arc` clone (list unordered)",
        "catalog `lookup` (a shared `Arc`); `list_shared`",
    ];
    for (k, name) in names.iter().enumerate() {
        let list_k = list.get(k).filter(|l| !l.is_empty());
        t.row(vec![
            name.to_string(),
            secs(median(&get[k])),
            secs(min(&get[k])),
            list_k.map_or("-".into(), |l| secs(median(l))),
            list_k.map_or("-".into(), |l| secs(min(l))),
            ratio(median(&get[k]) / median(&get[0])),
            list_k.map_or("-".into(), |l| ratio(median(l) / median(&list[0]))),
        ]);
    }
    t.print();
    let x = median(&get[1]) / median(&get[0]);
    let y = median(&get[1]) / median(&get[5]);
    targets.add(
        "get ≥ 20× SQLite",
        format!(
            "`get` (owned copy) {} vs {} per get = {}; `lookup` (shared) {} = {}",
            secs(median(&get[0])),
            secs(median(&get[1])),
            ratio(x),
            secs(median(&get[5])),
            ratio(y)
        ),
        x >= 20.0,
    );
    targets.add(
        "`lookup` ≥ 25× SQLite's prepared select",
        format!(
            "{} vs {} = {}",
            secs(median(&get[5])),
            secs(median(&get[1])),
            ratio(y)
        ),
        y >= 25.0,
    );
    let l = median(&list[0]) / median(&list[2]);
    targets.add(
        "`list` of every entry ≤ 1.2× a plain `BTreeMap` clone",
        format!(
            "{} vs {} = {} (`list_shared`: {} = {})",
            secs(median(&list[0])),
            secs(median(&list[2])),
            ratio(l),
            secs(median(&list[5])),
            ratio(median(&list[5]) / median(&list[2]))
        ),
        l <= 1.2,
    );
    Ok(())
}
