//! `catalog`: the command line of catalog-core. `main` only parses and
//! dispatches; each command lives in `cmd/<name>.rs`.

#![deny(unsafe_code)]

mod cmd;
mod output;

use catalog_core::Error;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The model catalog of this node: which model files are on disk, their
/// digests, lifecycle and trust, and the history of every change.
#[derive(Parser, Debug)]
#[command(name = "catalog", version, about, long_about = None)]
pub struct Cli {
    /// Catalog root [default: $CATALOG_ROOT, else ~/.cache/models].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Machine-readable output (JSON; events as JSON lines).
    #[arg(long, global = true)]
    json: bool,
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
    /// List the models.
    List(cmd::list::Args),
    /// Show one model.
    Show(cmd::show::Args),
    /// Mark a model retired (kept, not to be selected).
    Retire(cmd::lifecycle::Args),
    /// Mark a model active again.
    Activate(cmd::lifecycle::Args),
    /// Remove a model from the catalog.
    Delete(cmd::delete::Args),
    /// Write a snapshot so that opening replays only what follows it.
    Compact,
    /// Print the journal head (sequence number and chain value) to pin elsewhere.
    Head,
    /// Salvage a damaged catalog: keep every valid record, report the gaps.
    Repair,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let ctx = match cmd::Context::new(&cli) {
        Ok(ctx) => ctx,
        Err(err) => return output::fail(&err, cli.json),
    };
    let result = match &cli.command {
        Command::Demo => cmd::demo::run(&ctx),
        Command::List(args) => cmd::list::run(&ctx, args),
        Command::Show(args) => cmd::show::run(&ctx, args),
        Command::Retire(args) => cmd::lifecycle::run(&ctx, args, catalog_core::Lifecycle::Retired),
        Command::Activate(args) => cmd::lifecycle::run(&ctx, args, catalog_core::Lifecycle::Active),
        Command::Delete(args) => cmd::delete::run(&ctx, args),
        Command::Compact => cmd::compact::run(&ctx),
        Command::Head => cmd::head::run(&ctx),
        Command::Repair => cmd::repair::run(&ctx),
    };
    match result {
        Ok(code) => code,
        Err(err) => output::fail(&err, cli.json),
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .init();
}

/// The exit code for an error: 2 bad input, 3 busy, 1 anything else.
pub fn exit_code(err: &Error) -> u8 {
    match err {
        Error::InvalidInput { .. } | Error::NotFound { .. } | Error::NoCatalog { .. } => 2,
        Error::Busy { .. } => 3,
        _ => 1,
    }
}
