//! An in-memory file system that models a disk with a page cache, for
//! crash and fault tests (RELIABILITY.md rows 4, 9, 11, 13).
//!
//! * File data: every inode has the bytes a reader sees now and the bytes
//!   that are durable. `sync_data` makes the current bytes durable.
//! * Directory entries: creations, renames and removals change the live
//!   view at once and become durable only when their directory is synced.
//! * `crash(mode)` replaces the state with what the disk would hold after a
//!   power loss: durable data and entries, plus — depending on the mode —
//!   some of the unsynced sectors (new, zeroed or garbage, independently
//!   per 512-byte sector, i.e. persisted out of order) and some of the
//!   unsynced directory operations (in order, each kept or lost).
//! * Faults: the N-th call of a kind fails with an `io::Error`; a failed
//!   write may leave part of its buffer in the page cache; a failed sync
//!   makes nothing durable **and behaves as Linux does after EIO**: the
//!   pages it failed to write stay readable with the new bytes but are
//!   marked clean, so a later successful sync does not write them
//!   (RELIABILITY.md row 16). [`MemFs::drop_cache`] then shows what the
//!   disk really holds, as a cache drop or a reboot would.
//! * Directories themselves are durable once created (the engine creates
//!   them before anything that depends on them is acknowledged).
#![allow(dead_code)]

use super::Rng;
use catalog_core::fs::{
    DirId, FileKind, ForeignFile, ForeignPath, Fs, FsFile, LockGuard, Meta, changed, not_regular,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const SECTOR: usize = 512;
/// Page-cache granularity: what a sync writes or a failed sync marks clean.
const PAGE: usize = 4096;

/// The kinds of call a fault can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Call {
    Write,
    Sync,
    Rename,
    SyncDir,
    Create,
    Remove,
    SetLen,
    /// Hard links made by the `*_beneath` operations.
    Link,
}

/// What survives a simulated power loss.
#[derive(Clone, Copy, Debug)]
pub enum CrashMode {
    /// Only what was synced.
    DropUnsynced,
    /// Synced data plus a random choice, per unsynced sector, of: the new
    /// bytes, the old bytes, zeros or garbage; and each unsynced directory
    /// operation kept or lost, in order.
    Scramble { seed: u64 },
    /// The process dies (`kill -9`) but the machine does not: the page
    /// cache, dirty pages and unsynced directory operations all stay.
    Kill,
}

#[derive(Clone, Debug, Default)]
struct Inode {
    /// What a reader sees now (the page cache).
    data: Vec<u8>,
    /// What the disk holds.
    durable: Vec<u8>,
    /// Pages (`PAGE` bytes) of `data` written since the last sync: only
    /// these are written by the next sync. A failed sync clears the set
    /// without writing them, as Linux does.
    dirty: BTreeSet<usize>,
    modified_ns: u64,
}

impl Inode {
    fn mark_dirty(&mut self, from: usize, to: usize) {
        if to > from {
            self.dirty.extend(from / PAGE..=(to - 1) / PAGE);
        }
    }

    /// A successful sync: dirty pages (and the length) reach the disk.
    fn sync(&mut self) {
        let len = self.data.len();
        self.durable.resize(len, 0);
        for page in std::mem::take(&mut self.dirty) {
            let (from, to) = (page * PAGE, ((page + 1) * PAGE).min(len));
            if from < to {
                self.durable[from..to].copy_from_slice(&self.data[from..to]);
            }
        }
    }

    /// Clean pages from byte `from` on are dropped from the cache: they read
    /// what the disk holds (zeros past its end). Dirty pages and the
    /// in-memory length stay.
    fn drop_clean_pages(&mut self, from: usize, to: usize) {
        let len = self.data.len();
        for page in from / PAGE..len.min(to).div_ceil(PAGE) {
            if self.dirty.contains(&page) {
                continue;
            }
            for at in page * PAGE..((page + 1) * PAGE).min(len) {
                self.data[at] = self.durable.get(at).copied().unwrap_or(0);
            }
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[derive(Clone, Debug)]
enum DirOp {
    Link {
        dir: PathBuf,
        name: String,
        ino: u64,
    },
    Unlink {
        dir: PathBuf,
        name: String,
    },
}

#[derive(Debug, Default)]
struct State {
    epoch: u64,
    next_ino: u64,
    inodes: HashMap<u64, Inode>,
    /// Live directory entries.
    dirs: BTreeMap<PathBuf, BTreeMap<String, u64>>,
    /// Durable directory entries.
    durable_dirs: BTreeMap<PathBuf, BTreeMap<String, u64>>,
    /// Directory operations not yet durable, in order.
    pending: Vec<DirOp>,
    locks: BTreeSet<PathBuf>,
    calls: HashMap<Call, u64>,
    faults: Vec<(Call, u64, io::ErrorKind)>,
    /// Kinds of call that fail every time, until cleared.
    always_failing: BTreeSet<Call>,
    sync_delay: Option<Duration>,
    /// Counters for reports.
    syncs: u64,
    /// Bytes written to files so far (every `write_all`).
    written: u64,
    /// Mutating calls so far, and what each was.
    mut_ops: u64,
    op_log: Vec<String>,
    /// Simulate a crash (power loss, process gone) just before this mutating call.
    armed: Option<(u64, CrashMode)>,
    /// Mutating calls so far, by kind.
    ticks: HashMap<Call, u64>,
    /// Simulate a crash just before the given call of a kind (by `ticks`).
    armed_call: Option<(Call, u64, CrashMode)>,
    /// After an armed crash: every call fails, as for a dead process.
    dead: bool,
}

/// The in-memory file system; clones share the same disk.
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
}

fn err(kind: io::ErrorKind, what: &str) -> io::Error {
    io::Error::new(kind, what.to_string())
}

fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let dir = path
        .parent()
        .ok_or_else(|| err(io::ErrorKind::InvalidInput, "no parent"))?;
    let name = path
        .file_name()
        .ok_or_else(|| err(io::ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy()
        .into_owned();
    Ok((dir.to_path_buf(), name))
}

impl State {
    /// Counts a mutating call; performs an armed crash before it.
    fn tick(&mut self, call: Call, path: &Path) -> io::Result<()> {
        if self.dead {
            return Err(err(io::ErrorKind::Other, "the process crashed"));
        }
        self.mut_ops += 1;
        self.op_log.push(format!("{call:?} {}", path.display()));
        let tick = self.ticks.entry(call).or_default();
        *tick += 1;
        let tick = *tick;
        let hit_call = match self.armed_call {
            Some((c, at, mode)) if c == call && at == tick => Some(mode),
            _ => None,
        };
        if let Some(mode) = hit_call {
            self.armed_call = None;
            self.crash_in_place(mode);
            self.dead = true;
            return Err(err(io::ErrorKind::Other, "the process crashed"));
        }
        if let Some((at, mode)) = self.armed
            && at == self.mut_ops
        {
            self.crash_in_place(mode);
            self.dead = true;
            return Err(err(io::ErrorKind::Other, "the process crashed"));
        }
        Ok(())
    }

    fn alive(&self) -> io::Result<()> {
        if self.dead {
            return Err(err(io::ErrorKind::Other, "the process crashed"));
        }
        Ok(())
    }

    fn crash_in_place(&mut self, mode: CrashMode) {
        let s = self;
        let mut rng = match mode {
            CrashMode::DropUnsynced => None,
            CrashMode::Scramble { seed } => Some(Rng(seed | 1)),
            CrashMode::Kill => {
                s.locks.clear();
                s.faults.clear();
                s.epoch += 1;
                return;
            }
        };
        // Directory operations: each unsynced one kept or lost, in order.
        let pending = std::mem::take(&mut s.pending);
        if let Some(rng) = rng.as_mut() {
            for op in &pending {
                if rng.below(2) == 0 {
                    s.apply_durably(op);
                }
            }
        }
        // File data: durable bytes, plus per-sector choices for the rest.
        let inos: Vec<u64> = s.inodes.keys().copied().collect();
        for ino in inos {
            let inode = s.inodes.get_mut(&ino).unwrap();
            if let Some(rng) = rng.as_mut()
                && inode.data != inode.durable
            {
                inode.durable = scramble(&inode.durable, &inode.data, rng);
            }
            inode.data = inode.durable.clone();
            inode.dirty.clear();
        }
        s.dirs = s.durable_dirs.clone();
        s.locks.clear();
        s.faults.clear();
        s.epoch += 1;
    }

    fn check_fault(&mut self, call: Call) -> io::Result<()> {
        let n = self.calls.entry(call).or_default();
        *n += 1;
        let n = *n;
        if self.always_failing.contains(&call) {
            return Err(err(io::ErrorKind::Other, &format!("{call:?} always fails")));
        }
        if let Some(i) = self
            .faults
            .iter()
            .position(|&(c, at, _)| c == call && at == n)
        {
            let (_, _, kind) = self.faults.remove(i);
            return Err(err(kind, &format!("injected fault on {call:?} #{n}")));
        }
        Ok(())
    }

    fn lookup(&self, path: &Path) -> io::Result<u64> {
        let (dir, name) = split(path)?;
        self.dirs
            .get(&dir)
            .and_then(|d| d.get(&name))
            .copied()
            .ok_or_else(|| {
                err(
                    io::ErrorKind::NotFound,
                    &format!("{} not found", path.display()),
                )
            })
    }

    fn link(&mut self, path: &Path, ino: u64) -> io::Result<()> {
        let (dir, name) = split(path)?;
        let entries = self.dirs.get_mut(&dir).ok_or_else(|| {
            err(
                io::ErrorKind::NotFound,
                &format!("no directory {}", dir.display()),
            )
        })?;
        entries.insert(name.clone(), ino);
        self.pending.push(DirOp::Link { dir, name, ino });
        Ok(())
    }

    fn unlink(&mut self, path: &Path) -> io::Result<()> {
        let (dir, name) = split(path)?;
        let entries = self
            .dirs
            .get_mut(&dir)
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no directory"))?;
        entries.remove(&name).ok_or_else(|| {
            err(
                io::ErrorKind::NotFound,
                &format!("{} not found", path.display()),
            )
        })?;
        self.pending.push(DirOp::Unlink { dir, name });
        Ok(())
    }

    /// The metadata of the file `ino`.
    fn meta_of(&self, ino: u64) -> Meta {
        let nlink = self
            .dirs
            .values()
            .flat_map(|d| d.values())
            .filter(|&&i| i == ino)
            .count() as u64;
        let inode = &self.inodes[&ino];
        Meta {
            kind: FileKind::File,
            len: inode.data.len() as u64,
            modified_ns: inode.modified_ns,
            // No separate change time is kept: nothing here sets an old mtime.
            changed_ns: inode.modified_ns,
            inode: ino,
            nlink,
            uid: 0,
            // The store's files are never writable (`set_readonly`).
            mode: 0o444,
        }
    }

    fn apply_durably(&mut self, op: &DirOp) {
        match op {
            DirOp::Link { dir, name, ino } => {
                if let Some(d) = self.durable_dirs.get_mut(dir) {
                    d.insert(name.clone(), *ino);
                }
            }
            DirOp::Unlink { dir, name } => {
                if let Some(d) = self.durable_dirs.get_mut(dir) {
                    d.remove(name);
                }
            }
        }
    }
}

impl MemFs {
    pub fn new() -> Self {
        let fs = MemFs::default();
        fs.lock().dirs.insert(PathBuf::from("/"), BTreeMap::new());
        fs.lock()
            .durable_dirs
            .insert(PathBuf::from("/"), BTreeMap::new());
        fs
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the `n`-th call (counted from now, starting at 1) of `call`
    /// fail with `kind`.
    pub fn fail_nth(&self, call: Call, n: u64, kind: io::ErrorKind) {
        let mut s = self.lock();
        let done = s.calls.get(&call).copied().unwrap_or(0);
        s.faults.push((call, done + n, kind));
    }

    /// Makes every call of `call` fail (`true`) or work again (`false`).
    pub fn always_fail(&self, call: Call, on: bool) {
        let mut s = self.lock();
        if on {
            s.always_failing.insert(call);
        } else {
            s.always_failing.remove(&call);
        }
    }

    /// Clears pending faults.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Makes every `sync_data` sleep first (a slow disk), to widen races.
    pub fn set_sync_delay(&self, delay: Option<Duration>) {
        self.lock().sync_delay = delay;
    }

    /// Bytes written to files so far, by anyone.
    pub fn written_bytes(&self) -> u64 {
        self.lock().written
    }

    /// Number of calls of `call` so far.
    pub fn calls(&self, call: Call) -> u64 {
        self.lock().calls.get(&call).copied().unwrap_or(0)
    }

    /// The durable bytes of the file at `path` (as a crash would leave them
    /// if its directory entry survives).
    pub fn durable_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.lookup(path).ok()?;
        Some(s.inodes[&ino].durable.clone())
    }

    /// The live bytes of the file at `path`.
    pub fn bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.lookup(path).ok()?;
        Some(s.inodes[&ino].data.clone())
    }

    /// Overwrites the live and durable bytes of an existing file (for
    /// corruption tests).
    pub fn set_bytes(&self, path: &Path, bytes: &[u8]) {
        let mut s = self.lock();
        let ino = s.lookup(path).unwrap();
        let inode = s.inodes.get_mut(&ino).unwrap();
        inode.data = bytes.to_vec();
        inode.durable = bytes.to_vec();
    }

    /// Simulates a power loss: afterwards the disk holds what `mode` says
    /// survives, every lock is free, and handles opened before the crash
    /// fail on use.
    pub fn crash(&self, mode: CrashMode) {
        self.lock().crash_in_place(mode);
    }

    /// Drops every clean page from the page cache (`echo 1 >
    /// /proc/sys/vm/drop_caches`, or memory pressure): readers then see what
    /// the disk holds where no write is pending. After a failed sync this
    /// reveals that its bytes never reached the disk.
    pub fn drop_cache(&self) {
        let mut s = self.lock();
        for inode in s.inodes.values_mut() {
            inode.drop_clean_pages(0, usize::MAX);
        }
    }

    /// Arms a crash just before mutating call number `n` (counted from the
    /// creation of this file system, starting at 1): the disk becomes what
    /// `mode` says survives, and every later call fails as if the process
    /// had died, until [`MemFs::revive`].
    pub fn crash_before_op(&self, n: u64, mode: CrashMode) {
        self.lock().armed = Some((n, mode));
    }

    /// Arms a crash just before the `n`-th call of kind `call`, counted
    /// from now (starting at 1); see [`MemFs::crash_before_op`].
    pub fn crash_before_call(&self, call: Call, n: u64, mode: CrashMode) {
        let mut s = self.lock();
        let done = s.ticks.get(&call).copied().unwrap_or(0);
        s.armed_call = Some((call, done + n, mode));
    }

    /// Arms a process kill (SIGKILL) just before mutating call number `n`:
    /// unlike a power loss nothing is lost (every change made so far stays,
    /// synced or not), but that call and every later one fail as if the
    /// process had died, until [`MemFs::revive`].
    pub fn kill_before_op(&self, n: u64) {
        self.crash_before_op(n, CrashMode::Kill);
    }

    /// Whether an armed crash happened.
    pub fn crashed(&self) -> bool {
        self.lock().dead
    }

    /// A new process starts on the crashed disk.
    pub fn revive(&self) {
        let mut s = self.lock();
        s.dead = false;
        s.armed = None;
        s.armed_call = None;
    }

    /// Mutating calls so far.
    pub fn mutating_ops(&self) -> u64 {
        self.lock().mut_ops
    }

    /// What mutating call number `n` (1-based) was.
    pub fn op_name(&self, n: u64) -> String {
        let s = self.lock();
        s.op_log
            .get((n as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_default()
    }

    /// Every file path (live view) under `dir`.
    pub fn files_under(&self, dir: &Path) -> Vec<PathBuf> {
        let s = self.lock();
        let mut out = Vec::new();
        for (d, entries) in &s.dirs {
            if d.starts_with(dir) {
                out.extend(entries.keys().map(|n| d.join(n)));
            }
        }
        out
    }
}

/// Per sector, the unsynced bytes in it (those that differ from the durable
/// ones) are all kept old, all new, zeroed or garbage — independently per
/// sector, so sectors persist out of order. Durable bytes that the pending
/// writes did not change stay as they are (the disk does not damage data
/// next to a write: "powersafe overwrite", see docs/FORMAT.md). The length
/// is that of old or new (a torn size update).
fn scramble(old: &[u8], new: &[u8], rng: &mut Rng) -> Vec<u8> {
    let len = if rng.below(2) == 0 {
        old.len()
    } else {
        new.len()
    };
    let mut out = vec![0u8; len];
    for start in (0..len).step_by(SECTOR) {
        let end = (start + SECTOR).min(len);
        let choice = rng.below(4);
        for (i, b) in out[start..end].iter_mut().enumerate() {
            let at = start + i;
            let (o, n) = (old.get(at).copied(), new.get(at).copied());
            *b = match (o, n) {
                (Some(o), Some(n)) if o == n => o,
                _ => match choice {
                    0 => o.or(n).unwrap_or(0),
                    1 => n.or(o).unwrap_or(0),
                    2 => 0,
                    _ => rng.next() as u8,
                },
            };
        }
    }
    out
}

#[derive(Debug)]
struct MemFile {
    fs: MemFs,
    ino: u64,
    epoch: u64,
    pos: u64,
}

/// Locks the disk for a file handle opened in `epoch`; a handle from
/// before a crash fails.
fn guard(fs: &MemFs, epoch: u64) -> io::Result<MutexGuard<'_, State>> {
    let s = fs.lock();
    s.alive()?;
    if s.epoch != epoch {
        return Err(err(io::ErrorKind::Other, "file handle from before a crash"));
    }
    Ok(s)
}

impl FsFile for MemFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let fs = self.fs.clone();
        let mut s = guard(&fs, self.epoch)?;
        s.tick(Call::Write, Path::new("<file>"))?;
        let fault = s.check_fault(Call::Write);
        let n = if fault.is_err() {
            buf.len() / 2
        } else {
            buf.len()
        };
        let inode = s.inodes.get_mut(&self.ino).unwrap();
        let pos = self.pos as usize;
        if inode.data.len() < pos + n {
            inode.data.resize(pos + n, 0);
        }
        inode.data[pos..pos + n].copy_from_slice(&buf[..n]);
        inode.mark_dirty(pos, pos + n);
        inode.modified_ns = now_ns();
        s.written += n as u64;
        self.pos += n as u64;
        fault
    }

    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        drop(guard(&self.fs, self.epoch)?);
        self.pos = offset;
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let delay = guard(&self.fs, self.epoch)?.sync_delay;
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let mut s = guard(&self.fs, self.epoch)?;
        s.tick(Call::Sync, Path::new("<file>"))?;
        if let Err(e) = s.check_fault(Call::Sync) {
            // Linux after EIO: the failed pages are marked clean and stay
            // readable; no later sync will write them.
            s.inodes.get_mut(&self.ino).unwrap().dirty.clear();
            return Err(e);
        }
        s.syncs += 1;
        s.inodes.get_mut(&self.ino).unwrap().sync();
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let fs = self.fs.clone();
        let mut s = guard(&fs, self.epoch)?;
        s.tick(Call::SetLen, Path::new("<file>"))?;
        s.check_fault(Call::SetLen)?;
        let inode = s.inodes.get_mut(&self.ino).unwrap();
        let (old, new) = (inode.data.len(), len as usize);
        inode.data.resize(new, 0);
        if new > old {
            inode.mark_dirty(old, new);
        } else {
            inode.dirty.retain(|&p| p < new.div_ceil(PAGE));
        }
        self.pos = len;
        Ok(())
    }
}

impl Fs for MemFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Create, dir)?;
        for anc in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
            if s.dirs.contains_key(anc) {
                continue;
            }
            s.dirs.insert(anc.to_path_buf(), BTreeMap::new());
            s.durable_dirs.insert(anc.to_path_buf(), BTreeMap::new());
        }
        Ok(())
    }

    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        let s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        Ok(s.inodes[&ino]
            .data
            .get(offset as usize..)
            .unwrap_or_default()
            .to_vec())
    }

    fn read_at(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        let data = &s.inodes[&ino].data;
        let from = (offset as usize).min(data.len());
        Ok(data[from..(from + len).min(data.len())].to_vec())
    }

    fn read_head(&self, path: &Path, len: usize) -> io::Result<Vec<u8>> {
        let s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        let data = &s.inodes[&ino].data;
        Ok(data[..len.min(data.len())].to_vec())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        s.alive()?;
        let mut names: Vec<String> = s
            .dirs
            .get(dir)
            .ok_or_else(|| err(io::ErrorKind::NotFound, "no such directory"))?
            .keys()
            .cloned()
            .collect();
        // Sub-directories are entries too.
        for d in s.dirs.keys() {
            if d.parent() == Some(dir) {
                names.push(d.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        Ok(names)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.lock();
        s.tick(Call::Create, path)?;
        s.check_fault(Call::Create)?;
        let ino = match s.lookup(path) {
            Ok(ino) => {
                let inode = s.inodes.get_mut(&ino).unwrap();
                inode.data.clear();
                inode.dirty.clear();
                ino
            }
            Err(_) => {
                s.next_ino += 1;
                let ino = s.next_ino;
                s.inodes.insert(
                    ino,
                    Inode {
                        modified_ns: now_ns(),
                        ..Inode::default()
                    },
                );
                s.link(path, ino)?;
                ino
            }
        };
        Ok(Box::new(MemFile {
            fs: self.clone(),
            ino,
            epoch: s.epoch,
            pos: 0,
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        let pos = s.inodes[&ino].data.len() as u64;
        Ok(Box::new(MemFile {
            fs: self.clone(),
            ino,
            epoch: s.epoch,
            pos,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Rename, to)?;
        s.check_fault(Call::Rename)?;
        if s.dirs.contains_key(from) {
            // Directory rename (repair swaps whole directories): moved at
            // once and durably, like the directories themselves.
            let moved: Vec<(PathBuf, BTreeMap<String, u64>)> = s
                .dirs
                .iter()
                .filter(|(p, _)| p.starts_with(from))
                .map(|(p, e)| (p.clone(), e.clone()))
                .collect();
            for (p, entries) in moved {
                s.dirs.remove(&p);
                s.durable_dirs.remove(&p);
                let np = to.join(p.strip_prefix(from).unwrap());
                s.dirs.insert(np.clone(), entries.clone());
                s.durable_dirs.insert(np, entries);
            }
            return Ok(());
        }
        let ino = s.lookup(from)?;
        s.unlink(from)?;
        s.link(to, ino)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Remove, path)?;
        s.check_fault(Call::Remove)?;
        s.unlink(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Remove, path)?;
        let gone: Vec<PathBuf> = s
            .dirs
            .keys()
            .filter(|p| p.starts_with(path))
            .cloned()
            .collect();
        if gone.is_empty() {
            return Err(err(io::ErrorKind::NotFound, "no such directory"));
        }
        for p in gone {
            s.dirs.remove(&p);
            s.durable_dirs.remove(&p);
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::SyncDir, dir)?;
        s.check_fault(Call::SyncDir)?;
        if !s.dirs.contains_key(dir) {
            return Err(err(io::ErrorKind::NotFound, "no such directory"));
        }
        let pending = std::mem::take(&mut s.pending);
        let mut rest = Vec::new();
        for op in pending {
            let here = match &op {
                DirOp::Link { dir: d, .. } | DirOp::Unlink { dir: d, .. } => d == dir,
            };
            if here {
                s.apply_durably(&op);
            } else {
                rest.push(op);
            }
        }
        s.pending = rest;
        Ok(())
    }

    fn len(&self, path: &Path) -> io::Result<Option<u64>> {
        let s = self.lock();
        s.alive()?;
        if s.dirs.contains_key(path) {
            return Ok(Some(0));
        }
        Ok(s.lookup(path)
            .ok()
            .map(|ino| s.inodes[&ino].data.len() as u64))
    }

    fn metadata(&self, path: &Path, _follow: bool) -> io::Result<Option<Meta>> {
        let s = self.lock();
        s.alive()?;
        if s.dirs.contains_key(path) {
            return Ok(Some(Meta {
                kind: FileKind::Dir,
                len: 0,
                modified_ns: 0,
                changed_ns: 0,
                inode: 0,
                nlink: 1,
                uid: 0,
                mode: 0o755,
            }));
        }
        let Ok(ino) = s.lookup(path) else {
            return Ok(None);
        };
        Ok(Some(s.meta_of(ino)))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn io::Read + Send>> {
        let s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        Ok(Box::new(io::Cursor::new(s.inodes[&ino].data.clone())))
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Create, link)?;
        let ino = s.lookup(original)?;
        if s.lookup(link).is_ok() {
            return Err(err(io::ErrorKind::AlreadyExists, "link exists"));
        }
        s.link(link, ino)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Remove, path)?;
        let empty = s.dirs.get(path).is_some_and(BTreeMap::is_empty)
            && !s.dirs.keys().any(|d| d.parent() == Some(path));
        if !empty {
            return Err(err(
                io::ErrorKind::DirectoryNotEmpty,
                "directory not empty or missing",
            ));
        }
        s.dirs.remove(path);
        s.durable_dirs.remove(path);
        Ok(())
    }

    fn touch(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.tick(Call::Write, path)?;
        let ino = s.lookup(path)?;
        s.inodes.get_mut(&ino).unwrap().modified_ns = now_ns();
        Ok(())
    }

    fn set_readonly(&self, path: &Path) -> io::Result<()> {
        self.lock().lookup(path).map(|_| ())
    }

    fn drop_cached(&self, path: &Path, from: u64, len: u64) -> io::Result<()> {
        let mut s = self.lock();
        s.alive()?;
        let ino = s.lookup(path)?;
        let to = from.saturating_add(len) as usize;
        s.inodes
            .get_mut(&ino)
            .unwrap()
            .drop_clean_pages(from as usize, to);
        Ok(())
    }

    fn effective_uid(&self) -> u32 {
        0 // every file here is owned by user 0, the simulated process's
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let mut s = self.lock();
        s.alive()?;
        if !s.dirs.contains_key(path.parent().unwrap()) {
            return Err(err(io::ErrorKind::NotFound, "no such directory"));
        }
        if !s.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(LockGuard(Box::new(MemLock {
            fs: self.clone(),
            path: path.to_path_buf(),
            epoch: s.epoch,
        }))))
    }

    // Beneath a root: this file system has no symlinks, so every path under
    // the root stays under it; these are the path operations above.

    fn metadata_beneath(&self, root: &Path, rel: &str) -> io::Result<Option<Meta>> {
        self.metadata(&beneath(root, rel), false)
    }

    fn create_dir_all_beneath(&self, root: &Path, rel: &str) -> io::Result<()> {
        self.create_dir_all(&beneath(root, rel))
    }

    fn create_new_beneath(&self, root: &Path, rel: &str) -> io::Result<Box<dyn FsFile>> {
        let path = beneath(root, rel);
        if self.metadata(&path, false)?.is_some() {
            return Err(err(io::ErrorKind::AlreadyExists, "file exists"));
        }
        self.create(&path)
    }

    fn rename_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()> {
        self.rename(&beneath(root, from), &beneath(root, to))
    }

    fn hard_link_beneath(&self, root: &Path, from: &str, to: &str) -> io::Result<()> {
        self.lock().check_fault(Call::Link)?;
        self.hard_link(&beneath(root, from), &beneath(root, to))
    }

    fn open_foreign(&self, at: ForeignPath<'_>) -> io::Result<Box<dyn ForeignFile>> {
        let path = at.tree.join(at.rel);
        let s = self.lock();
        s.alive()?;
        if s.dirs.contains_key(&path) {
            return Err(not_regular("a directory"));
        }
        let ino = s.lookup(&path)?;
        Ok(Box::new(MemForeign {
            fs: self.clone(),
            path,
            ino,
        }))
    }

    fn move_out_beneath(
        &self,
        root: &Path,
        from: &str,
        dest: &Path,
        _dir: Option<DirId>,
    ) -> io::Result<()> {
        if self.metadata(dest, false)?.is_some() {
            return Err(err(io::ErrorKind::AlreadyExists, "file exists"));
        }
        let parent = dest.parent().unwrap_or(Path::new("/"));
        if !self.lock().dirs.contains_key(parent) {
            return Err(err(io::ErrorKind::NotFound, "no such directory"));
        }
        self.rename(&beneath(root, from), dest)
    }

    fn remove_tree_beneath(&self, root: &Path, rel: &str) -> io::Result<u64> {
        fn remove(fs: &MemFs, path: &Path) -> io::Result<u64> {
            let Some(meta) = fs.metadata(path, false)? else {
                return Ok(0);
            };
            if meta.kind != FileKind::Dir {
                fs.remove_file(path)?;
                return Ok(1);
            }
            let mut removed = 0;
            for name in fs.list(path)? {
                removed += remove(fs, &path.join(name))?;
            }
            fs.remove_dir(path)?;
            Ok(removed)
        }
        remove(self, &beneath(root, rel))
    }

    fn sync_dir_beneath(&self, root: &Path, rel: &str) -> io::Result<()> {
        self.sync_dir(&beneath(root, rel))
    }

    fn set_readonly_beneath(&self, root: &Path, rel: &str, _readable: u32) -> io::Result<()> {
        self.set_readonly(&beneath(root, rel))
    }
}

/// A file opened by handle: its inode, whatever its path holds later.
#[derive(Debug)]
struct MemForeign {
    fs: MemFs,
    path: PathBuf,
    ino: u64,
}

impl MemForeign {
    /// Whether `path` holds this very inode now.
    fn is_this(&self, path: &Path) -> bool {
        self.fs.lock().lookup(path).ok() == Some(self.ino)
    }
}

impl ForeignFile for MemForeign {
    fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&self) -> io::Result<Meta> {
        let s = self.fs.lock();
        s.alive()?;
        Ok(s.meta_of(self.ino))
    }

    fn reader(&self) -> Box<dyn io::Read + Send + '_> {
        let s = self.fs.lock();
        match s.alive() {
            Ok(()) => Box::new(io::Cursor::new(s.inodes[&self.ino].data.clone())),
            Err(e) => Box::new(Failing(Some(e))),
        }
    }

    fn via_symlink(&self) -> bool {
        false
    }

    fn dir(&self) -> io::Result<(PathBuf, DirId)> {
        let dir = self.path.parent().unwrap_or(Path::new("/")).to_path_buf();
        Ok((dir, DirId { dev: 0, inode: 0 }))
    }

    fn link_in(&self, root: &Path, to: &str) -> io::Result<()> {
        self.fs.lock().check_fault(Call::Link)?;
        let to = beneath(root, to);
        self.fs.hard_link(&self.path, &to)?;
        if self.is_this(&to) {
            return Ok(());
        }
        let _ = self.fs.remove_file(&to);
        Err(changed("another file was put under its name; not linked"))
    }

    fn move_in(&self, root: &Path, to: &str) -> io::Result<()> {
        let to = beneath(root, to);
        if self.fs.metadata(&to, false)?.is_some() {
            return Err(err(io::ErrorKind::AlreadyExists, "file exists"));
        }
        self.fs.rename(&self.path, &to)?;
        if self.is_this(&to) {
            return Ok(());
        }
        let _ = self.fs.rename(&to, &self.path);
        Err(changed("another file was put under its name; not moved"))
    }
}

/// A reader that fails (a crashed process reads nothing).
struct Failing(Option<io::Error>);

impl io::Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("the process crashed")))
    }
}

/// `root/rel` (the root itself for an empty `rel`).
fn beneath(root: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    }
}

struct MemLock {
    fs: MemFs,
    path: PathBuf,
    epoch: u64,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        let mut s = self.fs.lock();
        if s.epoch == self.epoch {
            s.locks.remove(&self.path);
        }
    }
}
