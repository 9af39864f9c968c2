//! The stream and the bucket, created if missing, and checked when they
//! exist (docs/FLEET.md, "Subjects, stream and bucket").
//!
//! The stream `CATALOG` takes `catalog.*.events` into file storage with
//! limits retention and no limit (audit wants everything: size it, see
//! FLEET.md), the configured number of replicas, and a duplicate window
//! (the span in which a message with an already-stored `Nats-Msg-Id` is
//! dropped). The bucket `CATALOG_FLEET` keeps one value per key (history
//! 1), in file storage, with the same replicas, and **no roll-ups**: a
//! `Nats-Rollup` header on any node's own key would otherwise erase every
//! other node's values.
//!
//! An existing stream or bucket is used only if nothing in its settings
//! breaks the exporter's rules ([`stream_problem`], [`bucket_problem`]):
//! messages removed by consumers (work-queue or interest retention), by age
//! or by a per-subject limit make an exporter publish its node's history
//! again, and roll-ups let one node erase the others. Such a stream or
//! bucket is refused with [`Error::FleetLayout`], which says how to fix it.

use super::config::NatsConfig;
use super::subject::STREAM_SUBJECTS;
use crate::error::{Error, Result};
use async_nats::jetstream::{self, kv, stream};

use std::time::Duration;

/// What the stream and bucket are created with, when missing.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The stream (default `CATALOG`).
    pub stream: String,
    /// The fleet bucket (default `CATALOG_FLEET`).
    pub bucket: String,
    /// Replicas of the stream and the bucket (1, or 3 on a 3-node cluster).
    pub replicas: usize,
    /// The stream's duplicate window (default 2 minutes).
    pub duplicate_window: Duration,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            stream: super::subject::DEFAULT_STREAM.into(),
            bucket: super::subject::DEFAULT_BUCKET.into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// The longest history a key-value bucket may keep (the server's limit).
const MAX_BUCKET_HISTORY: i64 = 64;

/// What is wrong with an existing event stream's settings for the
/// exporter, if anything: the text says what and how to fix it.
pub(crate) fn stream_problem(cfg: &stream::Config, subject: &str) -> Option<String> {
    let name = &cfg.name;
    if !cfg.subjects.iter().any(|s| matches_subject(s, subject)) {
        return Some(format!(
            "it does not take subject {subject} (its subjects: {}); choose another --stream, or \
             add {STREAM_SUBJECTS} to it",
            cfg.subjects.join(", ")
        ));
    }
    if cfg.duplicate_window.is_zero() {
        return Some(format!(
            "it has no duplicate window, and exactly-once publishing needs one: \
             `nats stream edit {name} --dupe-window 2m`"
        ));
    }
    if cfg.retention != stream::RetentionPolicy::Limits {
        return Some(format!(
            "its retention is {:?}: consumers remove the messages they acknowledge, and each \
             node's exporter would publish its history again; the event stream needs limits \
             retention (a stream's retention cannot be changed: move its messages to a new \
             stream, docs/FLEET.md, \"Rotation\")",
            cfg.retention
        ));
    }
    if !cfg.max_age.is_zero() {
        return Some(format!(
            "it removes messages older than {} s (max_age): a node idle for longer loses its \
             last message, and resuming needs it; `nats stream edit {name} --max-age 0`, and \
             bound the stream by rotation instead (docs/FLEET.md, \"Rotation\")",
            cfg.max_age.as_secs()
        ));
    }
    if cfg.max_messages_per_subject > 0 {
        return Some(format!(
            "it keeps at most {} messages per subject (max_msgs_per_subject): a node's older \
             events would be removed from the audit trail; `nats stream edit {name} \
             --max-msgs-per-subject=-1`",
            cfg.max_messages_per_subject
        ));
    }
    if cfg.allow_rollup {
        return Some(format!(
            "it allows roll-ups: one message with a `Nats-Rollup` header on any node's subject \
             would erase every node's events; `nats stream edit {name} --no-allow-rollup`"
        ));
    }
    None
}

/// What is wrong with an existing fleet bucket's stream, if anything.
pub(crate) fn bucket_problem(cfg: &stream::Config) -> Option<String> {
    let name = &cfg.name;
    if cfg.allow_rollup {
        return Some(format!(
            "it allows roll-ups: a `Nats-Rollup: all` header on any node's own key erases every \
             node's values and claims; `nats stream edit {name} --no-allow-rollup`"
        ));
    }
    if cfg.retention != stream::RetentionPolicy::Limits {
        return Some(format!(
            "its retention is {:?}, and a key-value bucket needs limits retention: remove the \
             bucket (`nats kv del`), the exporters create it again and put every node's state",
            cfg.retention
        ));
    }
    if !(1..=MAX_BUCKET_HISTORY).contains(&cfg.max_messages_per_subject) {
        return Some(format!(
            "it keeps {} values per key (max_msgs_per_subject), and a bucket keeps 1 to \
             {MAX_BUCKET_HISTORY}: remove the bucket (`nats kv del`), the exporters create it \
             again with history 1",
            cfg.max_messages_per_subject
        ));
    }
    if !cfg.max_age.is_zero() {
        return Some(format!(
            "its values expire after {} s (max_age): an expired node claim lets another catalog \
             take the node's name; `nats stream edit {name} --max-age 0`",
            cfg.max_age.as_secs()
        ));
    }
    None
}

impl Layout {
    fn refused(&self, name: &str, problem: String) -> Error {
        Error::FleetLayout {
            name: name.to_string(),
            problem,
        }
    }

    /// The stream, created if missing; refused if it exists with settings
    /// that break exporting ([`stream_problem`]).
    pub(crate) async fn stream(
        &self,
        js: &jetstream::Context,
        nats: &NatsConfig,
        subject: &str,
    ) -> Result<stream::Stream> {
        let config = stream::Config {
            name: self.stream.clone(),
            subjects: vec![STREAM_SUBJECTS.into()],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            allow_direct: true,
            ..Default::default()
        };
        let stream = match js.get_or_create_stream(config).await {
            Ok(stream) => stream,
            Err(e) => {
                return Err(jetstream_error(js, nats, "creating or reading the stream", e).await);
            }
        };
        match stream_problem(&stream.cached_info().config, subject) {
            Some(problem) => Err(self.refused(&self.stream, problem)),
            None => Ok(stream),
        }
    }

    /// The fleet bucket, created if missing (without roll-ups); refused if
    /// it exists with settings that break it ([`bucket_problem`]).
    pub(crate) async fn bucket(
        &self,
        js: &jetstream::Context,
        nats: &NatsConfig,
    ) -> Result<(kv::Store, stream::Stream)> {
        let name = format!("KV_{}", self.bucket);
        // The bucket's stream, as a key-value bucket is laid out (one value
        // per key, deletes only as markers) but without roll-ups. Created
        // here rather than with the client's `create_key_value`, which
        // allows roll-ups and first asks for the account's limits in a form
        // servers before 2.10 do not answer.
        let created = js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                description: Some("catalog-core fleet state: n.<node>, m.<node>.<model>".into()),
                subjects: vec![format!("$KV.{}.>", self.bucket)],
                max_messages_per_subject: 1,
                storage: stream::StorageType::File,
                num_replicas: self.replicas,
                allow_rollup: false,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                ..Default::default()
            })
            .await;
        let kv_stream = match created {
            Ok(s) => s,
            Err(e) => {
                return Err(
                    jetstream_error(js, nats, "creating or reading the fleet bucket", e).await,
                );
            }
        };
        if let Some(problem) = bucket_problem(&kv_stream.cached_info().config) {
            return Err(self.refused(&name, problem));
        }
        let store = js
            .get_key_value(&self.bucket)
            .await
            .map_err(|e| nats.error("opening the fleet bucket", e))?;
        Ok((store, kv_stream))
    }

    /// The bucket's stream, which must exist (queries create nothing), and
    /// must not allow roll-ups (any node could have erased it).
    pub(crate) async fn existing_bucket(
        &self,
        js: &jetstream::Context,
        nats: &NatsConfig,
    ) -> Result<stream::Stream> {
        let name = format!("KV_{}", self.bucket);
        let stream = match js.get_stream(&name).await {
            Ok(s) => s,
            Err(e) => {
                return Err(jetstream_error(
                    js,
                    nats,
                    "reading the fleet bucket (has any node exported yet?)",
                    e,
                )
                .await);
            }
        };
        match bucket_problem(&stream.cached_info().config) {
            Some(problem) => Err(self.refused(&name, problem)),
            None => Ok(stream),
        }
    }
}

/// The error for a failed JetStream call (`op`): if the server has no
/// JetStream (or not for this account), says so instead, since "timed out"
/// or "not found" would send the operator looking for the wrong thing.
pub(crate) async fn jetstream_error(
    js: &jetstream::Context,
    nats: &NatsConfig,
    op: &'static str,
    err: impl std::fmt::Display,
) -> Error {
    use jetstream::context::AccountErrorKind;
    match js.query_account().await {
        Err(e) if e.kind() == AccountErrorKind::JetStreamUnavailable => Error::Nats {
            server: nats.server().to_string(),
            op: "using JetStream",
            reason: "JetStream is not enabled on this server (or for this account): start \
                     nats-server with -js, or add `jetstream {}` to its configuration (and \
                     `jetstream: enabled` to the account)"
                .into(),
        },
        _ => nats.error(op, err),
    }
}

/// Whether the stream subject pattern `pattern` matches `subject`.
pub(crate) fn matches_subject(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bucket_problem, matches_subject, stream_problem};
    use async_nats::jetstream::stream::{Config, RetentionPolicy};
    use std::time::Duration;

    fn good_stream() -> Config {
        Config {
            name: "CATALOG".into(),
            subjects: vec!["catalog.*.events".into()],
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        }
    }

    fn good_bucket() -> Config {
        Config {
            name: "KV_CATALOG_FLEET".into(),
            subjects: vec!["$KV.CATALOG_FLEET.>".into()],
            max_messages_per_subject: 1,
            ..Default::default()
        }
    }

    #[test]
    fn streams_that_would_lose_a_nodes_last_message_are_refused() {
        let subject = "catalog.n1.events";
        assert_eq!(stream_problem(&good_stream(), subject), None);
        let cases: Vec<(&str, Config)> = vec![
            (
                "subject",
                Config {
                    subjects: vec!["other.>".into()],
                    ..good_stream()
                },
            ),
            (
                "duplicate window",
                Config {
                    duplicate_window: Duration::ZERO,
                    ..good_stream()
                },
            ),
            (
                "WorkQueue",
                Config {
                    retention: RetentionPolicy::WorkQueue,
                    ..good_stream()
                },
            ),
            (
                "Interest",
                Config {
                    retention: RetentionPolicy::Interest,
                    ..good_stream()
                },
            ),
            (
                "max_age",
                Config {
                    max_age: Duration::from_secs(86_400),
                    ..good_stream()
                },
            ),
            (
                "max_msgs_per_subject",
                Config {
                    max_messages_per_subject: 1,
                    ..good_stream()
                },
            ),
            (
                "roll-ups",
                Config {
                    allow_rollup: true,
                    ..good_stream()
                },
            ),
        ];
        for (what, cfg) in cases {
            let problem = stream_problem(&cfg, subject);
            assert!(
                problem.as_deref().is_some_and(|p| p.contains(what)),
                "{what}: {problem:?}"
            );
        }
        // Byte and message limits are the operator's (docs/FLEET.md): a node
        // whose last message they remove resumes from its claim.
        let bounded = Config {
            max_bytes: 1 << 40,
            max_messages: 1_000_000,
            ..good_stream()
        };
        assert_eq!(stream_problem(&bounded, subject), None);
    }

    #[test]
    fn buckets_with_roll_ups_expiry_or_odd_history_are_refused() {
        assert_eq!(bucket_problem(&good_bucket()), None);
        assert_eq!(
            bucket_problem(&Config {
                max_messages_per_subject: 64,
                ..good_bucket()
            }),
            None,
            "a longer history is the operator's choice"
        );
        let cases: Vec<(&str, Config)> = vec![
            (
                "roll-ups",
                Config {
                    allow_rollup: true,
                    ..good_bucket()
                },
            ),
            (
                "Interest",
                Config {
                    retention: RetentionPolicy::Interest,
                    ..good_bucket()
                },
            ),
            (
                "values per key",
                Config {
                    max_messages_per_subject: -1,
                    ..good_bucket()
                },
            ),
            (
                "values per key",
                Config {
                    max_messages_per_subject: 0,
                    ..good_bucket()
                },
            ),
            (
                "expire",
                Config {
                    max_age: Duration::from_secs(60),
                    ..good_bucket()
                },
            ),
        ];
        for (what, cfg) in cases {
            let problem = bucket_problem(&cfg);
            assert!(
                problem.as_deref().is_some_and(|p| p.contains(what)),
                "{what}: {problem:?}"
            );
        }
    }

    #[test]
    fn stream_subject_patterns_match_as_nats_does() {
        assert!(matches_subject("catalog.*.events", "catalog.n1.events"));
        assert!(matches_subject("catalog.>", "catalog.n1.events"));
        assert!(matches_subject(">", "catalog.n1.events"));
        assert!(!matches_subject("catalog.*", "catalog.n1.events"));
        assert!(!matches_subject("catalog.*.events", "catalog.n1.events.x"));
        assert!(!matches_subject("other.*.events", "catalog.n1.events"));
    }
}
