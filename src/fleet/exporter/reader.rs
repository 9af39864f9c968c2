//! The exporter's reader thread: the journal's events from where
//! publishing continues, each rendered into one growing buffer, handed to
//! the publisher in windows; and, as it goes, the catalog's state folded
//! from the same events (the same `change_for` a replay applies), so that
//! the journal is read once: the handle the exporter reads with is opened
//! without replaying it (`Catalog::open_read_only_at_start`).

use crate::catalog::{Catalog, Event, EventsPosition};
use crate::entry::ModelEntry;
use crate::error::Result;
use crate::fleet::sign::NodeKey;
use crate::fleet::subject::NodeName;
use crate::fleet::wire::msg_id;
use crate::journal::op::Op;
use crate::state::{Change, change_for};
use bytes::BufMut;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// One event, read and rendered.
pub(super) struct Item {
    pub seq: u64,
    /// The last sequence number it covers (a repair's gap record covers
    /// `seq ..= last_lost`).
    pub covers: u64,
    pub time_ms: u64,
    /// The model it deleted or evicted.
    pub removed: Option<String>,
    /// Its body: a slice of the reader's buffer.
    pub body: bytes::Bytes,
    /// Its `Catalog-Sig`, when the node signs.
    pub sig: Option<String>,
}

/// One window's events.
pub(super) type Window = Vec<Item>;

/// The catalog's entries right after event `seq` (0: before the first),
/// by id. (A plain hash map: the exporter needs no order and no index by
/// reference, and this is kept up to date once per event.)
pub(super) struct Folded {
    pub seq: u64,
    pub state: Entries,
}

/// Entries by id.
pub(super) type Entries = HashMap<String, Arc<ModelEntry>, foldhash::fast::RandomState>;

impl Folded {
    /// Applies `event` (the next one after `self.seq`); `false` if it does
    /// not apply (a repaired history whose gap lost the model's put): the
    /// state is then unknown from here on.
    fn apply(&mut self, seq: u64, covers: u64, time_ms: u64, op: Op) -> bool {
        let current = op.model_id().and_then(|id| self.state.get(id));
        match change_for(current.map(|e| &**e), op, seq, time_ms) {
            Ok(Change::Upsert(entry)) => match self.state.get_mut(&entry.id) {
                Some(held) => *held = entry,
                None => {
                    self.state.insert(entry.id.clone(), entry);
                }
            },
            Ok(Change::Remove(id)) => {
                self.state.remove(&id);
            }
            Ok(Change::Nothing) => {}
            Err(_) => return false,
        }
        self.seq = covers;
        true
    }
}

/// What a reader thread works from and hands back.
pub(super) struct ReadFrom {
    /// The first event to read.
    pub from: u64,
    /// Where the previous reader found the journal's end: read from there
    /// (only what was appended since) if it names `from`.
    pub position: Option<EventsPosition>,
    /// The state right after `from - 1`, if known: folded on.
    pub folded: Option<Folded>,
}

/// `ModelRef::redact_stored`, remembered: a node re-registers and verifies
/// the same references over and over, and parsing one costs more than
/// rendering the rest of the event.
#[derive(Default)]
struct RedactCache(HashMap<String, String, foldhash::fast::RandomState>);

impl RedactCache {
    const MAX: usize = 1 << 16;

    fn get(&mut self, stored: &str) -> String {
        if let Some(shown) = self.0.get(stored) {
            return shown.clone();
        }
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        let shown = crate::model_ref::ModelRef::redact_stored(stored);
        self.0.insert(stored.to_string(), shown.clone());
        shown
    }
}

/// Room the reader's body buffer is grown by when it runs short: bodies
/// are rendered one after another into it and handed out as slices, so a
/// catch-up allocates once per this many bytes instead of once per event.
const BODY_BUFFER: usize = 256 * 1024;

/// Renders events into bodies.
struct Renderer<'a> {
    node: &'a NodeName,
    cid: &'a str,
    /// The key to sign with, the subject and the message id's prefix.
    sign: Option<(&'a NodeKey, String, String)>,
    cache: RedactCache,
    buffer: bytes::BytesMut,
}

impl Renderer<'_> {
    /// `event`'s item; its operation is handed back for folding.
    fn render(&mut self, event: Event) -> (Item, Op) {
        if self.buffer.capacity() - self.buffer.len() < 4096 {
            self.buffer.reserve(BODY_BUFFER);
        }
        let cache = &mut self.cache;
        event.write_json_with(
            (&mut self.buffer).writer(),
            self.node.as_str(),
            self.cid,
            &mut |r: &str| cache.get(r),
        );
        let body = self.buffer.split().freeze();
        let (covers, removed) = match &event.op {
            Op::Gap { last_lost, .. } => ((*last_lost).max(event.seq), None),
            Op::Delete { id } | Op::Evict { id, .. } => (event.seq, Some(id.clone())),
            _ => (event.seq, None),
        };
        let sig = self.sign.as_mut().map(|(key, subject, id)| {
            let prefix = id.len();
            let _ = write!(id, "{}", event.seq);
            let sig = key.sign(subject, id, &body);
            id.truncate(prefix);
            sig
        });
        let item = Item {
            seq: event.seq,
            covers,
            time_ms: event.time_ms,
            removed,
            body,
            sig,
        };
        (item, event.op)
    }
}

/// The reader thread: events from `from.from` on, with their bodies, in
/// windows of `window`; stops at the end of the journal or when the
/// publisher is gone. Returns where the journal ended if it read to the
/// end, and the state folded up to the last event read (if it was known
/// at the start and every event applied).
pub(super) fn read_windows(
    catalog: &Catalog,
    from: ReadFrom,
    window: usize,
    (node, cid, key): (&NodeName, &str, Option<&NodeKey>),
    tx: &tokio::sync::mpsc::Sender<Result<Window>>,
) -> (Option<EventsPosition>, Option<Folded>) {
    let ReadFrom {
        from,
        position,
        mut folded,
    } = from;
    folded = folded.filter(|f| f.seq + 1 == from);
    let opened = match position.filter(|p| p.next_seq() == from) {
        Some(position) => catalog.events_from(&position),
        None => catalog.events(from),
    };
    let mut events = match opened {
        Ok(events) => events,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return (None, None);
        }
    };
    let mut renderer = Renderer {
        node,
        cid,
        sign: key.map(|k| {
            let mut prefix = msg_id(node, cid, 0);
            prefix.pop();
            (k, node.subject(), prefix)
        }),
        cache: RedactCache::default(),
        buffer: bytes::BytesMut::with_capacity(BODY_BUFFER),
    };
    let mut batch = Vec::with_capacity(window);
    for event in events.by_ref() {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return (None, None);
            }
        };
        let (item, op) = renderer.render(event);
        let (seq, covers, time_ms) = (item.seq, item.covers, item.time_ms);
        batch.push(item);
        if let Some(f) = &mut folded
            && !f.apply(seq, covers, time_ms, op)
        {
            folded = None;
        }
        if batch.len() == window {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(window));
            if tx.blocking_send(Ok(full)).is_err() {
                return (None, None);
            }
        }
    }
    if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
        return (None, None);
    }
    (Some(events.position()), folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EntrySpec, Lifecycle};

    #[test]
    fn one_pass_gives_every_body_and_the_state_a_replay_gives() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Catalog::open(dir.path()).unwrap();
        for i in 0..5 {
            let id = format!("m{i}");
            writer
                .put(EntrySpec::new(
                    &id,
                    format!("hf:org/{id}"),
                    format!("blobs/{id}"),
                ))
                .unwrap();
        }
        writer.set_state("m1", Lifecycle::Retired).unwrap();
        writer.delete("m3").unwrap();
        let at_start = Catalog::open_read_only_at_start(dir.path()).unwrap();
        assert_eq!(at_start.head().seq, 0, "opened before the first record");
        assert!(at_start.list().is_empty(), "nothing replayed");

        let node = NodeName::new("n1").unwrap();
        let cid = at_start.catalog_id();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let from = ReadFrom {
            from: 1,
            position: None,
            folded: Some(Folded {
                seq: 0,
                state: Entries::default(),
            }),
        };
        let reader = {
            let (catalog, node, cid) = (at_start.clone(), node.clone(), cid.clone());
            std::thread::spawn(move || read_windows(&catalog, from, 2, (&node, &cid, None), &tx))
        };
        let mut bodies = Vec::new();
        while let Some(window) = rx.blocking_recv() {
            bodies.extend(window.unwrap().into_iter().map(|i| i.body.to_vec()));
        }
        let (end, folded) = reader.join().unwrap();
        let expected: Vec<Vec<u8>> = writer
            .events(0)
            .unwrap()
            .map(|e| crate::fleet::event_body(&e.unwrap(), &node, &cid))
            .collect();
        assert_eq!(
            bodies, expected,
            "every event once, rendered as event_body does"
        );
        assert_eq!(end.map(|p| p.next_seq()), Some(8));
        let folded = folded.expect("every event applied");
        assert_eq!(folded.seq, 7);
        let replayed = Catalog::open_read_only(dir.path()).unwrap().list();
        let mut ours: Vec<_> = folded.state.values().map(|e| (**e).clone()).collect();
        ours.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(ours, replayed, "the folded state is the replayed one");
        at_start.refresh().unwrap();
        assert_eq!(
            at_start.list(),
            replayed,
            "refresh brings the handle up to date"
        );
    }
}
