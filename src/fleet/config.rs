//! Where the NATS server is and how to authenticate: the standard NATS
//! options (a credentials file, a token, a user and password, TLS), and the
//! rules about them: no credential ever reaches a log line, an error or the
//! output, and none is taken from a server URL (a URL is typed on command
//! lines, which `ps` and `/proc/PID/cmdline` show to every user of the
//! host): `nats://user:pass@host` and `nats://token@host` are refused.
//!
//! Every error text from the client passes through [`NatsConfig::scrub`],
//! which blanks each known secret.
//!
//! A connection tries every listed server before it gives up, and watches
//! for what the server says cannot change by retrying (an authorization or
//! permissions violation, a payload over its limit): [`Connection::guard`]
//! ends an operation with [`Error::NatsRefused`] as soon as the server says
//! so, instead of waiting for a timeout and retrying forever.

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

    /// How many servers are listed.
    fn server_count(&self) -> usize {
        self.url.split(',').count()
    }

    /// Connects. `retry`: keep trying in the background, forever, and
    /// return at once (follow mode); otherwise try each listed server once
    /// (in random order) before giving up.
    pub(crate) async fn connect(&self, retry: bool) -> Result<Connection> {
        let (refused_tx, refused) = tokio::sync::watch::channel(None::<String>);
        let watch = {
            let tx = std::sync::Arc::new(refused_tx);
            let nats = self.clone();
            move |event: async_nats::Event| {
                if let Some(reason) = permanent(&event) {
                    tx.send_replace(Some(nats.scrub(&reason)));
                }
                std::future::ready(())
            }
        };
        let mut opts = async_nats::ConnectOptions::new()
            .name("catalog-core fleet")
            .connection_timeout(self.connect_timeout)
            .request_timeout(Some(self.request_timeout))
            .require_tls(self.tls_required)
            .event_callback(watch);
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
            // One attempt per listed server: a server that is down is
            // skipped (its refused connection costs nothing, a silent one
            // the connection timeout).
            opts.max_reconnects(Some(self.server_count()))
        };
        let servers: Vec<async_nats::ServerAddr> = self
            .url
            .split(',')
            .map(|s| s.parse())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.error("parsing the server address", e))?;
        let client = opts.connect(servers).await.map_err(|e| {
            use async_nats::ConnectErrorKind::{Authentication, AuthorizationViolation};
            match e.kind() {
                AuthorizationViolation | Authentication => Error::NatsRefused {
                    server: self.url.clone(),
                    reason: self.scrub(&e.to_string()),
                },
                _ => self.error("connecting", e),
            }
        })?;
        Ok(Connection {
            client,
            refused,
            server: self.url.clone(),
        })
    }
}

/// A connected client, and what the server said that retrying cannot
/// change.
pub(crate) struct Connection {
    pub client: async_nats::Client,
    refused: tokio::sync::watch::Receiver<Option<String>>,
    server: String,
}

impl Connection {
    /// The permanent refusal, once the server has said one.
    async fn refusal(&self) -> Error {
        let mut rx = self.refused.clone();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(r) => r.clone().unwrap_or_default(),
            // The client is gone: never a refusal.
            Err(_) => std::future::pending().await,
        };
        Error::NatsRefused {
            server: self.server.clone(),
            reason,
        }
    }

    /// Runs `op` unless the server refuses this client for good first
    /// ([`Error::NatsRefused`], at once rather than after a timeout).
    pub async fn guard<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            err = self.refusal() => Err(err),
            r = op => r,
        }
    }
}

/// What `event` says that retrying cannot change, if anything: an
/// authorization failure, a permissions violation, a payload over the
/// server's limit.
fn permanent(event: &async_nats::Event) -> Option<String> {
    use async_nats::{ClientError, Event, ServerError};
    let text = match event {
        Event::ServerError(ServerError::AuthorizationViolation) => {
            return Some("authorization violation".into());
        }
        Event::ServerError(ServerError::Other(text)) => text,
        // The background connector, retrying a refused login.
        Event::ClientError(ClientError::Other(text)) => text,
        _ => return None,
    };
    let lower = text.to_ascii_lowercase();
    [
        "authorization violation",
        "permissions violation",
        "maximum payload",
        "authentication expired",
        "failed signing nonce",
    ]
    .iter()
    .any(|p| lower.contains(p))
    .then(|| text.trim_matches('\'').to_string())
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
        assert_eq!(cfg.server_count(), 3);
        assert!(
            NatsConfig::new("").is_err(),
            "an empty server list is refused"
        );
    }

    #[test]
    fn permanent_refusals_are_told_from_passing_trouble() {
        use async_nats::{ClientError, Event, ServerError};
        let permanent_ones = [
            Event::ServerError(ServerError::AuthorizationViolation),
            Event::ServerError(ServerError::Other(
                "Permissions Violation for Publish to \"catalog.n1.events\"".into(),
            )),
            Event::ServerError(ServerError::Other("Maximum Payload Violation".into())),
            Event::ClientError(ClientError::Other("authorization violation".into())),
        ];
        for e in permanent_ones {
            assert!(permanent(&e).is_some(), "{e:?}");
        }
        for e in [
            Event::Disconnected,
            Event::ServerError(ServerError::SlowConsumer(1)),
            Event::ClientError(ClientError::MaxReconnects),
            Event::ClientError(ClientError::Other("IO error".into())),
            Event::ServerError(ServerError::Other("Stale Connection".into())),
        ] {
            assert_eq!(permanent(&e), None, "{e:?}");
        }
    }
}
