//! Where the NATS server is and how to authenticate: the standard NATS
//! options (a credentials file, a token, a user and password, TLS), and the
//! rules about them: no credential ever reaches a log line, an error or the
//! output, and none is taken from a server URL (a URL is typed on command
//! lines, which `ps` and `/proc/PID/cmdline` show to every user of the
//! host): `nats://user:pass@host` and `nats://token@host` are refused.
//!
//! Every error text from the client passes through [`NatsConfig::scrub`],
//! which blanks each known secret.

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach and authenticate with the NATS server.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct NatsConfig {
    url: String,
    /// A NATS credentials file (`.creds`: a user JWT and its nkey seed).
    pub creds: Option<PathBuf>,
    /// A token (`NATS_TOKEN` in the command line).
    pub token: Option<String>,
    /// A user name and password (`NATS_USER`, `NATS_PASSWORD`).
    pub user_password: Option<(String, String)>,
    /// CA certificate(s) to trust (PEM).
    pub tls_ca: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub tls_client: Option<(PathBuf, PathBuf)>,
    /// Refuse a connection that is not TLS.
    pub tls_required: bool,
    /// How long one connection attempt may take (default 5 s).
    pub connect_timeout: Duration,
    /// How long a JetStream request or publish acknowledgement may take
    /// (default 10 s).
    pub request_timeout: Duration,
}

impl std::fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConfig")
            .field("server", &self.server())
            .field("creds", &self.creds)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("user", &self.user_password.as_ref().map(|(u, _)| u))
            .field("tls_ca", &self.tls_ca)
            .field("tls_required", &self.tls_required)
            .finish()
    }
}

impl NatsConfig {
    /// A server URL (`nats://host:4222`, `tls://host:4222`, `host:4222`, or
    /// several separated by commas). User information in it (`user:pass@`,
    /// `token@`) is refused: credentials come from [`NatsConfig::creds`],
    /// [`NatsConfig::token`] or [`NatsConfig::user_password`].
    pub fn new(url: &str) -> Result<NatsConfig> {
        let mut cfg = NatsConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            ..NatsConfig::default()
        };
        let mut servers = Vec::new();
        for one in url.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (scheme, rest) = match one.split_once("://") {
                Some((s, r)) => (Some(s), r),
                None => (None, one),
            };
            if rest.contains('@') {
                // Not echoed: the text before `@` is a secret.
                return Err(Error::invalid(
                    "nats",
                    "a server URL may not carry credentials (`user:pass@` or `token@`): a \
                     command line is visible to every user of the host (ps, /proc/PID/cmdline) \
                     for as long as the command runs; set NATS_USER and NATS_PASSWORD, or \
                     NATS_TOKEN, or pass --creds FILE",
                ));
            }
            let host = rest;
            if host.is_empty() || host.contains('/') && !host.ends_with('/') {
                return Err(Error::invalid(
                    "nats",
                    "the server must be nats://HOST:PORT (or several, separated by commas)",
                ));
            }
            servers.push(match scheme {
                Some(s) => format!("{s}://{host}"),
                None => host.to_string(),
            });
        }
        if servers.is_empty() {
            return Err(Error::invalid("nats", "no server given"));
        }
        cfg.url = servers.join(",");
        Ok(cfg)
    }

    /// The server URL(s) without credentials: what messages show.
    pub fn server(&self) -> &str {
        &self.url
    }

    /// `text` with every credential this configuration holds blanked out
    /// (and token shapes scrubbed, as everywhere in the crate).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(t) = &self.token {
            secrets.push(t);
        }
        if let Some((_, p)) = &self.user_password {
            secrets.push(p);
        }
        for s in secrets.into_iter().filter(|s| s.len() >= 3) {
            out = out.replace(s, "***");
        }
        crate::model_ref::scrub_tokens(&out)
    }

    /// An [`Error::Nats`] for a failed `op`, with the client's error scrubbed.
    pub(crate) fn error(&self, op: &'static str, err: impl std::fmt::Display) -> Error {
        Error::Nats {
            server: self.url.clone(),
            op,
            reason: self.scrub(&err.to_string()),
        }
    }

    /// Connects. `retry`: keep trying in the background, forever, and
    /// return at once (follow mode); otherwise one bounded attempt.
    pub(crate) async fn connect(&self, retry: bool) -> Result<Connection> {
        let mut opts = async_nats::ConnectOptions::new()
            .name("catalog-core fleet")
            .connection_timeout(self.connect_timeout)
            .request_timeout(Some(self.request_timeout))
            .require_tls(self.tls_required);
        if let Some(path) = &self.creds {
            opts = opts
                .credentials_file(path)
                .await
                .map_err(|e| self.error("reading the credentials file", e))?;
        }
        if let Some(token) = &self.token {
            opts = opts.token(token.clone());
        }
        if let Some((user, pass)) = &self.user_password {
            opts = opts.user_and_password(user.clone(), pass.clone());
        }
        if let Some(ca) = &self.tls_ca {
            opts = opts.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.tls_client {
            opts = opts.add_client_certificate(cert.clone(), key.clone());
        }
        opts = if retry {
            opts.retry_on_initial_connect().max_reconnects(None)
        } else {
            opts.max_reconnects(Some(1))
        };
        let servers: Vec<async_nats::ServerAddr> = self
            .url
            .split(',')
            .map(|s| s.parse())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.error("parsing the server address", e))?;
        let client = opts
            .connect(servers)
            .await
            .map_err(|e| self.error("connecting", e))?;
        Ok(Connection { client })
    }
}

/// A connected client.
pub(crate) struct Connection {
    pub client: async_nats::Client,
}

impl Connection {
    /// Runs `op` on this connection.
    pub async fn guard<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        op.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_refused_without_being_shown() {
        for url in [
            "nats://alice:s3cr%40t@127.0.0.1:4222",
            "nats://tok3n-value@h:1,nats://h2:2",
            "nats://h:1,tok3n-value@h2:2",
            "alice:s3cret@127.0.0.1",
        ] {
            let err = NatsConfig::new(url).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, Error::InvalidInput { field: "nats", .. }),
                "{url}: {err:?}"
            );
            assert!(
                text.contains("NATS_PASSWORD") && text.contains("--creds"),
                "says what to use instead: {text}"
            );
            assert!(
                !text.contains("s3cr") && !text.contains("tok3n"),
                "never shown: {text}"
            );
        }
        let cfg = NatsConfig::new("nats://h:1, nats://h2:2,h3:3").unwrap();
        assert_eq!(cfg.server(), "nats://h:1,nats://h2:2,h3:3");
        assert!(
            NatsConfig::new("").is_err(),
            "an empty server list is refused"
        );
    }
}
