//! `catalog export --nats URL [--node NAME] [--stream CATALOG] [--follow]`:
//! every journal event to NATS JetStream, exactly once (docs/FLEET.md).
//! Reads through a read-only handle: never takes the writer lock.

use super::Context;
use super::nats::NatsArgs;
use catalog_core::Result;
use catalog_core::fleet::{self, ExportOptions, Layout, NodeName};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    nats: NatsArgs,
    /// This node's name in the fleet (A-Z a-z 0-9 _ -) [default: the host
    /// name up to its first dot].
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// The JetStream stream (created if missing, subjects catalog.*.events).
    #[arg(long, value_name = "NAME", default_value = fleet::DEFAULT_STREAM)]
    stream: String,
    /// The fleet key-value bucket (created if missing).
    #[arg(long, value_name = "NAME", default_value = fleet::DEFAULT_BUCKET)]
    bucket: String,
    /// Replicas of the stream and bucket when they are created.
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: usize,
    /// Keep publishing new events until interrupted, retrying with backoff
    /// while the server is away.
    #[arg(long)]
    follow: bool,
    /// Messages in flight: at most this many sent and not yet acknowledged.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    window: usize,
    /// Seconds between heartbeats while following and idle.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    heartbeat: u64,
    /// Sign every event and fleet-state value with the node's Ed25519 key
    /// (<root>/catalog/fleet-signing.key, created 0600 on first use) and
    /// name its public key in the node's claim, so `fleet ls --verify` can
    /// prove where each row came from.
    #[arg(long)]
    sign: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    let node = match &args.node {
        Some(name) => NodeName::new(name.clone())?,
        None => NodeName::from_host()?,
    };
    fleet::check_stream_name("stream", &args.stream)?;
    fleet::check_stream_name("bucket", &args.bucket)?;
    let nats = args.nats.config()?;
    let mut opts = ExportOptions::new(node);
    opts.layout = Layout {
        stream: args.stream.clone(),
        bucket: args.bucket.clone(),
        replicas: args.replicas.max(1),
        ..Layout::default()
    };
    opts.follow = args.follow;
    opts.window = args.window.clamp(1, 65_536);
    opts.heartbeat = Duration::from_secs(args.heartbeat.max(1));
    if args.sign {
        opts.sign = Some(fleet::NodeKey::load_or_create(&ctx.root)?);
    }
    let sign_key = opts.sign.as_ref().map(|k| k.public_hex());
    let report = fleet::export(&ctx.root, &nats, &opts)?;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "node": report.node,
                "catalog_id": report.catalog_id,
                "stream": args.stream,
                "server": nats.server(),
                "resumed_after": report.resumed_after,
                "published": report.published,
                "duplicates": report.duplicates,
                "ids_taken": report.ids_taken,
                "last_seq": report.last_seq,
                "state_puts": report.state_puts,
                "sign_key": sign_key,
            })
        );
    } else {
        outln!(
            "node {} (catalog {}): stream {} holds events up to {}; {} published now \
             ({} already there), after {}",
            report.node,
            report.catalog_id,
            args.stream,
            report.last_seq,
            report.published,
            report.duplicates,
            report.resumed_after
        );
        if let Some(key) = sign_key {
            outln!("signed with {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
