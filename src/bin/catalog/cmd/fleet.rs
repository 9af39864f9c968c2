//! `catalog fleet ls` and `catalog fleet history <ID>`: the fleet view from
//! NATS JetStream (docs/FLEET.md). Reads only; needs no local catalog. What
//! the library left out (a value or message that does not speak for the
//! node its key or subject names) is said on stderr, and listed under
//! `dropped` in `fleet ls --json`.

use super::Context;
use super::nats::NatsArgs;
use crate::output::{human_size, iso_time, table};
use catalog_core::fleet::{self, Dropped, Keys, Layout};
use catalog_core::{Error, Result};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Every (node, model) the fleet holds, and which nodes are stale.
    Ls(LsArgs),
    /// One model's events across every node, in time order.
    History(HistoryArgs),
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    #[command(flatten)]
    nats: NatsArgs,
    /// Only this model.
    #[arg(long, value_name = "ID")]
    model: Option<String>,
    /// A node is stale after this many seconds with no event and no heartbeat.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    stale_after: u64,
    /// The fleet key-value bucket.
    #[arg(long, value_name = "NAME", default_value = fleet::DEFAULT_BUCKET)]
    bucket: String,
    /// Keep only rows signed by their node's key (`catalog export --sign`):
    /// the key its claim names, or the one pinned with --keys.
    #[arg(long)]
    verify: bool,
    /// Verify against these keys instead of the claims' (one
    /// `<node> ed25519:<hex>` per line, as `catalog export --sign` prints
    /// them); implies --verify.
    #[arg(long, value_name = "FILE")]
    keys: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// The model id.
    id: String,
    #[command(flatten)]
    nats: NatsArgs,
    /// Only events from this long ago on (`90m`, `24h`, `7d`) or from this
    /// Unix time in milliseconds [default: from the model's first event on
    /// any node].
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// The JetStream stream.
    #[arg(long, value_name = "NAME", default_value = fleet::DEFAULT_STREAM)]
    stream: String,
    /// The fleet key-value bucket.
    #[arg(long, value_name = "NAME", default_value = fleet::DEFAULT_BUCKET)]
    bucket: String,
    /// Keep only rows signed by their node's key (`catalog export --sign`):
    /// the key its claim names, or the one pinned with --keys.
    #[arg(long)]
    verify: bool,
    /// Verify against these keys instead of the claims' (one
    /// `<node> ed25519:<hex>` per line, as `catalog export --sign` prints
    /// them); implies --verify.
    #[arg(long, value_name = "FILE")]
    keys: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Context, cmd: &Command) -> Result<ExitCode> {
    match cmd {
        Command::Ls(args) => ls(ctx, args),
        Command::History(args) => history(ctx, args),
    }
}

fn ls(ctx: &Context, args: &LsArgs) -> Result<ExitCode> {
    fleet::check_stream_name("bucket", &args.bucket)?;
    let layout = Layout {
        bucket: args.bucket.clone(),
        ..Layout::default()
    };
    let keys = verify_keys(args.verify, args.keys.as_deref())?;
    let listing = fleet::fleet_ls(
        &args.nats.config()?,
        &layout,
        args.model.as_deref(),
        Duration::from_secs(args.stale_after),
        keys.as_ref(),
    )?;
    if ctx.json {
        let models: Vec<Value> = listing
            .models
            .iter()
            .map(|m| {
                let mut v = json!(m);
                v["stale"] = json!(listing.is_stale(&m.node));
                v["last_event"] = json!(iso_time(m.last_event_ms));
                v
            })
            .collect();
        outln!(
            "{}",
            json!({ "models": models, "nodes": listing.nodes, "dropped": listing.dropped })
        );
        warn_dropped("fleet ls", &listing.dropped, false);
        return Ok(ExitCode::SUCCESS);
    }
    warn_dropped("fleet ls", &listing.dropped, false);
    print_listing(&listing);
    Ok(ExitCode::SUCCESS)
}

/// The two tables of `fleet ls`: models, then nodes.
fn print_listing(listing: &fleet::FleetListing) {
    let rows: Vec<Vec<String>> = listing
        .models
        .iter()
        .map(|m| {
            vec![
                m.node.clone(),
                m.id.clone(),
                m.lifecycle.clone(),
                m.trust.clone(),
                human_size(m.size_bytes),
                m.digest
                    .as_deref()
                    .map_or("-".into(), |d| d.chars().take(7 + 12).collect()),
                iso_time(m.last_event_ms),
                if listing.is_stale(&m.node) {
                    "stale"
                } else {
                    ""
                }
                .into(),
            ]
        })
        .collect();
    table(
        &[
            "NODE",
            "ID",
            "STATE",
            "TRUST",
            "SIZE",
            "DIGEST",
            "LAST EVENT",
            "",
        ],
        &rows,
    );
    outln!("");
    let rows: Vec<Vec<String>> = listing
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.node.node.clone(),
                n.node.catalog_id.clone(),
                n.node.exported_seq.to_string(),
                iso_time(n.seen_ms),
                if n.stale { "stale" } else { "ok" }.into(),
            ]
        })
        .collect();
    table(
        &["NODE", "CATALOG", "EXPORTED", "LAST SEEN", "STATUS"],
        &rows,
    );
}

fn history(ctx: &Context, args: &HistoryArgs) -> Result<ExitCode> {
    fleet::check_stream_name("stream", &args.stream)?;
    fleet::check_stream_name("bucket", &args.bucket)?;
    let layout = Layout {
        stream: args.stream.clone(),
        bucket: args.bucket.clone(),
        ..Layout::default()
    };
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let keys = verify_keys(args.verify, args.keys.as_deref())?;
    let found = fleet::fleet_history(
        &args.nats.config()?,
        &layout,
        &args.id,
        since,
        keys.as_ref(),
    )?;
    warn_dropped("fleet history", &found.dropped, ctx.json);
    let events = found.events;
    if !ctx.json
        && !crate::stdio::line(&format!(
            "{:<24}  {:<16}  {:<8}  {:<9}  CHANGE",
            "TIME", "NODE", "SEQ", "KIND"
        ))
    {
        return Ok(ExitCode::SUCCESS);
    }
    for e in &events {
        let line = if ctx.json {
            e.to_string()
        } else {
            format!(
                "{:<24}  {:<16}  {:<8}  {:<9}  {}",
                e["time"].as_str().unwrap_or("-"),
                e["node"].as_str().unwrap_or("-"),
                e["seq"].as_u64().unwrap_or(0),
                e["kind"].as_str().unwrap_or("-"),
                change(e)
            )
        };
        if !crate::stdio::line(&line) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The keys to verify with: none without --verify or --keys, the claims'
/// with --verify alone, the file's with --keys.
fn verify_keys(verify: bool, file: Option<&std::path::Path>) -> Result<Option<Keys>> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            Keys::pinned(&text).map(Some)
        }
        None if verify => Ok(Some(Keys::from_claims())),
        None => Ok(None),
    }
}

/// Says on stderr what a query left out (as a JSON object with `json`:
/// stdout holds only events there).
fn warn_dropped(what: &str, dropped: &[Dropped], json: bool) {
    if dropped.is_empty() {
        return;
    }
    let text = format!(
        "{what}: left out {} that do not speak for the node their key or subject names: {}",
        dropped.len(),
        Dropped::summary(dropped)
    );
    if json {
        errln!("{}", json!({ "warning": text, "dropped": dropped }));
    } else {
        errln!("warning: {text}");
    }
}

/// The fields an event set, in one line.
fn change(e: &Value) -> String {
    [
        "lifecycle",
        "result",
        "reason",
        "digest",
        "size_bytes",
        "bytes_reclaimed",
    ]
    .iter()
    .filter_map(|k| match &e[*k] {
        Value::Null => None,
        Value::String(s) => Some(format!("{k}={s}")),
        v => Some(format!("{k}={v}")),
    })
    .collect::<Vec<_>>()
    .join(" ")
}

/// `90m`, `24h`, `7d` ago, or Unix milliseconds.
fn parse_since(s: &str) -> Result<u64> {
    let bad = || Error::InvalidInput {
        field: "since",
        reason: format!("{s:?}: give a duration (90m, 24h, 7d) or Unix milliseconds"),
    };
    let unit = match s.chars().last() {
        Some('s') => 1_000,
        Some('m') => 60_000,
        Some('h') => 3_600_000,
        Some('d') => 86_400_000,
        _ => return s.parse().map_err(|_| bad()),
    };
    let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Ok(now.saturating_sub(n.saturating_mul(unit)))
}
