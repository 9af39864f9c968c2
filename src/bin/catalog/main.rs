//! `catalog`: the command line of catalog-core. `main` only parses and
//! dispatches; each command lives in `cmd/<name>.rs`.

#![deny(unsafe_code)]

#[macro_use]
mod stdio;
mod actor;
mod cmd;
mod output;
mod removal;

use catalog_core::{Error, Lifecycle};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The model catalog of this node: which model files are on disk, their
/// digests, lifecycle and trust, and the history of every change.
///
/// Exit codes: 0 success; 1 a verification failed (also an adopted model
/// whose bytes do not match its publisher's digest), `check` found a problem,
/// `evict`, `delete` or `gc` could not remove or sync a store file (the
/// record is written, the report printed and the files named on stderr;
/// `gc` retries), or an operation failed; 2 bad usage or input (nothing
/// written; also an adoption whose ids belong to models from elsewhere);
/// 3 another process holds the writer lock.
///
/// If the reader of stdout goes away (`catalog list | head -1`) the command
/// stops writing quietly and keeps its exit code; if stdout fails otherwise
/// (a full disk) it says so on stderr and exits 1. What it changed stays
/// changed either way.
#[derive(Parser, Debug)]
#[command(name = "catalog", version, about, long_about)]
pub struct Cli {
    /// Catalog root [default: $CATALOG_ROOT, else ~/.cache/models].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Machine-readable output (JSON; events as JSON lines).
    #[arg(long, global = true)]
    json: bool,
    /// Correlation id stored with the records this command writes (at most
    /// 256 bytes, no control characters).
    #[arg(long, global = true, value_name = "ID")]
    correlation_id: Option<String>,
    /// Log more (-v: what the catalog does; -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the main job end to end on the embedded sample model: register,
    /// verify, list, compact, reopen.
    Demo,
    /// Import a local model file or directory: copy (or link, or move) it
    /// into the store, hash it, register and verify it.
    Add(cmd::add::Args),
    /// Adopt the models this node already has (a Hugging Face hub cache as
    /// huggingface_hub 2.5.0 writes it, an Ollama models directory, a model
    /// directory or GGUF file): linked, not copied, and checked against
    /// their publishers' digests; exits 1
    /// if a model's bytes do not match, 2 (writing nothing) if an id it
    /// would register belongs to a model from elsewhere (adopt that one
    /// under another id with --as).
    Adopt(cmd::adopt::Args),
    /// List the models.
    List(cmd::list::Args),
    /// Show one model.
    Show(cmd::show::Args),
    /// Every change to one model, oldest first (across compactions).
    History(cmd::history::Args),
    /// Re-hash models' stored files and record the outcome; exits 1 if any
    /// verification failed.
    Verify(cmd::verify::Args),
    /// Mark a model retired (kept, not to be selected).
    Retire(cmd::lifecycle::Args),
    /// Mark a model active again.
    Activate(cmd::lifecycle::Args),
    /// Remove a model and the stored files no other model uses; exits 1 if
    /// a file could not be removed.
    Evict(cmd::evict::Args),
    /// Remove a model from the catalog, and the stored files no other model
    /// uses; exits 1 if a file could not be removed.
    Delete(cmd::delete::Args),
    /// Remove unreferenced store files; with --max-bytes, evict retired
    /// models until the store fits. Exits 1 if a file could not be removed.
    Gc(cmd::gc::Args),
    /// Write a snapshot so that opening replays only what follows it.
    Compact,
    /// Print the journal head (sequence number, chain value and time) to pin
    /// elsewhere.
    Head,
    /// Check every record's CRC and chain, every snapshot and the store,
    /// changing nothing; exits 1 if anything is wrong.
    Check(cmd::check::Args),
    /// Print the journal's events (JSON lines with --json); --follow keeps
    /// printing new ones.
    Events(cmd::events::Args),
    /// Salvage a damaged catalog: keep every valid record, report the gaps.
    Repair,
    /// Publish every journal event to NATS JetStream, exactly once
    /// (--follow: and every new one). Needs the `nats` feature.
    #[cfg(feature = "nats")]
    Export(cmd::export::Args),
    /// The fleet view from NATS JetStream: `ls` and `history`. Needs the
    /// `nats` feature.
    #[cfg(feature = "nats")]
    #[command(subcommand)]
    Fleet(cmd::fleet::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let ctx = match cmd::Context::new(cli.root.as_deref(), cli.json, cli.correlation_id.as_deref())
    {
        Ok(ctx) => ctx,
        Err(err) => return stdio::finish(output::fail(&err, cli.json)),
    };
    let result = match &cli.command {
        Command::Demo => cmd::demo::run(&ctx),
        Command::Add(args) => cmd::add::run(&ctx, args),
        Command::Adopt(args) => cmd::adopt::run(&ctx, args),
        Command::List(args) => cmd::list::run(&ctx, args),
        Command::Show(args) => cmd::show::run(&ctx, args),
        Command::History(args) => cmd::history::run(&ctx, args),
        Command::Verify(args) => cmd::verify::run(&ctx, args),
        Command::Retire(args) => cmd::lifecycle::run(&ctx, args, Lifecycle::Retired),
        Command::Activate(args) => cmd::lifecycle::run(&ctx, args, Lifecycle::Active),
        Command::Evict(args) => cmd::evict::run(&ctx, args),
        Command::Delete(args) => cmd::delete::run(&ctx, args),
        Command::Gc(args) => cmd::gc::run(&ctx, args),
        Command::Compact => cmd::compact::run(&ctx),
        Command::Head => cmd::head::run(&ctx),
        Command::Check(args) => cmd::check::run(&ctx, args),
        Command::Events(args) => cmd::events::run(&ctx, args),
        Command::Repair => cmd::repair::run(&ctx),
        #[cfg(feature = "nats")]
        Command::Export(args) => cmd::export::run(&ctx, args),
        #[cfg(feature = "nats")]
        Command::Fleet(command) => cmd::fleet::run(&ctx, command),
    };
    let code = match result {
        Ok(code) => code,
        Err(err) => output::fail(&err, cli.json),
    };
    stdio::finish(code)
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(output::color_enabled())
        .with_target(false)
        .init();
}

/// The exit code for an error: 2 bad usage or input (nothing was written),
/// 3 busy, 1 anything else.
pub fn exit_code(err: &Error) -> u8 {
    match err {
        // The caller asked for something that cannot be: an invalid
        // argument, an unknown id, a root with no catalog.
        // A model file name that is not UTF-8 cannot be stored: bad input.
        // An adoption that would replace a model from elsewhere, and a
        // source that is (in) the catalog root: refused before anything
        // was written.
        Error::InvalidInput { .. }
        | Error::NotFound { .. }
        | Error::NoCatalog { .. }
        | Error::NonUtf8Path { .. }
        | Error::AdoptConflict { .. }
        | Error::CatalogRootOverlap { .. } => 2,
        Error::Busy { .. } => 3,
        // "The bytes are not what you said" is a failed verification, and a
        // stored path that escapes the root is damage, not a typo: both 1,
        // like corruption, I/O failures and the rest.
        Error::DigestMismatch { .. } | Error::UnsafePath { .. } => 1,
        _ => 1,
    }
}
