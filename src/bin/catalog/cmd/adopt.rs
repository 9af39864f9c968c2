//! `catalog adopt <PATH> [--in-place] [--dry-run] [--allow-partial] [--sync | --sync-retire |
//! --sync-delete] [--as OLD_ID=NEW_ID]…`:
//! register the models a node already has (a Hugging Face hub cache, an
//! Ollama models directory, a plain directory or GGUF file), linked rather
//! than copied and checked against the digests their stores name them by.
//! Exit 1 if a model's bytes did not match (it is registered as failed);
//! exit 2, writing nothing, if an id belongs to a model from elsewhere (a
//! dry run lists such conflicts, and exits 2 too).

use super::Context;
use super::progress::Progress;
use crate::output::{entry_json, human_size, trust};
use catalog_core::{
    AdoptAction, AdoptOptions, AdoptPlan, AdoptReport, AdoptedModel, Error, Result, Vanished,
};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A Hugging Face hub cache (`~/.cache/huggingface/hub`) or one
    /// `models--org--name` of it, an Ollama models directory
    /// (`~/.ollama/models`), or a model's directory or GGUF file.
    ///
    /// Hugging Face caches: what huggingface_hub 2.5.0 writes, checked
    /// against the real client in CI (tests/hf): symlinked snapshots, the
    /// shared blob store of Xet files (`<cache>/blobs/`), snapshots of real
    /// files (HF_HUB_DISABLE_SYMLINKS), stale `.incomplete` files.
    /// A snapshot's `trees/<commit>.json` (the publisher's listing) is the
    /// reference: a snapshot missing a listed file is skipped as
    /// incomplete, a file it does not list is left out (skipped as
    /// unlisted), every file is checked against its digest there.
    /// Datasets and spaces are skipped. One entry per commit: `org/name`
    /// for the one `main` points to, `org/name@<7 hex>` for any other;
    /// tags and `refs/pr/N` are aliases, recorded in the entry's history
    /// as they move ("main moved from … to …"); a commit `main` left keeps
    /// its verification (same inode, size and change time: not read
    /// again) under its own id.
    path: PathBuf,
    /// Reconcile: report the entries adopted from this Hugging Face cache
    /// whose snapshot is gone (`hf cache rm`, `hf cache prune`), with the
    /// bytes deleting them frees for real (the store's links counted).
    #[arg(long)]
    sync: bool,
    /// `--sync`, and retire those entries (gc's size budget evicts retired
    /// models first).
    #[arg(long, conflicts_with = "sync_delete")]
    sync_retire: bool,
    /// `--sync`, and delete those entries, freeing what they alone held.
    #[arg(long)]
    sync_delete: bool,
    /// Adopt a Hugging Face snapshot missing files its publisher lists
    /// (`allow_patterns`) as it is: warned, never verified.
    #[arg(long)]
    allow_partial: bool,
    /// Register the files where they are (no link into the store); such
    /// models are never removed or moved by evict, delete or gc.
    #[arg(long)]
    in_place: bool,
    /// Say what would be adopted; hash and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Adopt the model found as OLD_ID under NEW_ID (repeatable). An id
    /// the catalog already holds for a model from elsewhere (another
    /// repository or name, or an entry in place at another path) is never
    /// replaced: the adoption is refused (exit 2, nothing written) until
    /// each such model is adopted under another id.
    #[arg(long = "as", value_name = "OLD_ID=NEW_ID", value_parser = parse_rename)]
    rename: Vec<(String, String)>,
}

/// Parses `OLD_ID=NEW_ID` for clap (the ids themselves are checked by the
/// adoption).
fn parse_rename(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((old, new)) if !old.is_empty() && !new.is_empty() => {
            Ok((old.to_owned(), new.to_owned()))
        }
        _ => Err(
            "expected OLD_ID=NEW_ID (the id the model was found as, `=`, the id to \
                  adopt it under)"
                .into(),
        ),
    }
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let mut opts = AdoptOptions::default()
        .in_place(args.in_place)
        .dry_run(args.dry_run)
        .allow_partial(args.allow_partial)
        .vanished(if args.sync_delete {
            Vanished::Delete
        } else if args.sync_retire {
            Vanished::Retire
        } else if args.sync {
            Vanished::Report
        } else {
            Vanished::Ignore
        })
        .context(ctx.op_context("adopt"));
    for (old, new) in &args.rename {
        opts = opts.rename(old, new);
    }
    // The source is looked at before a catalog is opened (and perhaps
    // created): hostile or unreadable input writes nothing at all.
    let scanned = AdoptPlan::scan(&args.path)?;
    let report = if args.dry_run {
        match ctx.reader() {
            Ok(catalog) => catalog.adopt_planned(scanned, &opts, &|_| {})?,
            // No catalog yet: every model would be added (under the ids
            // asked for).
            Err(Error::NoCatalog { .. }) => scanned.into_dry_run(&opts)?,
            Err(e) => return Err(e),
        }
    } else {
        let catalog = ctx.writer()?;
        let plan = catalog.plan_adoption(&args.path, &opts)?;
        let bar = Progress::bytes(plan.bytes_to_hash(), "hashing");
        let report = catalog.adopt_planned(plan, &opts, &|n| bar.inc(n));
        bar.finish();
        report?
    };
    print(ctx, &report);
    Ok(if !report.conflicts.is_empty() {
        // A dry run's conflicts: the adoption itself would be refused.
        ExitCode::from(2)
    } else if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(ctx: &Context, r: &AdoptReport) {
    // A model whose bytes did not match is named on stderr, whatever the
    // output format.
    for m in &r.models {
        if let Some(f) = &m.failure {
            errln!("error: {} failed: {f}", m.id);
        }
    }
    if !r.conflicts.is_empty() {
        errln!(
            "error: {}",
            catalog_core::Error::AdoptConflict {
                conflicts: r.conflicts.clone()
            }
        );
    }
    if ctx.json {
        print_json(r);
        return;
    }
    outln!(
        "{} at {}: {} model{}, {}{} skipped{}",
        r.layout.describe(),
        r.source.display(),
        r.models.len(),
        if r.models.len() == 1 { "" } else { "s" },
        match r.conflicts.len() {
            0 => String::new(),
            n => format!("{n} in conflict, "),
        },
        r.skipped.len(),
        if r.dry_run {
            " (dry run: nothing hashed or written)"
        } else {
            ""
        }
    );
    print_models(r);
    print_changes(r);
    for c in &r.conflicts {
        outln!("conflict {c}");
    }
    for s in &r.skipped {
        outln!(
            "skipped {} ({}): {}",
            s.path.display(),
            s.kind.as_str(),
            s.reason
        );
    }
    if !r.dry_run {
        outln!(
            "hashed {}, wrote {}, in {} ms",
            human_size(r.bytes_hashed()),
            human_size(r.bytes_written()),
            r.duration_ms
        );
    }
}

/// One paragraph per model: what was done, its reference, its refs and
/// the files another stands in for.
fn print_models(r: &AdoptReport) {
    for m in &r.models {
        let would = if r.dry_run { "would be " } else { "" };
        let mut line = format!(
            "{would}{} {} ({}, {} file{})",
            m.action.as_str(),
            m.id,
            human_size(m.bytes),
            m.files,
            if m.files == 1 { "" } else { "s" },
        );
        if !r.dry_run && m.action != AdoptAction::Unchanged {
            line.push_str(&format!(
                ": {}, {} written, {} hashed",
                m.ingest.summary(),
                human_size(m.bytes_written),
                human_size(m.bytes_hashed)
            ));
        }
        if !r.dry_run {
            let source = m
                .entry
                .as_ref()
                .and_then(|e| e.digest_source)
                .map_or(String::new(), |s| format!(" ({})", s.as_str()));
            line.push_str(&format!(" — {}{source}", trust(m.trust)));
        }
        outln!("{line}");
        outln!("    {}", m.model_ref);
        if !m.refs.is_empty() {
            outln!("    refs: {}", m.refs.join(", "));
        }
        for s in &m.stand_ins {
            outln!("    shared: {s}");
        }
    }
}

/// The entries whose source vanished (and the bytes deleting them
/// frees), and the refs recorded as moved.
fn print_changes(r: &AdoptReport) {
    for v in &r.vanished {
        let would = if r.dry_run && v.action != Vanished::Report {
            "would be "
        } else {
            ""
        };
        let done = match v.action {
            Vanished::Retire => "retired",
            Vanished::Delete => "deleted",
            _ => "reported",
        };
        let freed = v
            .bytes_freed
            .map_or("unknown (read-only)".into(), human_size);
        outln!(
            "vanished {} ({} is gone): {would}{done}; deleting it frees {freed}",
            v.id,
            v.snapshot.display()
        );
    }
    if !r.vanished.is_empty() {
        let total: u64 = r.vanished.iter().filter_map(|v| v.bytes_freed).sum();
        outln!(
            "{} vanished, {} freed by deleting them",
            r.vanished.len(),
            human_size(total)
        );
    }
    for mv in &r.ref_moves {
        let short = |c: &Option<String>| {
            c.as_deref()
                .map_or("-".into(), |c| c[..12.min(c.len())].to_string())
        };
        outln!(
            "ref {} of {}: {} -> {}",
            mv.name,
            mv.id,
            short(&mv.from),
            short(&mv.to)
        );
    }
}

fn print_json(r: &AdoptReport) {
    let models: Vec<_> = r.models.iter().map(model_json).collect();
    let conflicts: Vec<_> = r
        .conflicts
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "kind": c.kind.as_str(),
                "existing_ref": c.existing_ref,
                "existing_path": c.existing_path,
                "offered_ref": c.offered_ref,
                "offered_path": c.offered_path,
            })
        })
        .collect();
    let skipped: Vec<_> = r
        .skipped
        .iter()
        .map(|s| json!({ "path": s.path, "kind": s.kind.as_str(), "reason": s.reason }))
        .collect();
    outln!(
        "{}",
        json!({
            "layout": r.layout.as_str(),
            "source": r.source,
            "dry_run": r.dry_run,
            "in_place": r.in_place,
            "models": models,
            "conflicts": conflicts,
            "skipped": skipped,
            "ref_moves": r.ref_moves.iter().map(|m| json!({
                "id": m.id, "name": m.name, "from": m.from, "to": m.to,
            })).collect::<Vec<_>>(),
            "vanished": r.vanished.iter().map(|v| json!({
                "id": v.id, "ref": v.model_ref, "snapshot": v.snapshot,
                "action": v.action.as_str(), "bytes_freed": v.bytes_freed,
            })).collect::<Vec<_>>(),
            "bytes_hashed": r.bytes_hashed(),
            "bytes_written": r.bytes_written(),
            "duration_ms": r.duration_ms,
            "failed": r.failed(),
        })
    );
}

fn model_json(m: &AdoptedModel) -> serde_json::Value {
    json!({
        "id": m.id,
        "ref": m.model_ref,
        "origin": m.origin,
        "action": m.action.as_str(),
        "files": m.files,
        "bytes": m.bytes,
        "hard_linked": m.ingest.hard_linked,
        "reflinked": m.ingest.reflinked,
        "copied": m.ingest.copied,
        "already_stored": m.ingest.already_stored,
        "in_place": m.ingest.in_place,
        "bytes_written": m.bytes_written,
        "bytes_hashed": m.bytes_hashed,
        "trust": trust(m.trust),
        "failure": m.failure,
        "refs": m.refs,
        "stand_ins": m.stand_ins,
        "entry": m.entry.as_ref().map(entry_json),
    })
}
