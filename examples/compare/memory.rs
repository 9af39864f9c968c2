//! Section 5: peak memory, each store measured in its own process.

use super::Targets;
use super::contenders::AnyResult;
use super::stats::{Table, group};
use std::path::{Path, PathBuf};

pub fn section_rss(
    entries: u64,
    kinds: &[(&str, &str, PathBuf)],
    targets: &mut Targets,
) -> AnyResult<()> {
    let base = super::child::measure("baseline", Path::new("."))?;
    let base_hwm = base.kib("start_hwm_kib").unwrap_or(0);
    println!(
        "### Peak memory at {} entries\n\nEach line is a fresh process (this program re-executed as \
         `compare child rss …`): it opens the store, does 1,000 gets, then lists every entry. \
         `VmHWM` (peak resident set) from `/proc/self/status`; the empty process peaks at {:.1} MiB.\n",
        group(entries),
        base_hwm as f64 / 1024.0
    );
    let mut t = Table::new(&[
        "store",
        "entries",
        "open time",
        "peak after open",
        "resident after open",
        "peak after list",
    ]);
    let mut layout = None;
    for (label, kind, path) in kinds {
        let r = super::child::measure(kind, path)?;
        if let (Some(a), Some(b), Some(c)) = (
            r.get("entry_inline_bytes"),
            r.get("key_inline_bytes"),
            r.get("entry_string_bytes"),
        ) {
            layout = Some((a.to_string(), b.to_string(), c.to_string()));
        }
        let mib = |k: &str| {
            r.kib(k)
                .map_or("?".into(), |v| format!("{:.1} MiB", v as f64 / 1024.0))
        };
        t.row(vec![
            label.to_string(),
            r.get("entries").unwrap_or("?").to_string(),
            r.get("open_ms").map_or("?".into(), |v| format!("{v} ms")),
            mib("open_hwm_kib"),
            mib("open_rss_kib"),
            mib("list_hwm_kib"),
        ]);
        if *kind == "catalog" && label.contains("snapshot +") {
            let hwm = r.kib("open_hwm_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            let list = r.kib("list_hwm_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            let rss = r.kib("open_rss_kib").unwrap_or(u64::MAX) as f64 / 1024.0;
            targets.add(
                &format!("≤ 64 MiB RSS for {} entries", group(entries)),
                format!(
                    "{label}: peak {hwm:.1} MiB during open, {rss:.1} MiB resident after it, \
                     peak {list:.1} MiB once `list()` has copied every entry"
                ),
                hwm <= 64.0,
            );
        }
    }
    t.print();
    if let Some((_, _, path)) = kinds
        .iter()
        .find(|k| k.1 == "catalog" && k.0.contains("snapshot +"))
    {
        let r = super::child::measure("catalog_indexes", path)?;
        let mib = |k: &str| r.kib(k).map_or(f64::NAN, |v| v as f64 / 1024.0);
        println!(
            "With the indexes an open does not build (catalog, snapshot + tail; a fresh process \
             that opens, calls `locate` once, then `history` once): peak {:.1} MiB / resident \
             {:.1} MiB after the open; {:.1} / {:.1} MiB after the first `locate` (the map by \
             reference); {:.1} / {:.1} MiB after the first `history` (the per-model index of \
             the {} retained records).\n",
            mib("open_hwm_kib"),
            mib("open_rss_kib"),
            mib("locate_hwm_kib"),
            mib("locate_rss_kib"),
            mib("history_hwm_kib"),
            mib("history_rss_kib"),
            r.get("records").unwrap_or("?"),
        );
    }
    if let Some(r) = layout {
        println!(
            "Layout of the catalog's map (from the child): `size_of::<ModelEntry>()` = {} bytes, \
             the map's `Arc<str>` key {} bytes more (shared by the hash index and the ordered \
             ids); the strings of one entry (key, id, reference, path) hold {} bytes on average, \
             before allocator rounding.\n",
            r.0, r.1, r.2
        );
    }
    Ok(())
}
