//! The four ways of making one upsert durable that the comparison runs side
//! by side, each acknowledging only after an fsync:
//!
//! * the catalog: `Catalog::put` (one journal record, group commit,
//!   `fdatasync` before it returns);
//! * the physical limit: `write` + `fdatasync` of a record of the same size
//!   appended to a plain file;
//! * SQLite (bundled), WAL, `synchronous=FULL`, one row per entry, one
//!   transaction per upsert;
//! * the whole-file JSON index the seed's catalog used: the whole map
//!   serialised, written to a temp file, fsynced, renamed over the index,
//!   directory fsynced — on every change.

use super::workload::{Row, model_id, now_ms, row, spec};
use catalog_core::Catalog;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One durable upsert of model `i` at version `v`.
pub trait Putter {
    fn put(&mut self, i: u64, v: u64) -> AnyResult<()>;
}

/// `Catalog::put`.
pub struct CatalogPutter<'a>(pub &'a Catalog);

impl Putter for CatalogPutter<'_> {
    fn put(&mut self, i: u64, v: u64) -> AnyResult<()> {
        self.0.put(spec(i, v))?;
        Ok(())
    }
}

/// `write` + `fdatasync` of `record_len` bytes appended to one file.
pub struct RawLog {
    file: File,
    buf: Vec<u8>,
}

impl RawLog {
    pub fn create(path: &Path, record_len: usize) -> AnyResult<RawLog> {
        let file = File::create(path)?;
        Ok(RawLog {
            file,
            buf: vec![0x5a; record_len],
        })
    }
}

impl Putter for RawLog {
    fn put(&mut self, i: u64, _v: u64) -> AnyResult<()> {
        // Something different each time, like a real record.
        self.buf[..8].copy_from_slice(&i.to_le_bytes());
        self.file.write_all(&self.buf)?;
        self.file.sync_data()?;
        Ok(())
    }
}

/// `write` + `fdatasync` of `record_len` bytes into a file that was
/// preallocated (written with zeros and synced) beforehand, wrapping
/// around at its end: what SQLite's WAL does once it is reused after a
/// checkpoint. Neither the file size nor its block map changes, so
/// `fdatasync` has no metadata to commit.
pub struct RawOverwrite {
    file: File,
    buf: Vec<u8>,
    len: u64,
    pos: u64,
}

impl RawOverwrite {
    pub fn create(path: &Path, record_len: usize, len: u64) -> AnyResult<RawOverwrite> {
        let mut file = File::create(path)?;
        let zeros = vec![0u8; 1 << 20];
        let mut written = 0;
        while written < len {
            file.write_all(&zeros)?;
            written += zeros.len() as u64;
        }
        file.sync_all()?;
        Ok(RawOverwrite {
            file,
            buf: vec![0x5a; record_len],
            len: written,
            pos: 0,
        })
    }
}

impl Putter for RawOverwrite {
    fn put(&mut self, i: u64, _v: u64) -> AnyResult<()> {
        use std::os::unix::fs::FileExt;
        self.buf[..8].copy_from_slice(&i.to_le_bytes());
        if self.pos + self.buf.len() as u64 > self.len {
            self.pos = 0;
        }
        self.file.write_all_at(&self.buf, self.pos)?;
        self.file.sync_data()?;
        self.pos += self.buf.len() as u64;
        Ok(())
    }
}

/// `fsync` of a directory (makes a rename durable).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

// --- SQLite ------------------------------------------------------------

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY NOT NULL,
    model_ref TEXT NOT NULL,
    local_path TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    trust TEXT NOT NULL,
    digest TEXT,
    size_bytes INTEGER NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID";

const UPSERT: &str = "INSERT INTO models
    (id, model_ref, local_path, lifecycle, trust, digest, size_bytes, registered_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT(id) DO UPDATE SET model_ref = excluded.model_ref,
        local_path = excluded.local_path, lifecycle = excluded.lifecycle,
        trust = excluded.trust, digest = excluded.digest,
        size_bytes = excluded.size_bytes, updated_at_ms = excluded.updated_at_ms";

const COLUMNS: &str = "id, model_ref, local_path, lifecycle, trust, digest, size_bytes, \
                       registered_at_ms, updated_at_ms";

/// A connection with the durability settings of the comparison: WAL,
/// `synchronous=FULL` (the WAL is fsynced at every commit), and a busy
/// timeout so that concurrent writers wait for the write lock.
pub fn sqlite_connect(path: &Path) -> AnyResult<Connection> {
    let conn = Connection::open(path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("SQLite refused WAL mode (got {mode})").into());
    }
    conn.execute_batch("PRAGMA synchronous=FULL")?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if sync != 2 {
        return Err(format!("PRAGMA synchronous is {sync}, not FULL (2)").into());
    }
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

/// Creates the database with `entries` rows (one bulk transaction).
pub fn sqlite_create(path: &Path, entries: u64) -> AnyResult<()> {
    let mut conn = sqlite_connect(path)?;
    conn.execute_batch(SCHEMA)?;
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(UPSERT)?;
        for i in 0..entries {
            bind_upsert(&mut stmt, &row(i, 0))?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(())
}

fn bind_upsert(stmt: &mut rusqlite::Statement<'_>, r: &Row) -> rusqlite::Result<usize> {
    stmt.execute(params![
        r.id,
        r.model_ref,
        r.local_path,
        r.lifecycle,
        r.trust,
        r.digest,
        r.size_bytes as i64,
        r.registered_at_ms as i64,
        r.updated_at_ms as i64
    ])
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        model_ref: r.get(1)?,
        local_path: r.get(2)?,
        lifecycle: r.get(3)?,
        trust: r.get(4)?,
        digest: r.get(5)?,
        size_bytes: r.get::<_, i64>(6)? as u64,
        registered_at_ms: r.get::<_, i64>(7)? as u64,
        updated_at_ms: r.get::<_, i64>(8)? as u64,
    })
}

/// One upsert in its own transaction (autocommit).
pub fn sqlite_put(conn: &Connection, i: u64, v: u64) -> AnyResult<()> {
    let mut stmt = conn.prepare_cached(UPSERT)?;
    bind_upsert(&mut stmt, &row(i, v))?;
    Ok(())
}

pub fn sqlite_get(conn: &Connection, id: &str) -> AnyResult<Option<Row>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM models WHERE id = ?1"))?;
    Ok(stmt.query_row([id], read_row).optional()?)
}

pub fn sqlite_list(conn: &Connection) -> AnyResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM models ORDER BY id"))?;
    let rows = stmt.query_map([], read_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn sqlite_count(conn: &Connection) -> AnyResult<u64> {
    let n: i64 = conn.query_row("SELECT count(*) FROM models", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// A single SQLite writer connection, as a [`Putter`].
pub struct SqlitePutter(pub Connection);

impl Putter for SqlitePutter {
    fn put(&mut self, i: u64, v: u64) -> AnyResult<()> {
        sqlite_put(&self.0, i, v)
    }
}

// --- whole-file JSON index -----------------------------------------------

/// The seed's index: the whole map in one JSON file, rewritten atomically
/// on every change.
pub struct JsonIndex {
    dir: PathBuf,
    map: BTreeMap<String, Row>,
    /// Size of the last file written.
    pub file_bytes: usize,
}

#[derive(serde::Serialize)]
struct IndexFile<'a> {
    version: u32,
    entries: Vec<&'a Row>,
}

#[derive(serde::Deserialize)]
struct IndexFileOwned {
    #[allow(dead_code)]
    version: u32,
    entries: Vec<Row>,
}

pub const JSON_INDEX: &str = "index.json";

impl JsonIndex {
    pub fn create(dir: &Path, entries: u64) -> AnyResult<JsonIndex> {
        std::fs::create_dir_all(dir)?;
        let map = (0..entries)
            .map(|i| {
                let r = row(i, 0);
                (r.id.clone(), r)
            })
            .collect();
        let mut index = JsonIndex {
            dir: dir.to_path_buf(),
            map,
            file_bytes: 0,
        };
        index.save()?;
        Ok(index)
    }

    /// What a process starting up does: read and parse the whole index.
    pub fn load(dir: &Path) -> AnyResult<BTreeMap<String, Row>> {
        let bytes = std::fs::read(dir.join(JSON_INDEX))?;
        let file: IndexFileOwned = serde_json::from_slice(&bytes)?;
        Ok(file
            .entries
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect())
    }

    fn save(&mut self) -> AnyResult<()> {
        let bytes = serde_json::to_vec(&IndexFile {
            version: 1,
            entries: self.map.values().collect(),
        })?;
        let tmp = self.dir.join(format!("{JSON_INDEX}.tmp"));
        let mut file = File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_data()?;
        drop(file);
        std::fs::rename(&tmp, self.dir.join(JSON_INDEX))?;
        sync_dir(&self.dir)?;
        self.file_bytes = bytes.len();
        Ok(())
    }
}

impl Putter for JsonIndex {
    fn put(&mut self, i: u64, v: u64) -> AnyResult<()> {
        let mut r = row(i, v);
        if let Some(old) = self.map.get(&r.id) {
            r.registered_at_ms = old.registered_at_ms;
        }
        r.updated_at_ms = now_ms();
        self.map.insert(model_id(i), r);
        self.save()
    }
}
