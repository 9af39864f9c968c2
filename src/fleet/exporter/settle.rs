//! Settling acknowledgements: each one awaited in order, counted (stored,
//! a duplicate of this node's own event, or an id another client took),
//! and the event noted as exported.

use super::options::ExportOptions;
use super::options::ExportReport;
use super::reader::Item;
use crate::error::{Error, Result};
use crate::fleet::config::NatsConfig;
use crate::fleet::origin::check_event;
use crate::fleet::sign::SIG_HEADER;
use crate::fleet::state::NodeState;
use crate::fleet::wire::{MSG_ID_HEADER, fallback_msg_id, msg_id};
use async_nats::jetstream::{self, message::PublishMessage as Publish};

/// A message sent whose acknowledgement is awaited.
pub(super) struct InFlight {
    pub ack: async_nats::jetstream::context::PublishAckFuture,
    pub item: Item,
}

/// A publish error: a body over the server's payload limit is refused for
/// good (retrying sends the same body).
pub(super) fn publish_error(
    nats: &NatsConfig,
    e: async_nats::jetstream::context::PublishError,
) -> Error {
    use async_nats::jetstream::context::PublishErrorKind;
    if e.kind() == PublishErrorKind::MaxPayloadExceeded {
        return Error::NatsRefused {
            server: nats.server().to_string(),
            reason: nats.scrub(&e.to_string()),
        };
    }
    nats.error("publishing", e)
}

/// What settling an acknowledgement needs.
pub(super) struct Settle<'a> {
    pub js: &'a jetstream::Context,
    pub stream: &'a jetstream::stream::Stream,
    pub nats: &'a NatsConfig,
    pub opts: &'a ExportOptions,
    pub cid: &'a str,
    /// What the bucket holds for this node.
    pub fleet: &'a mut NodeState,
    /// The first message id found taken.
    pub taken: &'a mut Option<Error>,
}

impl Settle<'_> {
    /// Awaits `done`'s acknowledgement and counts it: stored, a duplicate
    /// of this node's own event, or an id another client took (published
    /// again, `check_duplicate`); then notes the event as exported.
    pub async fn one(&mut self, done: InFlight, report: &mut ExportReport) -> Result<()> {
        let InFlight { ack, item } = done;
        let ack = ack.await.map_err(|e| self.nats.error("publishing", e))?;
        if !ack.duplicate {
            report.published += 1;
        } else {
            let (js, stream, nats, opts) = (self.js, self.stream, self.nats, self.opts);
            match check_duplicate(js, stream, nats, opts, self.cid, &item, ack.sequence).await? {
                None => report.duplicates += 1,
                Some(err) => {
                    report.published += 1;
                    report.ids_taken += 1;
                    self.taken.get_or_insert(err);
                }
            }
        }
        self.fleet
            .exported(item.time_ms, item.removed.map(|id| (id, item.seq)));
        report.last_seq = item.covers;
        Ok(())
    }
}

/// Checks a "duplicate" acknowledgement against the message the stream
/// says holds the id (`stored`, its stream sequence): `None` if it is this
/// node's own event (a re-send); if another client's message holds it, the
/// event is published again under an id nobody can guess and the error to
/// report is returned; an event of this node that differs is a diverged
/// history.
async fn check_duplicate(
    js: &jetstream::Context,
    stream: &jetstream::stream::Stream,
    nats: &NatsConfig,
    opts: &ExportOptions,
    cid: &str,
    sent: &Item,
    stored: u64,
) -> Result<Option<Error>> {
    let node = &opts.node;
    let subject = node.subject();
    let id = msg_id(node, cid, sent.seq);
    let held = stream
        .get_raw_message(stored)
        .await
        .map_err(|e| nats.error("reading the message that holds a duplicate id", e))?;
    let held_subject = held.subject.to_string();
    if held_subject == subject {
        let held_id = held
            .headers
            .get(MSG_ID_HEADER)
            .map(|v| v.as_str().to_string());
        let same =
            check_event(&held_subject, held_id.as_deref(), &held.payload).is_ok_and(|(_, h)| {
                h.catalog_id == cid && h.seq == sent.seq && h.time_ms == sent.time_ms
            });
        if same {
            return Ok(None);
        }
        return Err(Error::FleetHistoryDiverged {
            node: node.to_string(),
            stream: opts.layout.stream.clone(),
            seq: sent.seq,
            reason: format!(
                "message id {id} holds another event on this node's subject (stream sequence \
                 {stored}): the catalog was restored or rewritten"
            ),
        });
    }
    tracing::warn!(
        node = %node,
        id,
        subject = held_subject,
        stream_seq = stored,
        "this node's message id was taken by a message on another subject; publishing the event \
         again under an id that cannot be taken"
    );
    let fallback = fallback_msg_id(node, cid, sent.seq);
    let mut again = Publish::build().payload(sent.body.clone());
    if let Some(key) = &opts.sign {
        again = again.header(SIG_HEADER, key.sign(&subject, &fallback, &sent.body));
    }
    let again = again.message_id(fallback);
    let ack = js
        .send_publish(subject, again)
        .await
        .map_err(|e| publish_error(nats, e))?
        .await
        .map_err(|e| nats.error("publishing", e))?;
    if ack.duplicate {
        return Err(nats.error(
            "publishing",
            "an event published again under a random message id was called a duplicate",
        ));
    }
    Ok(Some(Error::FleetMsgIdTaken {
        node: node.to_string(),
        stream: opts.layout.stream.clone(),
        msg_id: id,
        subject: held_subject,
        stream_seq: stored,
    }))
}
