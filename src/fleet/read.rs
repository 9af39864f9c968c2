//! Reading a stream up to its end, once: an ordered consumer (created by
//! the reader, ephemeral, flow-controlled by the client) that delivers the
//! messages matching one filter and stops when the server says none is
//! pending. A message that does not come within the request timeout ends
//! the read with an error (the queries then start again, `query`).
//!
//! In a cluster that lost a server, JetStream 2.9 may place a new
//! ephemeral consumer on the lost server (it still counts as a peer of the
//! stream), and the create request then times out: about one consumer in
//! three with one server of three down. A consumer not created within
//! [`PLACEMENT_WAIT`] is therefore given up and another one asked for
//! (placed anew). The last value of each key (the bucket) can also be had
//! without any consumer: the subjects from the stream leader, then one
//! direct get per key, which any live replica answers
//! ([`read_last_values`] falls back to that). Used for the fleet bucket (last value per key) and for
//! `fleet history` (messages since a time).

use super::config::NatsConfig;
use super::wire::{MSG_ID_HEADER, SIG_HEADER};
use crate::error::{Error, Result};
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use futures_util::{StreamExt, TryStreamExt};
use std::time::Duration;

/// How long a reading consumer may take to be created before another one
/// is asked for.
pub(crate) const PLACEMENT_WAIT: Duration = Duration::from_secs(2);
/// How many consumers a read asks for before it gives up.
const PLACEMENTS: usize = 5;
/// Direct gets in flight at once.
const DIRECT_GETS_IN_FLIGHT: usize = 64;

/// One message read.
pub(crate) struct Read {
    /// Its subject.
    pub subject: String,
    /// Its body.
    pub payload: bytes::Bytes,
    /// Its `Nats-Msg-Id`, if it has one.
    pub msg_id: Option<String>,
    /// Its stream sequence.
    pub stream_seq: u64,
    /// When the server stored it (Unix milliseconds, the server's clock).
    pub stored_ms: u64,
    /// Whether it is a key-value delete or purge marker.
    pub removed: bool,
    /// Its `Catalog-Sig`, if it has one.
    pub sig: Option<String>,
}

/// Every message of `stream` matching `filter` from `deliver` on, up to the
/// last one stored when the read started, folded into `init()` with `each`
/// as it comes. A consumer not created within [`PLACEMENT_WAIT`] is given up and
/// another asked for, up to `placements` in all.
pub(crate) async fn read_fold<T>(
    stream: &Stream,
    nats: &NatsConfig,
    filter: String,
    deliver: DeliverPolicy,
    init: impl Fn() -> T,
    mut each: impl FnMut(&mut T, Read),
) -> Result<T> {
    let placements = if degraded(stream) { 0 } else { PLACEMENTS };
    for placement in 1..=placements {
        let mut acc = init();
        match read_once(stream, nats, &filter, &deliver, &mut |r| each(&mut acc, r)).await {
            Ok(()) => return Ok(acc),
            Err(Unplaced) => {
                tracing::debug!(placement, "a reading consumer was not placed in time")
            }
            Err(Failed(e)) => return Err(e),
        }
    }
    let start_ms = match deliver {
        DeliverPolicy::All => 0,
        DeliverPolicy::ByStartTime { start_time } => {
            u64::try_from(start_time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
        }
        _ => {
            return Err(nats.error(
                "creating a reading consumer",
                format!(
                    "none of {PLACEMENTS} was created within {} s",
                    PLACEMENT_WAIT.as_secs()
                ),
            ));
        }
    };
    tracing::info!("reading by direct gets (no consumer placed, or a replica is down)");
    let mut acc = init();
    read_from_time_directly(stream, nats, &filter, start_ms, &mut |r| each(&mut acc, r)).await?;
    Ok(acc)
}

/// The messages matching `filter` stored from `start_ms` on, without a
/// consumer: the first one found by bisecting the stream's sequence
/// numbers, then one direct get (`next_by_subj`) per message, which any
/// live replica answers. One round trip per message: a fallback.
async fn read_from_time_directly(
    stream: &Stream,
    nats: &NatsConfig,
    filter: &str,
    start_ms: u64,
    each: &mut dyn FnMut(Read),
) -> Result<()> {
    use async_nats::jetstream::stream::DirectGetErrorKind;
    let state = stream
        .get_info()
        .await
        .map_err(|e| nats.error("reading the stream's state", e))?
        .state;
    let next = async |from: u64| match stream.direct_get_next_for_subject(filter, Some(from)).await
    {
        Ok(m) if m.sequence <= state.last_sequence => Ok(Some(m)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(nats.error("reading a message directly", e)),
    };
    let stored_ms = |m: &async_nats::jetstream::message::StreamMessage| {
        u64::try_from(m.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
    };
    // The first sequence number whose message is stored at `start_ms` or
    // later.
    let (mut lo, mut hi) = (state.first_sequence, state.last_sequence + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match next(mid).await? {
            Some(m) if stored_ms(&m) < start_ms => lo = m.sequence + 1,
            _ => hi = mid,
        }
    }
    let mut from = lo;
    while let Some(m) = next(from).await? {
        from = m.sequence + 1;
        let header = |name: &str| m.headers.get(name).map(|v| v.as_str().to_string());
        each(Read {
            subject: m.subject.to_string(),
            msg_id: header(MSG_ID_HEADER),
            stream_seq: m.sequence,
            stored_ms: stored_ms(&m),
            removed: header("KV-Operation").is_some_and(|v| v == "DEL" || v == "PURGE"),
            sig: header(SIG_HEADER),
            payload: m.payload,
        });
    }
    Ok(())
}

/// The last value of every key matching `filter` (a bucket): read by an
/// ordered consumer, or, if none can be placed, by direct gets.
pub(crate) async fn read_last_values(
    stream: &Stream,
    nats: &NatsConfig,
    filter: String,
) -> Result<Vec<Read>> {
    for placement in 1..=if degraded(stream) { 0 } else { 2 } {
        let mut out = Vec::new();
        let read = read_once(
            stream,
            nats,
            &filter,
            &DeliverPolicy::LastPerSubject,
            &mut |r| out.push(r),
        )
        .await;
        match read {
            Ok(()) => return Ok(out),
            Err(Unplaced) => {
                tracing::debug!(placement, "a reading consumer was not placed in time")
            }
            Err(Failed(e)) => return Err(e),
        }
    }
    tracing::info!("reading the bucket by direct gets (no consumer placed, or a replica is down)");
    read_last_values_directly(stream, nats, &filter).await
}

/// [`read_last_values`] without a consumer: the subjects from the stream
/// leader, then one direct get per subject.
async fn read_last_values_directly(
    stream: &Stream,
    nats: &NatsConfig,
    filter: &str,
) -> Result<Vec<Read>> {
    let subjects: Vec<String> = stream
        .info_with_subjects(filter)
        .await
        .map_err(|e| nats.error("listing the bucket's keys", e))?
        .map_ok(|(subject, _)| subject)
        .try_collect()
        .await
        .map_err(|e| nats.error("listing the bucket's keys", e))?;
    futures_util::stream::iter(subjects)
        .map(|subject| async move {
            let msg = stream
                .direct_get_last_for_subject(subject)
                .await
                .map_err(|e| nats.error("reading a key directly", e))?;
            let header = |name: &str| msg.headers.get(name).map(|v| v.as_str().to_string());
            Ok(Read {
                subject: msg.subject.to_string(),
                msg_id: header(MSG_ID_HEADER),
                stream_seq: msg.sequence,
                stored_ms: u64::try_from(msg.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
                removed: header("KV-Operation").is_some_and(|v| v == "DEL" || v == "PURGE"),
                sig: header(SIG_HEADER),
                payload: msg.payload,
            })
        })
        .buffer_unordered(DIRECT_GETS_IN_FLIGHT)
        .try_collect()
        .await
}

/// Whether a replica of `stream` is offline or not current (as the stream
/// leader said when the handle was had): a new consumer may be placed on
/// it, so a read goes straight to direct gets.
fn degraded(stream: &Stream) -> bool {
    stream
        .cached_info()
        .cluster
        .as_ref()
        .is_some_and(|c| c.replicas.iter().any(|r| r.offline || !r.current))
}

/// Why one read did not finish.
enum ReadError {
    /// Its consumer was not created within [`PLACEMENT_WAIT`].
    Unplaced,
    /// Anything else.
    Failed(Error),
}
use ReadError::{Failed, Unplaced};

async fn read_once(
    stream: &Stream,
    nats: &NatsConfig,
    filter: &str,
    deliver: &DeliverPolicy,
    each: &mut dyn FnMut(Read),
) -> std::result::Result<(), ReadError> {
    let created = tokio::time::timeout(
        PLACEMENT_WAIT,
        stream.create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter.to_string(),
            deliver_policy: *deliver,
            ..Default::default()
        }),
    )
    .await;
    let consumer = match created {
        Err(_) => return Err(Unplaced),
        Ok(Err(e)) if e.kind() == async_nats::jetstream::stream::ConsumerErrorKind::TimedOut => {
            return Err(Unplaced);
        }
        Ok(c) => c.map_err(|e| Failed(nats.error("creating a reading consumer", e)))?,
    };
    if consumer.cached_info().num_pending == 0 {
        return Ok(());
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| Failed(nats.error("reading messages", e)))?;
    loop {
        let next = tokio::time::timeout(nats.request_timeout, messages.next())
            .await
            .map_err(|_| Failed(nats.error("reading messages", "no message came in time")))?;
        let Some(msg) = next else {
            return Err(Failed(
                nats.error("reading messages", "the consumer ended early"),
            ));
        };
        let msg = msg.map_err(|e| Failed(nats.error("reading messages", e)))?;
        let info = msg
            .info()
            .map_err(|e| Failed(nats.error("reading messages", e)))?;
        let left = info.pending;
        let stream_seq = info.stream_sequence;
        let stored_ms =
            u64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let header = |name: &str| {
            msg.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_string())
        };
        let removed = header("KV-Operation").is_some_and(|v| v == "DEL" || v == "PURGE");
        each(Read {
            subject: msg.subject.to_string(),
            payload: msg.payload.clone(),
            msg_id: header(MSG_ID_HEADER),
            stream_seq,
            stored_ms,
            removed,
            sig: header(SIG_HEADER),
        });
        if left == 0 {
            return Ok(());
        }
    }
}
