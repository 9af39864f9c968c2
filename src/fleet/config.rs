//! Where the NATS server is and how to authenticate: the standard NATS
//! options (a credentials file, a token, a user and password, TLS), and the
//! one rule about them: no credential ever reaches a log line, an error or
//! the output.
//!
//! Credentials in the URL (`nats://user:pass@host`, `nats://token@host`)
//! are taken out of it before the client sees it: the client logs the
//! server address at debug level, and only [`NatsConfig::server`] (the URL
//! without them) is ever shown. Every error text from the client passes
//! through [`NatsConfig::scrub`], which blanks each known secret.

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
    /// several separated by commas). User information in it becomes the
    /// user and password (`user:pass@`) or the token (`token@`).
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
            let (userinfo, host) = match rest.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, rest),
            };
            if host.is_empty() || host.contains('/') && !host.ends_with('/') {
                return Err(Error::invalid(
                    "nats",
                    "the server must be nats://HOST:PORT (or several, separated by commas)",
                ));
            }
            match userinfo.map(|u| u.split_once(':')) {
                Some(Some((user, pass))) => {
                    cfg.user_password = Some((percent_decode(user), percent_decode(pass)));
                }
                Some(None) => cfg.token = userinfo.map(percent_decode),
                None => {}
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_are_taken_out_of_it() {
        let cfg = NatsConfig::new("nats://alice:s3cr%40t@127.0.0.1:4222").unwrap();
        assert_eq!(cfg.server(), "nats://127.0.0.1:4222");
        assert_eq!(
            cfg.user_password,
            Some(("alice".to_string(), "s3cr@t".to_string()))
        );
        assert!(!format!("{cfg:?}").contains("s3cr"), "{cfg:?}");
        assert_eq!(cfg.scrub("auth failed for s3cr@t"), "auth failed for ***");

        let cfg = NatsConfig::new("nats://tok3n-value@h:1,nats://h2:2").unwrap();
        assert_eq!(cfg.server(), "nats://h:1,nats://h2:2");
        assert_eq!(cfg.token.as_deref(), Some("tok3n-value"));
        assert!(!format!("{cfg:?}").contains("tok3n"), "{cfg:?}");

        assert!(
            NatsConfig::new("").is_err(),
            "an empty server list is refused"
        );
    }
}
