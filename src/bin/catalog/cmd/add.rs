//! `catalog add <path-or-ref> [--id ID] [--digest sha256:HEX] [--link MODE] [--ref MODEL_REF]`

use super::Context;
use super::progress::Progress;
use crate::output::{entry_json, human_size, short_digest, trust};
use catalog_core::{
    Digest, Error, FileFetcher, ImportOptions, LinkMode, ModelFetcher, ModelRef, Result,
};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A local file (one-file model, e.g. a GGUF) or directory (multi-file
    /// model), as a path or a `file:` reference. `hf:` and URL references
    /// must be fetched first.
    source: String,
    /// Register under this id [default: the file or directory name].
    #[arg(long)]
    id: Option<String>,
    /// The digest the model must have (a file's SHA-256, or a directory's
    /// manifest digest); on a mismatch nothing is registered.
    #[arg(long, value_name = "sha256:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// How the files get into the store.
    #[arg(long, value_enum, default_value_t = Link::Copy)]
    link: Link,
    /// Where the model came from (`hf:org/repo@rev`, `https://…`,
    /// `oci://…`, `ollama:name:tag`, …), recorded as its reference instead
    /// of the local path (stored redacted, like every reference); the
    /// default id is made from it.
    #[arg(long = "ref", value_name = "MODEL_REF")]
    origin: Option<String>,
}

/// `--link`: copy, hard-link or move the source files.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Link {
    /// Copy the bytes; the source is untouched.
    Copy,
    /// Hard-link when on the same file system, else copy.
    Hardlink,
    /// Move when on the same file system, else copy.
    Move,
}

impl From<Link> for LinkMode {
    fn from(l: Link) -> LinkMode {
        match l {
            Link::Copy => LinkMode::Copy,
            Link::Hardlink => LinkMode::HardLink,
            Link::Move => LinkMode::Move,
        }
    }
}

/// Parses `sha256:<64 hex digits>` for clap (a bad one is a usage error).
pub fn parse_digest(s: &str) -> std::result::Result<Digest, String> {
    match s.parse::<Digest>() {
        Ok(d) if d.is_sha256() => Ok(d),
        Ok(_) => Err("expected `sha256:<64 hex digits>`".into()),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let cwd = std::env::current_dir().map_err(|e| Error::Io {
        path: ".".into(),
        source: e,
    })?;
    let source = ModelRef::parse_with_base(&args.source, &cwd)?;
    let origin = match &args.origin {
        Some(r) => Some(ModelRef::parse_with_base(r, &cwd)?),
        None => None,
    };
    // Look at the source before opening (and perhaps creating) the catalog:
    // a reference that is not local, or a path that does not exist, is bad
    // input and nothing is written.
    let fetcher = FileFetcher::default();
    let total = fetcher.fetch(&source)?.size();
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| origin.as_ref().unwrap_or(&source).default_id());

    let catalog = ctx.writer()?;
    let replaced = catalog.get(&id).ok();
    let mut opts = ImportOptions::default()
        .id(id.clone())
        .link(args.link.into())
        .context(ctx.op_context("add"));
    if let Some(d) = args.digest {
        opts = opts.expected(d);
    }
    if let Some(origin) = origin {
        opts = opts.origin(origin);
    }
    let bar = Progress::bytes(total, &format!("hashing {id}"));
    let report = catalog.import_with(&fetcher, &source, opts, &|n| bar.inc(n));
    bar.finish();
    let report = report?;

    let e = &report.entry;
    if ctx.json {
        let mut out = entry_json(e);
        out["import"] = json!({
            "files": report.files,
            "bytes": report.bytes,
            "bytes_stored": report.bytes_stored,
            "bytes_deduplicated": report.bytes_deduplicated,
            "files_linked_or_moved": report.files_linked_or_moved,
            "duration_ms": report.duration_ms,
            "replaced": replaced.is_some(),
        });
        outln!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} ({}, {} file{}, {}) from {}",
        if replaced.is_some() {
            "replaced"
        } else {
            "added"
        },
        e.id,
        human_size(e.size_bytes),
        report.files,
        if report.files == 1 { "" } else { "s" },
        e.digest.as_ref().map_or("-".into(), short_digest),
        e.model_ref
    );
    outln!(
        "trust {}: {}",
        trust(e.trust),
        e.last_verification
            .as_ref()
            .map_or("", |v| v.reason.as_str())
    );
    outln!(
        "stored {}, deduplicated {}, {} linked or moved, in {} ms",
        human_size(report.bytes_stored),
        human_size(report.bytes_deduplicated),
        report.files_linked_or_moved,
        report.duration_ms
    );
    Ok(ExitCode::SUCCESS)
}
