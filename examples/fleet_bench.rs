//! The fleet benchmark (feature `nats`; needs `nats-server` on the PATH):
//!
//! 1. catch-up export of a journal of `--records` (default 1,000,000)
//!    records over `--ids` (default 100,000) models into a local
//!    `nats-server -js`, in events/s (the exporter keeps a sliding window
//!    of `--window` unacknowledged messages), beside the same client
//!    publishing the same bytes (the same bodies and message ids, rendered
//!    beforehand, with the same sliding window) in a bare loop: the limit.
//!    Interleaved, `--rounds` times (default 2), each into a fresh
//!    subject; the ratio of each round and their median are printed last;
//! 2. `fleet ls` at `--nodes` × `--models` (default 100 × 100).
//!
//! `cargo run --release --features nats --example fleet_bench -- [--records N]
//! [--ids N] [--rounds N] [--window N] [--nodes N] [--models N] [--dir DIR]`

use async_nats::jetstream::{self, message::PublishMessage, stream};
use catalog_core::fleet::{self, ExportOptions, Layout, NatsConfig, NodeName};
use catalog_core::{Catalog, Digest, EntrySpec, Options};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spec(i: u64, v: u64) -> EntrySpec {
    let d = Digest::of_bytes(format!("{i}-{v}").as_bytes());
    EntrySpec::new(
        format!("org{:03}--repo-{i:06}--q4_k_m", i % 1000),
        format!("hf:org{:03}/repo-{i:06}/model-q4_k_m.gguf", i % 1000),
        format!("blobs/sha256/{}", d.hex()),
    )
    .digest(d)
    .size_bytes(4_400_000_000 + i)
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let records = arg("--records", 1_000_000);
    let ids = arg("--ids", 100_000).min(records).max(1);
    let rounds = arg("--rounds", 2);
    let nodes = arg("--nodes", 100);
    let models = arg("--models", 100);
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| std::path::PathBuf::from("."), Into::into);
    let work = tempfile::Builder::new()
        .prefix("fleet-bench-")
        .tempdir_in(base)
        .unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server(
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(work.path().join("js"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server on the PATH"),
    );
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("nats://127.0.0.1:{port}");
    let server_pid = server.0.id().to_string();
    let cpu = |what: &str, n: u64, f: &mut dyn FnMut()| {
        let (c0, s0) = (cpu_secs("self"), cpu_secs(&server_pid));
        f();
        let (c1, s1) = (cpu_secs("self"), cpu_secs(&server_pid));
        println!(
            "  {what}: client CPU {:.2} us/event, server CPU {:.2} us/event",
            (c1 - c0) * 1e6 / n as f64,
            (s1 - s0) * 1e6 / n as f64
        );
    };
    let nats = NatsConfig::new(&url).unwrap();

    // The journal.
    let root = work.path().join("catalog");
    let t = Instant::now();
    {
        let c = Catalog::open_with(&root, Options::default().auto_compact(None)).unwrap();
        let threads = 64;
        std::thread::scope(|s| {
            for th in 0..threads {
                let c = c.clone();
                s.spawn(move || {
                    let mut n = th;
                    while n < records {
                        c.put(spec(n % ids, n / ids)).unwrap();
                        n += threads;
                    }
                });
            }
        });
    }
    println!(
        "journal: {records} records over {ids} ids built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The bodies the bare loop publishes: exactly the exporter's.
    let catalog = Catalog::open_read_only(&root).unwrap();
    let cid = catalog.catalog_id();
    let mut export_rates = Vec::new();
    let mut bare_rates = Vec::new();
    let mut with_state = Vec::new();
    for round in 0..rounds {
        let node = NodeName::new(format!("bench{round}")).unwrap();
        let mut opts = ExportOptions::new(node.clone());
        opts.flush_every = Duration::from_secs(3600);
        opts.window = arg("--window", 1024) as usize;
        let t = Instant::now();
        let mut report = None;
        cpu("export", records, &mut || {
            report = Some(fleet::export(&root, &nats, &opts).unwrap())
        });
        let report = report.unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(report.published, records);
        export_rates.push(records as f64 / secs);
        with_state.push(report.state_puts);
        println!(
            "round {round}: export {records} events in {secs:.2} s = {:.0} events/s \
             (including {} fleet-state puts at the end)",
            records as f64 / secs,
            report.state_puts
        );

        let t = Instant::now();
        let read = catalog.events(0).unwrap().count();
        let read_secs = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let bodies: Vec<(bytes::Bytes, String)> = catalog
            .events(0)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    fleet::event_body(&e, &node, &cid).into(),
                    fleet::msg_id(&node, &cid, e.seq),
                )
            })
            .collect();
        println!(
            "round {round}: reading the journal alone: {:.0} events/s; reading and rendering \
             the bodies: {:.0} events/s",
            read as f64 / read_secs,
            bodies.len() as f64 / t.elapsed().as_secs_f64()
        );
        let mut rate = 0.0;
        cpu("bare loop", records, &mut || {
            rate = bare_loop(&url, round, &bodies, opts.window)
        });
        bare_rates.push(rate);
        println!(
            "round {round}: bare loop {} messages: {rate:.0} events/s",
            bodies.len()
        );
    }
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let mut ratios: Vec<f64> = export_rates
        .iter()
        .zip(&bare_rates)
        .map(|(e, b)| e / b)
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "catch-up export / bare loop, each round's ratio (sorted): {}",
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "catch-up export / bare loop: median {:.2} of {rounds} rounds; best of each {:.2} \
         ({:.0} vs {:.0} events/s)",
        ratios[ratios.len() / 2],
        best(&export_rates) / best(&bare_rates),
        best(&export_rates),
        best(&bare_rates)
    );

    // fleet ls at nodes × models: one catalog of `models` models exported
    // under `nodes` names.
    let small = work.path().join("small");
    {
        let c = Catalog::open(&small).unwrap();
        for i in 0..models {
            c.put(spec(i, 0)).unwrap();
        }
    }
    // A bucket of its own, so that it holds exactly nodes × models models.
    let ls_layout = Layout {
        bucket: "LSBENCH_FLEET".into(),
        ..Layout::default()
    };
    for n in 0..nodes {
        let mut opts = ExportOptions::new(NodeName::new(format!("node{n:03}")).unwrap());
        opts.layout = ls_layout.clone();
        fleet::export(&small, &nats, &opts).unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let listing =
            fleet::fleet_ls(&nats, &ls_layout, None, Duration::from_secs(60), None).unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(listing.models.len() as u64, nodes * models);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "fleet ls of {nodes} nodes x {models} models: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        times[2] * 1e3,
        times[0] * 1e3,
        times[4] * 1e3
    );
}

/// The same client publishing pre-rendered bodies (shared buffers: a
/// clone is a reference count) under their message ids, with the same
/// sliding window as the exporter: at most `window` unacknowledged, each
/// acknowledgement awaited in order as the next message goes out.
fn bare_loop(url: &str, round: u64, bodies: &[(bytes::Bytes, String)], window: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = jetstream::context::ContextBuilder::new()
            .max_ack_inflight(2 * window + 64)
            .build(client);
        let name = format!("BARE{round}");
        let subject = async_nats::Subject::from(format!("bare{round}.events"));
        js.get_or_create_stream(stream::Config {
            name,
            subjects: vec![subject.to_string()],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .unwrap();
        let t = Instant::now();
        let mut acks = std::collections::VecDeque::with_capacity(window);
        for (body, id) in bodies {
            let msg = PublishMessage::build().payload(body.clone()).message_id(id);
            acks.push_back(js.send_publish(subject.clone(), msg).await.unwrap());
            if acks.len() >= window {
                acks.pop_front().unwrap().await.unwrap();
            }
        }
        for ack in acks {
            ack.await.unwrap();
        }
        bodies.len() as f64 / t.elapsed().as_secs_f64()
    })
}
