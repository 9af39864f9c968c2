//! The crate's one error type.
//!
//! Every variant carries the fields a caller needs to act: which file, which
//! byte offset, which sequence number, which version. The `Display` text says
//! what to do next.

pub use crate::corrupt::CorruptKind;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `catalog-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No entry with this id exists.
    #[error("model `{id}` is not in the catalog; `list` shows the ids that are")]
    NotFound {
        /// The id that was looked up.
        id: String,
    },

    /// Another process holds the writer lock on this root.
    #[error(
        "catalog at {} is busy: another process holds the writer lock ({}); \
         wait for it to finish, or open read-only",
        root.display(),
        lock_file.display()
    )]
    Busy {
        /// The catalog root.
        root: PathBuf,
        /// The lock file that is held.
        lock_file: PathBuf,
    },

    /// Durable data failed a check. The catalog refuses to open rather than
    /// guess; `Catalog::repair` salvages every valid record and reports the gap.
    #[error(
        "catalog data is corrupt in {} at byte {offset} (sequence {seq}): {reason}; \
         the file is left untouched — run a repair to salvage every valid record",
        file.display(),
        seq = seq.map_or_else(|| "unknown".to_string(), |s| s.to_string())
    )]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the first bad byte range.
        offset: u64,
        /// Sequence number of the record involved, where known (the one
        /// expected at `offset`).
        seq: Option<u64>,
        /// Which check failed.
        kind: CorruptKind,
        /// What exactly was wrong.
        reason: String,
    },

    /// A file was written by a newer (or unknown) format version.
    #[error(
        "{} has format version {got}, this build reads version {expected}; \
         upgrade catalog-core to open it",
        file.display()
    )]
    UnsupportedVersion {
        /// The file with the unknown version.
        file: PathBuf,
        /// The version this build writes and reads.
        expected: u32,
        /// The version found in the file.
        got: u32,
    },

    /// An earlier write or fsync on this handle failed. Nothing more is
    /// acknowledged through it: drop it and open the catalog again, and
    /// recovery decides what is durable.
    #[error("catalog handle is poisoned by an earlier I/O failure ({cause}); reopen the catalog")]
    Poisoned {
        /// The failure that poisoned the handle.
        cause: String,
    },

    /// There is no catalog under this root (a read-only open does not
    /// create one).
    #[error(
        "no catalog at {}; a writer open creates one (for example `catalog add <model>`)",
        root.display()
    )]
    NoCatalog {
        /// The root that was opened.
        root: PathBuf,
    },

    /// A repair was interrupted while swapping in the repaired journal.
    #[error(
        "a repair of the catalog at {} was interrupted; open it for writing (or run the \
         repair again) to finish it",
        root.display()
    )]
    RepairPending {
        /// The catalog root.
        root: PathBuf,
    },

    /// A path would leave the catalog root, or passes through a symlink
    /// inside it. Nothing was written or deleted.
    #[error("refusing unsafe path {}: {reason}", path.display())]
    UnsafePath {
        /// The path that was refused.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// Bytes did not hash to the digest they were expected to have; nothing
    /// was registered.
    #[error(
        "digest mismatch for {}: expected {expected}, got {actual}; the source is not the \
         model you asked for (or is damaged)",
        path.display()
    )]
    DigestMismatch {
        /// The file that was hashed.
        path: PathBuf,
        /// The digest asked for.
        expected: crate::Digest,
        /// The digest of the bytes.
        actual: crate::Digest,
    },

    /// The model was replaced while an operation on it (a verification) was
    /// running; nothing was recorded.
    #[error(
        "model `{id}` changed while it was being verified (re-imported or replaced); verify it again"
    )]
    Changed {
        /// The model.
        id: String,
    },

    /// A source file changed while it was being read, linked or moved
    /// (another process wrote, replaced or renamed it): nothing was
    /// registered from it.
    #[error(
        "{} changed while the catalog was using it ({reason}); nothing was registered — \
         wait until whoever writes it is done, then try again",
        path.display()
    )]
    SourceChanged {
        /// The source file.
        path: PathBuf,
        /// What changed.
        reason: String,
    },

    /// The handle was opened read-only and cannot write.
    #[error("catalog handle is read-only; open it with `Catalog::open` to write")]
    ReadOnly,

    /// The caller passed something the catalog cannot accept; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which argument or field was rejected.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// An operating-system I/O error on a named path.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The path the failing call touched.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file in a model directory has a name that is not UTF-8. A model's
    /// file paths are stored as UTF-8 text, so it cannot be imported as it
    /// is; nothing was written.
    #[error(
        "the name of {} is not valid UTF-8, and the catalog stores a model's file paths as \
         UTF-8 text; rename the file and import again (nothing was written)",
        escaped(path)
    )]
    NonUtf8Path {
        /// The file, with its name exactly as the file system has it.
        path: PathBuf,
    },

    /// A `--link move` import failed, and some of the files it had moved
    /// into the store could not be put back where they came from (the path
    /// is taken, its directory is gone, or putting back failed). Their
    /// bytes are kept in the store, never deleted by the catalog; every
    /// later writer open and gc try again, and `check` lists them.
    #[error(
        "{cause}; and {} moved file(s) could not be put back — their bytes are kept in the store: \
         {}; move each where you want it (or free its old path and open the catalog for writing \
         again)",
        kept.len(),
        kept.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    MovedFilesKept {
        /// Why the import failed.
        #[source]
        cause: Box<Error>,
        /// Where each kept file's bytes are, and where they came from.
        kept: Vec<crate::KeptFile>,
    },

    /// Fleet export: the stream already holds another catalog's events
    /// under this node name (a reinstalled node, or two nodes given one
    /// name). Nothing was published: two histories are never mixed.
    #[error(
        "node name `{node}` in the fleet stream {stream} belongs to catalog {theirs}, not to this \
         catalog ({ours}): a reinstalled node, or two nodes with one name; export under another \
         --node name, or retire the old name's history first (docs/FLEET.md, \"Failures\")"
    )]
    FleetNodeTaken {
        /// The node name.
        node: String,
        /// The JetStream stream.
        stream: String,
        /// This catalog's id.
        ours: String,
        /// The catalog id the stream (or the fleet bucket) holds for the name.
        theirs: String,
    },

    /// Fleet export: the stream and this catalog's journal disagree about
    /// the node's history (the catalog was restored from an older copy, its
    /// history was pruned before it was exported, or a record differs).
    /// Nothing was published.
    #[error(
        "the fleet stream {stream} and this catalog disagree about node `{node}` at sequence \
         {seq}: {reason}; nothing was published (docs/FLEET.md, \"Failures\")"
    )]
    FleetHistoryDiverged {
        /// The node name.
        node: String,
        /// The JetStream stream.
        stream: String,
        /// The sequence number where they disagree.
        seq: u64,
        /// How.
        reason: String,
    },

    /// Fleet: an existing JetStream stream (the event stream, or the fleet
    /// bucket's) has settings the fleet cannot work with: roll-ups (one
    /// node could erase the others), work-queue or interest retention, an
    /// age or per-subject limit (a node's last message, where its exporter
    /// resumes, could vanish). Nothing was published or read.
    #[error(
        "the JetStream stream {name} cannot hold the fleet as it is set up: {problem}; nothing \
         was done (docs/FLEET.md, \"Subjects, stream and bucket\")"
    )]
    FleetLayout {
        /// The stream.
        name: String,
        /// What is wrong, and how to fix it.
        problem: String,
    },

    /// Fleet export: the last message on the node's subject was not
    /// published by `catalog export` for this node (no or another message
    /// id, a body naming another node, a sequence that disagrees), so where
    /// to resume is unknown. Nothing was published.
    #[error(
        "the last message on catalog.{node}.events (stream {stream}, sequence {stream_seq}) was \
         not published by `catalog export` for node `{node}`: {reason}; nothing was published. \
         Whoever holds this node's credentials, or an administrator, wrote it: remove it (`nats \
         stream rmm {stream} {stream_seq}`), check who may publish on the subject \
         (docs/FLEET.md, \"Permissions\"), and export again"
    )]
    FleetForeignMessage {
        /// The node name.
        node: String,
        /// The JetStream stream.
        stream: String,
        /// The stream sequence of the message.
        stream_seq: u64,
        /// What is wrong with it.
        reason: String,
    },

    /// Fleet export: a message id of this node's was already taken, within
    /// the stream's duplicate window, by a message on another subject
    /// (another client published it first, so the stream dropped the
    /// node's event as a "duplicate"). The event was published again under
    /// a message id nobody can guess, so nothing is missing, but whoever
    /// published the first one can write on another node's subject.
    #[error(
        "message id {msg_id} of node `{node}` was taken in stream {stream} by a message on \
         {subject} (stream sequence {stream_seq}): another client published it before this \
         node did. The event was stored again under a message id that cannot be taken, so none \
         is missing; find who can publish on {subject} (docs/FLEET.md, \"Message ids\")"
    )]
    FleetMsgIdTaken {
        /// The node name.
        node: String,
        /// The JetStream stream.
        stream: String,
        /// The message id that was taken.
        msg_id: String,
        /// The subject of the message that holds it.
        subject: String,
        /// Its stream sequence.
        stream_seq: u64,
    },

    /// Fleet signatures: the node's signing key file cannot be used (it is
    /// readable by others, damaged, or of a newer format).
    #[error(
        "fleet signing key {}: {problem} (docs/FLEET.md, \"Signatures\")",
        path.display()
    )]
    FleetKey {
        /// The key file.
        path: std::path::PathBuf,
        /// What is wrong, and how to fix it.
        problem: String,
    },

    /// The NATS server refused this client in a way retrying cannot
    /// change: an authorization or permissions violation, a payload over
    /// the server's limit. A following exporter stops on it.
    #[error(
        "NATS server {server} refused this client: {reason}; retrying cannot change that: check \
         the credentials, the node name and the permissions (docs/FLEET.md, \"Permissions\")"
    )]
    NatsRefused {
        /// The server, without credentials.
        server: String,
        /// What the server said, with credentials removed.
        reason: String,
    },

    /// A NATS or JetStream call failed (the server is unreachable, timed
    /// out or refused it). Credentials are never part of the message.
    #[error("NATS server {server}: {op} failed: {reason}")]
    Nats {
        /// The server, without credentials.
        server: String,
        /// What was being done.
        op: &'static str,
        /// The client's error, with credentials removed.
        reason: String,
    },

    /// An adoption would replace entries that came from somewhere else: an
    /// id the source offers belongs, in the catalog, to another model
    /// (another repository, Ollama name, file or URL) or to this model
    /// registered in place at another path. Adoption never replaces such an
    /// entry (its blobs would be left to gc); found while planning, before
    /// anything was written, and nothing was.
    #[error("{}", crate::adopt::describe_conflicts(conflicts))]
    AdoptConflict {
        /// Each id in conflict: what the catalog's entry came from, and
        /// what the source offers.
        conflicts: Vec<crate::AdoptConflict>,
    },

    /// A path given to adopt or import is the catalog root, lies inside
    /// it, or contains it (compared resolved, and by the root directory's
    /// device and inode, so a symlinked parent or a bind mount counts): the
    /// catalog's own files (its journal, its lock, its blobs) would become
    /// a model's. Found before anything was written; nothing was.
    #[error(
        "refusing to read models from {}: it {} the catalog root {}{}; the catalog's own files \
         (journal, lock, blobs) would become a model's — nothing was written; give a path \
         outside the catalog root, not containing it",
        path.display(),
        overlap.as_str(),
        root.display(),
        if resolved == path { String::new() } else { format!(" (as {})", resolved.display()) }
    )]
    CatalogRootOverlap {
        /// The path given (or a file found under it).
        path: PathBuf,
        /// That path resolved (every symlink followed).
        resolved: PathBuf,
        /// The catalog root, resolved.
        root: PathBuf,
        /// The root itself, inside it, or containing it.
        overlap: crate::RootOverlap,
    },

    /// A source being imported or a store being adopted (a model
    /// directory, a Hugging Face cache, an Ollama models directory) holds
    /// something the catalog refuses to read as it is: a symlink leading
    /// out of the directory it belongs to (a repository's `blobs/`, the
    /// model directory), a file that is not a regular file (a FIFO, a
    /// device), a manifest digest that is not `sha256:<64 hex>` (a blob
    /// path made from it could leave `blobs/`, as in CVE-2024-37032), an
    /// oversized manifest. Nothing was registered from it.
    #[error(
        "refusing to adopt or import {}: {reason}; nothing was written — remove or repair it, \
         then try again",
        path.display()
    )]
    UnsafeSource {
        /// The file or symlink refused.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// `path` for a message, with every byte that is not UTF-8 shown as `\xNN`
/// (and `\` doubled, and control characters escaped, so the text is
/// unambiguous): `/models/repo/x\xfe`.
fn escaped(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' || c.is_control() {
                out.extend(c.escape_debug());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::InvalidInput`]. Token shapes (`hf_…`, `ghp_…`,
    /// see `docs/MODEL_REF.md` §4) in the reason are scrubbed, whatever
    /// input it quotes.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: crate::model_ref::scrub_tokens(&reason.into()),
        }
    }

    /// Builds an [`Error::Corrupt`].
    pub(crate) fn corrupt(
        file: impl Into<PathBuf>,
        offset: u64,
        seq: Option<u64>,
        kind: CorruptKind,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            file: file.into(),
            offset,
            seq,
            kind,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_non_utf8_path_is_shown_escaped_and_unambiguous() {
        let path = std::path::Path::new(OsStr::from_bytes(b"/m/r\\s/x\xfe\xff\n\xe2\x82\xac"));
        assert_eq!(escaped(path), r"/m/r\\s/x\xfe\xff\n€");
        let err = Error::NonUtf8Path {
            path: path.to_path_buf(),
        };
        assert!(err.to_string().contains(r"x\xfe\xff"), "{err}");
    }
}
