//! Group commit: how concurrent mutations share one `write` + `fdatasync`.
//!
//! A caller validates its operation against the state *including* every
//! operation queued before it (the overlay), takes the next sequence number
//! and queues its record, all under the queue mutex, so sequence order is
//! validation order. Then either it becomes the leader (nobody is flushing):
//! it takes the whole queue, writes it with one `write` and one `fdatasync`,
//! applies the batch to the in-memory view and wakes everyone; or it waits
//! until the durable sequence number covers its record.
//!
//! Lock order, everywhere: journal → queue → view. The leader holds the
//! journal mutex while it writes and until the batch is applied, so whoever
//! holds the journal mutex sees a view that matches the journal's end.
//!
//! A failed write or fsync poisons the queue: nothing queued or later is
//! acknowledged, and the in-memory view keeps only what was durable.

use super::view::View;
use crate::entry::ModelEntry;
use crate::error::{Error, Result};
use crate::journal::op::{Op, Payload};
use crate::journal::writer::{PendingRecord, SegmentWriter};
use crate::state::{Change, change_for};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::Duration;

/// Batches a leader flushes for others after its own record is durable.
const MAX_EXTRA_BATCHES: u32 = 4;

/// Records that must be queued for a leader whose own record is durable to
/// flush them itself rather than wake their writers.
const MIN_RECORDS_TO_KEEP_LEADING: usize = 2;

/// Queued records and what each does once durable (`changes[i]` is the
/// effect of `records[i]`). Two of these take turns: the leader takes the
/// queue's and leaves the spare, emptied by the batch before, so queuing
/// allocates nothing in the steady state.
#[derive(Debug, Default)]
struct Batch {
    records: Vec<PendingRecord>,
    changes: Vec<Change>,
}

impl Batch {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn clear(&mut self) {
        self.records.clear();
        self.changes.clear();
    }
}

/// Records a spare batch may keep room for: a rare huge batch does not pin
/// its memory.
const MAX_KEPT_RECORDS: usize = 1024;

/// Counters of the commit path, for benchmarks and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitStats {
    /// Records made durable through this handle.
    pub records: u64,
    /// Batches written (each one `write` and one `fdatasync`).
    pub batches: u64,
    /// `fdatasync` calls on journal data, including segment rotations.
    pub fsyncs: u64,
    /// Times a leader waited for other writers' records before its flush
    /// (see [`Options::commit_linger`](crate::Options::commit_linger)).
    pub lingered: u64,
}

#[derive(Debug)]
struct Queue {
    next_seq: u64,
    last_time_ms: u64,
    pending: Batch,
    /// The last batch's vectors, emptied, for the next one.
    spare: Batch,
    /// Effect of queued, not yet durable operations on each id, with the
    /// sequence number of the newest one.
    overlay: HashMap<String, (u64, Option<Arc<ModelEntry>>), foldhash::fast::RandomState>,
    durable_seq: u64,
    /// Number of the next batch a leader takes: every record in `pending`
    /// goes out in it. Its writers wait on `batch_done[next_batch % 2]`.
    next_batch: u64,
    /// Writers asleep on each of `batch_done`: a notification with nobody
    /// to wake is skipped (it would still cost a system call).
    sleeping: [u32; 2],
    /// Writers seen putting around the last batch: its records plus those
    /// queued while it was written (see [`Committer::linger`]).
    company: usize,
    /// While a leader waits for company: how many queued records end its
    /// wait (`arrived` wakes it then); 0 when nobody waits.
    linger_until: usize,
    /// How long a batch's write and `fdatasync` take, smoothed (ns; 0
    /// before the first): a leader never waits for company longer than
    /// half of it (see [`linger_for`]).
    sync_ns: u64,
    leader_active: bool,
    poisoned: Option<String>,
    stats: CommitStats,
}

impl Queue {
    /// The number of the batch that holds `seq`, which is not durable yet:
    /// the queuing one if `seq` is still queued, else the one being written.
    fn batch_of(&self, seq: u64) -> u64 {
        match self.pending.records.first() {
            Some(first) if seq >= first.seq => self.next_batch,
            _ => self.next_batch.saturating_sub(1),
        }
    }
}

/// The writer side of a catalog handle.
#[derive(Debug)]
pub(crate) struct Committer {
    journal: Mutex<SegmentWriter>,
    /// Journal bytes written since the newest snapshot (a copy of the
    /// journal's counter, readable without its lock).
    bytes_since_snapshot: AtomicU64,
    queue: Mutex<Queue>,
    /// Where the writers of a batch wait, by the batch's number modulo 2:
    /// at most two batches have waiters (the one being written and the one
    /// queuing), so finishing a batch wakes exactly its own writers, not
    /// those of the next (who would only go back to sleep).
    batch_done: [Condvar; 2],
    /// Wakes a lingering leader when a record is queued.
    arrived: Condvar,
    /// How long a leader with a lone record waits for company.
    linger: Duration,
}

/// The decision taken for one operation before anything is written.
pub(crate) enum Plan {
    /// Write this operation.
    Write(Op),
    /// Write nothing and answer `false` (delete of an absent id).
    Absent,
}

/// What an acknowledged operation did.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The entry as it is after the operation (shared with the map).
    Entry(Arc<ModelEntry>),
    /// The entry was removed (`true`) or was not there (`false`).
    Removed(bool),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the queue half-updated in
    // a way that matters: durability decisions are taken from `durable_seq`.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Committer {
    pub(crate) fn new(journal: SegmentWriter, last_time_ms: u64, linger: Duration) -> Self {
        let cursor = journal.cursor();
        let durable_seq = cursor.next_seq - 1;
        Committer {
            bytes_since_snapshot: AtomicU64::new(journal.bytes_since_snapshot()),
            journal: Mutex::new(journal),
            queue: Mutex::new(Queue {
                next_seq: cursor.next_seq,
                last_time_ms,
                pending: Batch::default(),
                spare: Batch::default(),
                overlay: HashMap::default(),
                durable_seq,
                next_batch: 0,
                sleeping: [0; 2],
                company: 0,
                linger_until: 0,
                sync_ns: 0,
                leader_active: false,
                poisoned: None,
                stats: CommitStats::default(),
            }),
            batch_done: [Condvar::new(), Condvar::new()],
            arrived: Condvar::new(),
            linger,
        }
    }

    pub(crate) fn bytes_since_snapshot(&self) -> u64 {
        self.bytes_since_snapshot.load(Ordering::Relaxed)
    }

    /// Seals the current segment (if it holds records) so that the journal
    /// after a snapshot starts in a fresh segment. A failure poisons the
    /// handle: the segment files may no longer match the writer's position.
    pub(crate) fn rotate(&self) -> Result<()> {
        let mut journal = lock(&self.journal);
        if let Some(cause) = &lock(&self.queue).poisoned {
            // The segment may end in a partial, unacknowledged batch:
            // sealing it would turn a torn tail into corruption.
            return Err(Error::Poisoned {
                cause: cause.clone(),
            });
        }
        if !journal.has_records() {
            return Ok(());
        }
        let fsyncs_before = journal.fsyncs();
        let rotated = journal.rotate();
        let mut q = lock(&self.queue);
        q.stats.fsyncs += journal.fsyncs() - fsyncs_before;
        if let Err(err) = &rotated {
            self.poison(&mut q, err);
        }
        rotated
    }

    /// Tells the journal that a snapshot now covers everything it wrote.
    pub(crate) fn snapshot_taken(&self) {
        let mut journal = lock(&self.journal);
        journal.snapshot_taken();
        self.bytes_since_snapshot.store(0, Ordering::Relaxed);
    }

    /// `Err(Poisoned)` if nothing more can be written through this handle
    /// (checked by imports before they move anything).
    pub(crate) fn check_alive(&self) -> Result<()> {
        match &lock(&self.queue).poisoned {
            Some(cause) => Err(Error::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison(&self, q: &mut Queue, err: &Error) {
        let cause = err.to_string();
        tracing::error!(error = %cause, "journal write failed; the catalog handle is poisoned until reopened");
        q.poisoned = Some(cause);
        q.pending.clear();
        q.overlay.clear();
        for done in &self.batch_done {
            done.notify_all();
        }
        // A lingering leader stops waiting for company that will not come.
        self.arrived.notify_all();
    }

    pub(crate) fn stats(&self) -> CommitStats {
        lock(&self.queue).stats
    }

    /// Validates, records durably and applies one operation. `decide` sees
    /// the current entry of the model (queued operations included) and says
    /// what to do; it runs under the queue lock, so keep it cheap.
    pub(crate) fn commit(
        &self,
        view: &RwLock<View>,
        id: &str,
        ctx: &crate::OpContext,
        decide: impl FnOnce(Option<&ModelEntry>) -> Result<Plan>,
    ) -> Result<Outcome> {
        let mut q = lock(&self.queue);
        if let Some(cause) = &q.poisoned {
            return Err(Error::Poisoned {
                cause: cause.clone(),
            });
        }
        let (basis_seq, current) = match q.overlay.get(id) {
            Some((seq, entry)) => (*seq, entry.clone()),
            None => (0, super::view::read(view).state.get_shared(id)),
        };
        let op = match decide(current.as_deref())? {
            Plan::Write(op) => op,
            Plan::Absent => {
                // The absence may come from a queued delete: answer only
                // once that is durable.
                self.wait_durable_leading(q, view, basis_seq)?;
                return Ok(Outcome::Removed(false));
            }
        };
        let payload = Payload {
            op,
            ctx: ctx.clone(),
        };
        let bytes = payload.encode()?;
        let seq = q.next_seq;
        let time_ms = crate::clock::now_ms().max(q.last_time_ms);
        let change = change_for(current.as_deref(), payload.op, seq, time_ms)
            .map_err(|_| Error::NotFound { id: id.to_string() })?;
        let outcome = match &change {
            Change::Upsert(entry) => {
                q.overlay.insert(id.to_string(), (seq, Some(entry.clone())));
                Outcome::Entry(entry.clone())
            }
            Change::Remove(_) => {
                q.overlay.insert(id.to_string(), (seq, None));
                Outcome::Removed(true)
            }
            Change::Nothing => Outcome::Removed(false),
        };
        q.next_seq += 1;
        q.last_time_ms = time_ms;
        q.pending.records.push(PendingRecord {
            seq,
            time_ms,
            payload: bytes,
        });
        q.pending.changes.push(change);
        if q.linger_until != 0 && q.pending.len() >= q.linger_until {
            self.arrived.notify_one();
        }
        self.wait_durable_leading(q, view, seq)?;
        Ok(outcome)
    }

    /// Records a catalog-level operation (a checkpoint or a pruning mark:
    /// no model, no effect on the entries) durably.
    pub(crate) fn commit_catalog_op(&self, view: &RwLock<View>, op: Op) -> Result<()> {
        debug_assert!(op.model_id().is_none(), "{op:?} concerns a model");
        // No id is empty, so the empty key matches no entry and no overlay.
        self.commit(view, "", &crate::OpContext::default(), |_| {
            Ok(Plan::Write(op))
        })
        .map(|_| ())
    }

    /// Waits until `seq` is durable, flushing the queue if no one else is.
    fn wait_durable_leading<'a>(
        &'a self,
        mut q: MutexGuard<'a, Queue>,
        view: &RwLock<View>,
        seq: u64,
    ) -> Result<()> {
        // Batches this thread led after its own record was durable.
        let mut extra = 0;
        loop {
            let done = q.durable_seq >= seq;
            // A leader whose record is durable keeps flushing what queued up
            // meanwhile (a few batches at most): handing over to a sleeping
            // thread would leave the disk idle while it wakes up. But not for
            // a lone record: its writer, woken, flushes it together with the
            // record this thread's caller is about to queue (two writers
            // would otherwise alternate, one record per fsync).
            let keep_leading = done
                && extra < MAX_EXTRA_BATCHES
                && !q.leader_active
                && q.pending.len() >= MIN_RECORDS_TO_KEEP_LEADING
                && q.poisoned.is_none();
            if done && !keep_leading {
                self.hand_over(&q);
                return Ok(());
            }
            if let Some(cause) = &q.poisoned {
                return Err(Error::Poisoned {
                    cause: cause.clone(),
                });
            }
            if q.leader_active {
                let slot = (q.batch_of(seq) % 2) as usize;
                q.sleeping[slot] += 1;
                q = self.batch_done[slot]
                    .wait(q)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                q.sleeping[slot] -= 1;
                continue;
            }
            if done {
                extra += 1;
            }
            q.leader_active = true;
            q = self.linger(q);
            if q.poisoned.is_some() {
                // A rotation failed meanwhile and dropped the queue.
                q.leader_active = false;
                continue;
            }
            let number = q.next_batch;
            q.next_batch += 1;
            let spare = std::mem::take(&mut q.spare);
            let mut batch = std::mem::replace(&mut q.pending, spare);
            drop(q);
            let result = self.flush(&mut batch, view);
            q = lock(&self.queue);
            q.leader_active = false;
            batch.clear();
            if batch.records.capacity() <= MAX_KEPT_RECORDS {
                q.spare = batch;
            }
            let slot = (number % 2) as usize;
            if q.sleeping[slot] > 0 {
                self.batch_done[slot].notify_all();
            }
            if let Err(err) = result {
                // Our own record was in the failed batch: report the cause.
                if q.durable_seq < seq {
                    return Err(err);
                }
            }
        }
    }

    /// Called by a leader before it takes the queue: if fewer records are
    /// queued than writers were putting around the last batch (`company`),
    /// waits up to `linger` for the others' next records, so one
    /// `fdatasync` carries them all instead of every other batch. The
    /// writers just answered are preparing their next put, and arrive
    /// within microseconds. Others see `leader_active` meanwhile and wait
    /// for this batch, which takes whatever they queue. A lone writer
    /// (company 1) never waits, and a writer that stops putting costs one
    /// wait at most: the batch that follows sets `company` to what came.
    fn linger<'a>(&'a self, q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        let target = q.company;
        let wait = linger_for(self.linger, q.sync_ns);
        if wait.is_zero() || q.pending.len() >= target {
            return q;
        }
        let mut q = q;
        q.linger_until = target;
        q.stats.lingered += 1;
        let (mut q, _) = self
            .arrived
            .wait_timeout_while(q, wait, |q| {
                q.pending.len() < target && q.poisoned.is_none()
            })
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.linger_until = 0;
        q
    }

    /// Called by a writer that stops waiting: if nobody is flushing and
    /// records are queued, wakes one of their writers to lead their batch
    /// (one thread, not all of them).
    fn hand_over(&self, q: &Queue) {
        let slot = (q.next_batch % 2) as usize;
        if !q.leader_active && !q.pending.is_empty() && q.poisoned.is_none() && q.sleeping[slot] > 0
        {
            self.batch_done[slot].notify_one();
        }
    }

    /// Writes and syncs one batch, then applies it. Runs without the queue
    /// lock while writing, so others can queue the next batch meanwhile.
    fn flush(&self, batch: &mut Batch, view: &RwLock<View>) -> Result<()> {
        let mut journal = lock(&self.journal);
        let records = &batch.records;
        let changes = batch.changes.drain(..);
        let fsyncs_before = journal.fsyncs();
        let started = std::time::Instant::now();
        let written = journal.write_batch(records);
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let fsyncs = journal.fsyncs() - fsyncs_before;
        if let Err(err) = written {
            let mut q = lock(&self.queue);
            q.stats.fsyncs += fsyncs;
            self.poison(&mut q, &err);
            return Err(err);
        }
        self.bytes_since_snapshot
            .store(journal.bytes_since_snapshot(), Ordering::Relaxed);
        let Some(last) = records.last() else {
            return Ok(());
        };
        // The view first, without the queue lock (writers keep queuing
        // meanwhile; one whose model is in this batch finds it in the
        // overlay, any other model is the same before and after). Only then
        // is the batch acknowledged: a writer answered sees its own write.
        {
            let mut v = super::view::write(view);
            for (record, change) in records.iter().zip(changes) {
                if change != Change::Nothing {
                    v.state_seq = record.seq;
                }
                v.state.apply(change);
            }
            let cursor = journal.cursor();
            v.seq = last.seq;
            v.chain = cursor.chain;
            v.time_ms = last.time_ms;
            v.segment_no = journal.segment_no();
            v.cursor = cursor;
            v.tail = None; // a writer's view is its own journal: never rechecked
        }
        let mut q = lock(&self.queue);
        q.stats.fsyncs += fsyncs;
        q.durable_seq = last.seq;
        q.stats.records += records.len() as u64;
        q.company = records.len() + q.pending.len();
        q.sync_ns = smoothed(q.sync_ns, took);
        q.stats.batches += 1;
        let durable = q.durable_seq;
        q.overlay.retain(|_, (seq, _)| *seq > durable);
        Ok(())
    }
}

/// How long a leader may wait for company: the configured linger, but never
/// more than half a batch's write and sync as measured lately. On a disk
/// that syncs in 20 µs, waiting 50 µs would cost more than the sync it
/// shares; here (≈ 130 µs) the configured 50 µs applies.
fn linger_for(configured: Duration, sync_ns: u64) -> Duration {
    configured.min(Duration::from_nanos(sync_ns / 2))
}

/// The running estimate of the sync time after one more batch took `took`
/// nanoseconds (the first sets it; then a quarter of each new one).
fn smoothed(estimate: u64, took: u64) -> u64 {
    if estimate == 0 {
        took.max(1)
    } else {
        estimate - estimate / 4 + took / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_waits_at_most_half_a_sync() {
        let configured = Duration::from_micros(50);
        // Nothing measured yet: no wait.
        assert_eq!(linger_for(configured, 0), Duration::ZERO);
        // A fast disk (20 µs syncs): 10 µs.
        assert_eq!(linger_for(configured, 20_000), Duration::from_micros(10));
        // This machine's disk (130 µs): the configured 50 µs.
        assert_eq!(linger_for(configured, 130_000), configured);
        assert_eq!(linger_for(Duration::ZERO, 130_000), Duration::ZERO);
    }

    #[test]
    fn the_sync_estimate_follows_the_recent_batches() {
        let mut estimate = smoothed(0, 130_000);
        assert_eq!(estimate, 130_000);
        for _ in 0..40 {
            estimate = smoothed(estimate, 20_000);
        }
        assert!((20_000..21_000).contains(&estimate), "{estimate}");
        // One slow sync moves it a quarter of the way, not all of it.
        let after_spike = smoothed(estimate, 4_000_000);
        assert!(after_spike < 1_100_000, "{after_spike}");
    }
}
