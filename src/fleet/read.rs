//! Reading a stream up to its end, once: an ordered consumer (created by
//! the reader, ephemeral, flow-controlled by the client) that delivers the
//! messages matching one filter and stops when the server says none is
//! pending. Used for the fleet bucket (last value per key) and for
//! `fleet history` (messages since a time).

use super::config::NatsConfig;
use crate::error::Result;
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;

/// One message read.
pub(crate) struct Read {
    /// Its subject.
    pub subject: String,
    /// Its body.
    pub payload: bytes::Bytes,
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
    let mut out = Vec::new();
    read_each(stream, nats, filter, deliver, |r| out.push(r)).await?;
    Ok(out)
}

/// [`read_to_end`], handing each message to `each` as it comes.
pub(crate) async fn read_each(
    stream: &Stream,
    nats: &NatsConfig,
    filter: String,
    deliver: DeliverPolicy,
    mut each: impl FnMut(Read),
) -> Result<()> {
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter,
            deliver_policy: deliver,
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
    while let Some(msg) = messages.next().await {
        let msg = msg.map_err(|e| nats.error("reading messages", e))?;
        let info = msg.info().map_err(|e| nats.error("reading messages", e))?;
        let left = info.pending;
        let stored_ms =
            u64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let removed = msg.headers.as_ref().is_some_and(|h| {
            h.get("KV-Operation")
                .is_some_and(|v| v.as_str() == "DEL" || v.as_str() == "PURGE")
        });
        each(Read {
            subject: msg.subject.to_string(),
            payload: msg.payload.clone(),
            stored_ms,
            removed,
        });
        if left == 0 {
            break;
        }
    }
    Ok(())
}
