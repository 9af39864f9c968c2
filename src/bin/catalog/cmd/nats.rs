//! The NATS connection flags `export` and `fleet` share: the standard NATS
//! options. Secrets are taken from the environment (`NATS_TOKEN`,
//! `NATS_PASSWORD`) or a file (`--creds`), never from the command line,
//! where `ps` shows them; none is ever printed.

use catalog_core::Result;
use catalog_core::fleet::NatsConfig;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct NatsArgs {
    /// NATS server URL(s), comma-separated, each tried until one answers
    /// [default: $NATS_URL]. No credentials in it (`user:pass@` is
    /// refused): use $NATS_USER and $NATS_PASSWORD, $NATS_TOKEN or --creds.
    #[arg(long = "nats", value_name = "URL")]
    url: Option<String>,
    /// A NATS credentials file (user JWT and nkey seed) [default: $NATS_CREDS].
    #[arg(long, value_name = "FILE")]
    creds: Option<PathBuf>,
    /// User name (the password comes from $NATS_PASSWORD) [default: $NATS_USER].
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// CA certificate(s) to trust, PEM.
    #[arg(long, value_name = "FILE")]
    tlsca: Option<PathBuf>,
    /// Client certificate for mutual TLS, PEM (with --tlskey).
    #[arg(long, value_name = "FILE", requires = "tlskey")]
    tlscert: Option<PathBuf>,
    /// Client key for mutual TLS, PEM (with --tlscert).
    #[arg(long, value_name = "FILE", requires = "tlscert")]
    tlskey: Option<PathBuf>,
    /// Refuse a connection that is not TLS.
    #[arg(long)]
    tls: bool,
    /// Seconds one connection attempt may take.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    connect_timeout: u64,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl NatsArgs {
    /// The connection settings: flags first, then the environment
    /// (`NATS_URL`, `NATS_CREDS`, `NATS_TOKEN`, `NATS_USER`,
    /// `NATS_PASSWORD`).
    pub fn config(&self) -> Result<NatsConfig> {
        let url = self
            .url
            .clone()
            .or_else(|| env("NATS_URL"))
            .ok_or_else(|| catalog_core::Error::InvalidInput {
                field: "nats",
                reason: "no server: pass --nats nats://HOST:PORT or set NATS_URL".into(),
            })?;
        let mut cfg = NatsConfig::new(&url)?;
        cfg.creds = self
            .creds
            .clone()
            .or_else(|| env("NATS_CREDS").map(PathBuf::from));
        if let Some(token) = env("NATS_TOKEN") {
            cfg.token = Some(token);
        }
        if let Some(user) = self.user.clone().or_else(|| env("NATS_USER")) {
            cfg.user_password = Some((user, env("NATS_PASSWORD").unwrap_or_default()));
        }
        cfg.tls_ca = self.tlsca.clone();
        cfg.tls_client = self.tlscert.clone().zip(self.tlskey.clone());
        cfg.tls_required = self.tls;
        cfg.connect_timeout = Duration::from_secs(self.connect_timeout.max(1));
        Ok(cfg)
    }
}
