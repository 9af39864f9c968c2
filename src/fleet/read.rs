//! Reading a stream up to its end, once: an ordered consumer (created by
//! the reader, ephemeral, flow-controlled by the client) that delivers the
//! messages matching one filter and stops when the server says none is
//! pending. Used for the fleet bucket (last value per key) and for
//! `fleet history` (messages since a time).

use super::config::NatsConfig;
use super::resume::MSG_ID_HEADER;
use crate::error::{Error, Result};
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;

/// How many times a read is started again after it failed midway.
const ATTEMPTS: usize = 3;

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
}

/// Every message of `stream` matching `filter` from `deliver` on, up to the
/// last one stored when the read started.
pub(crate) async fn read_to_end(
    stream: &Stream,
    nats: &NatsConfig,
    filter: String,
    deliver: DeliverPolicy,
) -> Result<Vec<Read>> {
    read_fold(stream, nats, filter, deliver, Vec::new, |out, r| {
        out.push(r)
    })
    .await
}

/// [`read_to_end`], folding each message into `init()` with `each` as it
/// comes. A read that fails midway (a request or a message that times out
/// while a cluster is missing a server or moving a leader, a consumer that
/// is lost) starts again from `init()` with a new consumer, which the
/// server may place elsewhere, up to [`ATTEMPTS`] times in all.
pub(crate) async fn read_fold<T>(
    stream: &Stream,
    nats: &NatsConfig,
    filter: String,
    deliver: DeliverPolicy,
    init: impl Fn() -> T,
    mut each: impl FnMut(&mut T, Read),
) -> Result<T> {
    let mut attempt = 1;
    loop {
        let mut acc = init();
        match read_once(stream, nats, &filter, &deliver, &mut |r| each(&mut acc, r)).await {
            Ok(()) => return Ok(acc),
            Err(e @ Error::Nats { .. }) if attempt < ATTEMPTS => {
                tracing::warn!("{e}; reading again ({attempt} of {ATTEMPTS} failed)");
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn read_once(
    stream: &Stream,
    nats: &NatsConfig,
    filter: &str,
    deliver: &DeliverPolicy,
    each: &mut dyn FnMut(Read),
) -> Result<()> {
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter.to_string(),
            deliver_policy: *deliver,
            ..Default::default()
        })
        .await
        .map_err(|e| nats.error("creating a reading consumer", e))?;
    if consumer.cached_info().num_pending == 0 {
        return Ok(());
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| nats.error("reading messages", e))?;
    loop {
        let next = tokio::time::timeout(nats.request_timeout, messages.next())
            .await
            .map_err(|_| nats.error("reading messages", "no message came in time"))?;
        let Some(msg) = next else {
            return Err(nats.error("reading messages", "the consumer ended early"));
        };
        let msg = msg.map_err(|e| nats.error("reading messages", e))?;
        let info = msg.info().map_err(|e| nats.error("reading messages", e))?;
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
        });
        if left == 0 {
            return Ok(());
        }
    }
}
