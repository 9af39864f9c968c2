//! A real `nats-server -js` for the fleet tests: on 127.0.0.1, a free port,
//! a temporary store; killed when dropped. `.ci/run` installs Debian's
//! `nats-server`; these tests run only with `--features nats`.

use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store: tempfile::TempDir,
    extra: Vec<String>,
    jetstream: bool,
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl NatsServer {
    pub fn start() -> NatsServer {
        NatsServer::start_with(&[])
    }

    /// Starts one with extra command-line arguments (`--auth TOKEN`).
    pub fn start_with(extra: &[&str]) -> NatsServer {
        let mut s = NatsServer {
            child: None,
            port: free_port(),
            store: tempfile::tempdir().unwrap(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            jetstream: true,
        };
        s.up();
        s
    }

    /// Starts one without JetStream.
    pub fn start_without_jetstream() -> NatsServer {
        let mut s = NatsServer {
            child: None,
            port: free_port(),
            store: tempfile::tempdir().unwrap(),
            extra: Vec::new(),
            jetstream: false,
        };
        s.up();
        s
    }

    /// Starts one with the permission template of docs/FLEET.md (users
    /// `n1`, `n2`, `reader`, `admin`; see [`as_user`]).
    pub fn start_with_permissions() -> NatsServer {
        NatsServer::start_with(&["-c", PERMISSIONS])
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server process (same port, same store) and waits until it
    /// accepts connections.
    pub fn up(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new("nats-server")
            .args(if self.jetstream { &["-js"][..] } else { &[] })
            .args(["-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.store.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is not installed (apt-get install nats-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The permission template (docs/FLEET.md, "Permissions").
pub const PERMISSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fleet-permissions.conf");

/// The template's password of `user`.
pub fn password(user: &str) -> String {
    format!("{user}-test-password")
}

/// `cmd` authenticating as `user` of the permission template (from the
/// environment, as an operator would).
pub fn as_user<'a>(cmd: &'a mut Command, user: &str) -> &'a mut Command {
    cmd.env("NATS_USER", user)
        .env("NATS_PASSWORD", password(user))
}

/// A current-thread runtime for the tests' own NATS calls.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A plain client logged in as `user` of the permission template.
pub async fn connect_as(url: &str, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), password(user))
        .connect(url)
        .await
        .unwrap()
}

/// One message of the stream, read independently of the exporter.
#[derive(Debug, Clone)]
pub struct StreamMsg {
    pub stream_seq: u64,
    pub subject: String,
    pub msg_id: String,
    pub body: Value,
    pub raw: Vec<u8>,
    /// Its `Catalog-Sig` header (empty: none).
    pub sig: String,
}

/// Every message of stream `stream`, in stream order, read one by one by
/// sequence number with the plain client.
pub fn read_stream(url: &str, stream: &str) -> Vec<StreamMsg> {
    read_stream_as(url, stream, None)
}

/// [`read_stream`], logged in as `user` of the permission template.
pub fn read_stream_as(url: &str, stream: &str, user: Option<&str>) -> Vec<StreamMsg> {
    rt().block_on(async {
        let client = match user {
            Some(u) => connect_as(url, u).await,
            None => async_nats::connect(url).await.unwrap(),
        };
        let js = async_nats::jetstream::new(client);
        let Ok(mut s) = js.get_stream(stream).await else {
            return Vec::new(); // not created yet
        };
        let info = s.info().await.unwrap().clone();
        let mut out = Vec::new();
        for seq in info.state.first_sequence..=info.state.last_sequence {
            let Ok(m) = s.get_raw_message(seq).await else {
                continue;
            };
            out.push(StreamMsg {
                stream_seq: m.sequence,
                subject: m.subject.to_string(),
                msg_id: m
                    .headers
                    .get("Nats-Msg-Id")
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default(),
                body: serde_json::from_slice(&m.payload).unwrap_or(Value::Null),
                raw: m.payload.to_vec(),
                sig: m
                    .headers
                    .get("Catalog-Sig")
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        out
    })
}

/// The messages of `node`'s subject.
pub fn node_messages(url: &str, node: &str) -> Vec<StreamMsg> {
    let subject = format!("catalog.{node}.events");
    read_stream(url, "CATALOG")
        .into_iter()
        .filter(|m| m.subject == subject)
        .collect()
}

/// The `catalog` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_catalog"))
}

/// `catalog --root <root> <args>` with a clean environment.
pub fn catalog(root: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .env_remove("CATALOG_ROOT")
        .env_remove("NATS_URL")
        .env_remove("NATS_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `seq` of the last message of `node`'s subject (0: none).
pub fn last_seq(url: &str, node: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let Ok(s) = js.get_stream("CATALOG").await else {
            return 0;
        };
        match s
            .get_last_raw_message_by_subject(&format!("catalog.{node}.events"))
            .await
        {
            Ok(m) => serde_json::from_slice::<Value>(&m.payload).unwrap()["seq"]
                .as_u64()
                .unwrap(),
            Err(_) => 0,
        }
    })
}

/// What the stream answered to a publish: stored (its stream sequence),
/// or the error (a refusal, a permissions violation's timeout).
pub type Answer = Result<(u64, bool), String>;

/// Publishes `body` on `subject` with `headers`, logged in as `user` of
/// the permission template, through JetStream: the stream's answer
/// (sequence, duplicate) or the error (a permissions violation surfaces
/// as a timeout: the server drops the message).
pub fn publish_as(
    url: &str,
    user: &str,
    subject: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    rt().block_on(async {
        let client = connect_as(url, user).await;
        let js = async_nats::jetstream::context::ContextBuilder::new()
            .timeout(Duration::from_secs(2))
            .build(client);
        let mut h = async_nats::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, *v);
        }
        let ack = js
            .publish_with_headers(subject.to_string(), h, body.to_vec().into())
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok((ack.sequence, ack.duplicate))
    })
}

/// Sends a JetStream API request as `user`: the server's answer, or the
/// error (a permissions violation surfaces as a timeout).
pub fn api_as(url: &str, user: &str, subject: &str, body: &str) -> Result<Value, String> {
    rt().block_on(async {
        let client = connect_as(url, user).await;
        let reply = tokio::time::timeout(
            Duration::from_secs(2),
            client.request(subject.to_string(), body.to_string().into()),
        )
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
        serde_json::from_slice(&reply.payload).map_err(|e| e.to_string())
    })
}
