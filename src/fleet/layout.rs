//! The stream and the bucket, created if missing (docs/FLEET.md, "Subjects,
//! stream and bucket").
//!
//! The stream `CATALOG` takes `catalog.*.events` into file storage with
//! limits retention and no limit (audit wants everything: size it, see
//! FLEET.md), the configured number of replicas, and a duplicate window
//! (the span in which a message with an already-stored `Nats-Msg-Id` is
//! dropped). The bucket `CATALOG_FLEET` keeps one value per key (history
//! 1), in file storage, with the same replicas.
//!
//! An existing stream is used as it is, provided it takes the node's
//! subject and deduplicates; its other settings are the operator's.

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

impl Layout {
    /// The stream, created if missing; refused if it exists and does not
    /// take `subject` or does not deduplicate.
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
        let stream = js
            .get_or_create_stream(config)
            .await
            .map_err(|e| nats.error("creating or reading the stream", e))?;
        let cfg = &stream.cached_info().config;
        if !cfg.subjects.iter().any(|s| matches_subject(s, subject)) {
            return Err(Error::invalid(
                "stream",
                format!(
                    "stream {} exists and does not take subject {subject} (its subjects: {}); \
                     choose another --stream, or add {STREAM_SUBJECTS} to it",
                    self.stream,
                    cfg.subjects.join(", ")
                ),
            ));
        }
        if cfg.duplicate_window.is_zero() {
            return Err(Error::invalid(
                "stream",
                format!(
                    "stream {} has no duplicate window, and exactly-once publishing needs one \
                     (docs/FLEET.md)",
                    self.stream
                ),
            ));
        }
        Ok(stream)
    }

    /// The fleet bucket, created if missing.
    pub(crate) async fn bucket(
        &self,
        js: &jetstream::Context,
        nats: &NatsConfig,
    ) -> Result<kv::Store> {
        if let Ok(store) = js.get_key_value(&self.bucket).await {
            return Ok(store);
        }
        // The bucket's stream, as a key-value bucket is laid out (one value
        // per key, roll-ups allowed, deletes only as markers). Created here
        // rather than with the client's `create_key_value`, which first asks
        // for the account's limits in a form servers before 2.10 do not
        // answer.
        let created = js
            .get_or_create_stream(stream::Config {
                name: format!("KV_{}", self.bucket),
                description: Some("catalog-core fleet state: n.<node>, m.<node>.<model>".into()),
                subjects: vec![format!("$KV.{}.>", self.bucket)],
                max_messages_per_subject: 1,
                storage: stream::StorageType::File,
                num_replicas: self.replicas,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                ..Default::default()
            })
            .await;
        match created {
            Ok(_) => js
                .get_key_value(&self.bucket)
                .await
                .map_err(|e| nats.error("opening the fleet bucket", e)),
            Err(e) => Err(nats.error("creating the fleet bucket", e)),
        }
    }

    /// The bucket, which must exist (queries create nothing).
    pub(crate) async fn existing_bucket(
        &self,
        js: &jetstream::Context,
        nats: &NatsConfig,
    ) -> Result<stream::Stream> {
        js.get_stream(format!("KV_{}", self.bucket))
            .await
            .map_err(|e| nats.error("reading the fleet bucket (has any node exported yet?)", e))
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
    use super::matches_subject;

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
