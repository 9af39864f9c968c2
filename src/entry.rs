//! What the catalog records about one model.

use crate::digest::Digest;
use crate::error::{Error, Result};
pub(crate) use crate::text_check::check_text;
use serde::{Deserialize, Serialize};

/// Longest model id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Longest model reference or path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 4096;
/// Most files one model's manifest may list.
pub const MAX_MANIFEST_FILES: usize = 4096;
/// Longest verification reason kept, in bytes.
pub const MAX_REASON_LEN: usize = 1024;

/// Whether a model may be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lifecycle {
    /// May be selected and loaded.
    #[default]
    Active,
    /// Kept on disk and in history, but not to be selected.
    Retired,
}

/// What the last verification of a model's bytes found. Independent of
/// [`Lifecycle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TrustState {
    /// Never verified since it was (re-)registered.
    #[default]
    Unverified,
    /// The bytes matched the expected digest.
    Verified,
    /// Hashed, but there was no expected digest to compare with.
    Warned,
    /// The bytes did not match, or could not be read. Never shown as merely
    /// "unverified".
    Failed,
}

/// Outcome class of one verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VerifyResult {
    /// Digest matched.
    Pass,
    /// Nothing to compare with.
    Warn,
    /// Mismatch or unreadable.
    Fail,
}

impl VerifyResult {
    /// The trust state a verification with this result leaves behind.
    pub fn trust(self) -> TrustState {
        match self {
            VerifyResult::Pass => TrustState::Verified,
            VerifyResult::Warn => TrustState::Warned,
            VerifyResult::Fail => TrustState::Failed,
        }
    }
}

/// One verification as recorded in the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Pass, warn or fail.
    pub result: VerifyResult,
    /// Why (for example `digest mismatch`), at most [`MAX_REASON_LEN`] bytes.
    pub reason: String,
    /// The digest actually computed, if hashing completed.
    pub actual: Option<Digest>,
    /// Bytes the check covered: hashed for it, or (a file shared with a
    /// model verified before it in the same [`crate::VerifyPlan`]) hashed
    /// once in that run and counted for each model that holds it.
    pub bytes: u64,
    /// Wall-clock duration of the hashing, in milliseconds.
    pub duration_ms: u64,
    /// What the hashed files looked like when their bytes were read (size,
    /// change time, inode), so a later verification may skip unchanged
    /// files when asked to.
    pub files: Vec<FileFingerprint>,
}

/// The identity of a file at the time it was hashed: taken from its open
/// descriptor before the first byte was read, and the same after the last
/// (else the read failed), so it describes exactly the bytes hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFingerprint {
    /// Path relative to the catalog root.
    pub path: String,
    /// Length in bytes.
    pub len: u64,
    /// Inode change time (`ctime`), nanoseconds since the Unix epoch: the
    /// kernel sets it on every write, `utimes`, link, rename and `chmod`,
    /// and nobody can set it back, so it moves whenever the modification
    /// time does and also when an mtime is put back after a rewrite.
    /// Records written before this field held the ctime held the
    /// modification time here (the same 8 bytes): such a fingerprint
    /// matches only a file untouched since it was last written, and
    /// otherwise costs one re-hash (docs/FORMAT.md §4.3).
    pub changed_ns: u64,
    /// Inode number.
    pub inode: u64,
}

impl FileFingerprint {
    /// The fingerprint of the file at `path` as `meta` describes it.
    pub(crate) fn of(path: String, meta: &crate::fs::Meta) -> Self {
        FileFingerprint {
            path,
            len: meta.len,
            changed_ns: meta.changed_ns,
            inode: meta.inode,
        }
    }

    /// The largest fingerprint a file named `path` can have: for checking
    /// that a record fits before anything is written.
    pub(crate) fn widest(path: String) -> Self {
        FileFingerprint {
            path,
            len: u64::MAX,
            changed_ns: u64::MAX,
            inode: u64::MAX,
        }
    }
}

impl Verification {
    /// A verification with no file fingerprints.
    pub fn new(result: VerifyResult, reason: impl Into<String>) -> Self {
        Verification {
            result,
            reason: reason.into(),
            actual: None,
            bytes: 0,
            duration_ms: 0,
            files: Vec::new(),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.reason.len() > MAX_REASON_LEN || self.reason.chars().any(char::is_control) {
            return Err(Error::invalid(
                "reason",
                format!("at most {MAX_REASON_LEN} bytes, no control characters"),
            ));
        }
        if self.files.len() > MAX_MANIFEST_FILES + 1 {
            return Err(Error::invalid("files", "more fingerprints than files"));
        }
        for f in &self.files {
            check_relative_path("files.path", &f.path)?;
        }
        Ok(())
    }
}

/// Longest media type kept for a file (an Ollama layer's), in bytes.
pub const MAX_MEDIA_TYPE_LEN: usize = 255;

/// Where the digest an entry is checked against came from (format 3).
///
/// `trust` is `Verified` only against a publisher's digest: re-verifying a
/// model whose digest was computed when it was imported proves only that
/// its bytes did not change since, and leaves it `Warned`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DigestSource {
    /// Given by whoever published the model: `--digest` (an expected
    /// digest given to an import or to `put`), the name of a Hugging Face
    /// cache blob, an Ollama manifest.
    Publisher,
    /// Computed from the bytes when the model was first imported.
    Import,
    /// Listed in a statement whose signature verified against a policy
    /// (an OpenSSF Model Signing signature, `Catalog::verify_signature`):
    /// the signer is in [`ModelEntry::signature`]. Format 4.
    Signature,
}

impl DigestSource {
    /// `"publisher"`, `"import"` or `"signature"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestSource::Publisher => "publisher",
            DigestSource::Import => "import",
            DigestSource::Signature => "signature",
        }
    }

    /// Whether a digest from this source was vouched for by someone other
    /// than the catalog (a publisher or a verified signer): a match is then
    /// `Verified`, not a warning.
    pub fn is_vouched(self) -> bool {
        matches!(self, DigestSource::Publisher | DigestSource::Signature)
    }
}

/// One file of a multi-file model (for example a safetensors shard, or a
/// layer of an Ollama model).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to the model's directory, `/`-separated.
    pub path: String,
    /// SHA-256 of the file's bytes as registered (the store names it so).
    pub digest: Digest,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The media type its publisher gave it (an Ollama layer's
    /// `mediaType`), if any. Format 3.
    pub media_type: Option<String>,
    /// The digest its publisher named it by, when that is not `digest`
    /// itself: a git blob id (a small file of a Hugging Face repository),
    /// or, for a file whose bytes did not match, what they should have
    /// been. Verification checks it too. Format 3.
    pub publisher_digest: Option<Digest>,
}

impl ManifestFile {
    /// A file with no media type and no separate publisher digest.
    ///
    /// ```
    /// use catalog_core::{Digest, ManifestFile};
    /// let f = ManifestFile::new("config.json", Digest::of_bytes(b"{}"), 2);
    /// assert_eq!(f.media_type, None);
    /// ```
    pub fn new(path: impl Into<String>, digest: Digest, size_bytes: u64) -> Self {
        ManifestFile {
            path: path.into(),
            digest,
            size_bytes,
            media_type: None,
            publisher_digest: None,
        }
    }

    fn validate(&self, external: bool) -> Result<()> {
        check_relative_path("files.path", &self.path)?;
        if !self.digest.is_sha256() {
            return Err(Error::invalid(
                "files.digest",
                "must be a SHA-256 (a git blob id can only be a publisher_digest)",
            ));
        }
        if let Some(m) = &self.media_type {
            check_text("files.media_type", m, MAX_MEDIA_TYPE_LEN)?;
        }
        if !external
            && self
                .publisher_digest
                .is_some_and(|p| p.is_sha256() && p != self.digest)
        {
            return Err(Error::invalid(
                "files.publisher_digest",
                "a file in the store holds the bytes its publisher named (only a model \
                 registered in place may record bytes that did not match)",
            ));
        }
        Ok(())
    }
}

/// What a caller supplies to register (or replace) a model with `put`.
///
/// ```
/// use catalog_core::{EntrySpec, Digest};
/// let spec = EntrySpec::new("llama-3-8b", "hf:meta-llama/Meta-Llama-3-8B", "blobs/sha256/ab")
///     .digest(Digest::of_bytes(b"weights"))
///     .size_bytes(7);
/// assert_eq!(spec.id, "llama-3-8b");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrySpec {
    /// Unique id of the model in this catalog.
    pub id: String,
    /// Where the model came from (`hf:org/repo`, `file:/…`, a URL).
    pub model_ref: String,
    /// Where its bytes are, relative to the catalog root.
    pub local_path: String,
    /// Active or retired.
    pub lifecycle: Lifecycle,
    /// Expected or computed digest of the whole model (single file), if known.
    pub digest: Option<Digest>,
    /// Total size in bytes.
    pub size_bytes: u64,
    /// The files of a multi-file model; empty for a single file.
    pub files: Vec<ManifestFile>,
    /// Where `digest` came from; `None` if there is no digest (or the
    /// entry was written before format 3, which did not record it).
    pub digest_source: Option<DigestSource>,
    /// The model's bytes are not the catalog's: it was registered in place
    /// (`catalog adopt --in-place`), `local_path` is an absolute path
    /// outside the root, and `evict`, `delete` and `gc` never remove or
    /// move its files. Format 3.
    pub external: bool,
}

impl EntrySpec {
    /// A spec with the three required fields; the rest default.
    pub fn new(
        id: impl Into<String>,
        model_ref: impl Into<String>,
        local_path: impl Into<String>,
    ) -> Self {
        EntrySpec {
            id: id.into(),
            model_ref: model_ref.into(),
            local_path: local_path.into(),
            lifecycle: Lifecycle::Active,
            digest: None,
            size_bytes: 0,
            files: Vec::new(),
            digest_source: None,
            external: false,
        }
    }
    /// Sets the digest, as one its publisher gave ([`DigestSource::Publisher`]):
    /// whoever calls `put` vouches for it.
    pub fn digest(self, digest: Digest) -> Self {
        self.digest_from(digest, DigestSource::Publisher)
    }
    /// Sets the digest and where it came from.
    ///
    /// ```
    /// use catalog_core::{Digest, DigestSource, EntrySpec};
    /// let spec = EntrySpec::new("m", "file:/models/m.gguf", "blobs/sha256/ab")
    ///     .digest_from(Digest::of_bytes(b"w"), DigestSource::Import);
    /// assert_eq!(spec.digest_source, Some(DigestSource::Import));
    /// ```
    pub fn digest_from(mut self, digest: Digest, source: DigestSource) -> Self {
        self.digest = Some(digest);
        self.digest_source = Some(source);
        self
    }
    /// Marks the entry external: its files stay where they are
    /// (`local_path` is then absolute), and nothing of the catalog ever
    /// removes or moves them.
    pub fn external(mut self, external: bool) -> Self {
        self.external = external;
        self
    }
    /// Sets the size.
    pub fn size_bytes(mut self, size: u64) -> Self {
        self.size_bytes = size;
        self
    }
    /// Sets the lifecycle.
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }
    /// Sets the manifest of a multi-file model.
    pub fn files(mut self, files: Vec<ManifestFile>) -> Self {
        self.files = files;
        self
    }

    /// Checks every field; nothing invalid ever reaches the journal.
    pub(crate) fn validate(&self) -> Result<()> {
        check_id(&self.id)?;
        check_text("model_ref", &self.model_ref, MAX_PATH_LEN)?;
        if self.external {
            check_absolute_path("local_path", &self.local_path)?;
        } else {
            check_relative_path("local_path", &self.local_path)?;
        }
        if self.files.len() > MAX_MANIFEST_FILES {
            return Err(Error::invalid(
                "files",
                format!("{} files, at most {MAX_MANIFEST_FILES}", self.files.len()),
            ));
        }
        for file in &self.files {
            file.validate(self.external)?;
        }
        if self.digest.is_some_and(|d| !d.is_sha256()) {
            return Err(Error::invalid("digest", "must be a SHA-256"));
        }
        if self.digest_source.is_some() && self.digest.is_none() {
            return Err(Error::invalid(
                "digest_source",
                "says where a digest came from, and there is no digest",
            ));
        }
        Ok(())
    }
}

/// A model as the catalog knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Unique id.
    pub id: String,
    /// Where the model came from.
    pub model_ref: String,
    /// Where its bytes are, relative to the catalog root.
    pub local_path: String,
    /// Active or retired.
    pub lifecycle: Lifecycle,
    /// Outcome of the last verification.
    pub trust: TrustState,
    /// Digest of the whole model, if known.
    pub digest: Option<Digest>,
    /// Total size in bytes.
    pub size_bytes: u64,
    /// Files of a multi-file model.
    pub files: Vec<ManifestFile>,
    /// When the id was first registered (Unix milliseconds).
    pub registered_at_ms: u64,
    /// When the entry last changed (Unix milliseconds).
    pub updated_at_ms: u64,
    /// Journal sequence number of the entry's last change.
    pub updated_seq: u64,
    /// When it was last verified (Unix milliseconds).
    pub last_verified_at_ms: Option<u64>,
    /// The last verification's details.
    pub last_verification: Option<Box<Verification>>,
    /// Where `digest` came from (`None`: no digest, or registered before
    /// format 3, which did not record it). Format 3.
    pub digest_source: Option<DigestSource>,
    /// Registered in place: `local_path` is absolute, outside the root, and
    /// the files are never removed or moved by the catalog. Format 3.
    pub external: bool,
    /// The last signature that verified (`Op::VerifySignature` with a
    /// pass): who signed and the bundle's digest (kept in the store while
    /// the entry holds it). `None` if none since the model was
    /// (re-)registered; a failed signature verification leaves it as it
    /// was (trust is then `Failed`, the reason in `last_verification`).
    /// Format 4.
    pub signature: Option<Box<crate::signature::SignatureRecord>>,
}

/// Checks a model id.
pub(crate) fn check_id(id: &str) -> Result<()> {
    check_text("id", id, MAX_ID_LEN)?;
    if id.trim() != id {
        return Err(Error::invalid(
            "id",
            "leading or trailing white space is not allowed",
        ));
    }
    Ok(())
}

/// Checks an absolute, normalized path (of a model registered in place):
/// starts with `/`, no empty, `.` or `..` component, no backslash, not `/`
/// itself, bounded, no control characters.
pub(crate) fn check_absolute_path(field: &'static str, path: &str) -> Result<()> {
    check_text(field, path, MAX_PATH_LEN)?;
    let Some(rest) = path.strip_prefix('/') else {
        return Err(Error::invalid(
            field,
            "a model registered in place needs an absolute path",
        ));
    };
    if rest.is_empty() {
        return Err(Error::invalid(
            field,
            "the root directory `/` names no model",
        ));
    }
    check_relative_path(field, rest)
}

/// Checks a `/`-separated path that must stay under the root: relative, no
/// empty, `.` or `..` components, no backslashes.
pub(crate) fn check_relative_path(field: &'static str, path: &str) -> Result<()> {
    check_text(field, path, MAX_PATH_LEN)?;
    if path.starts_with('/') {
        return Err(Error::invalid(
            field,
            "absolute paths are not allowed; give a path relative to the root",
        ));
    }
    if path.contains('\\') {
        return Err(Error::invalid(field, "backslashes are not allowed"));
    }
    for part in path.split('/') {
        match part {
            "" => {
                return Err(Error::invalid(
                    field,
                    "empty path component (`//` or trailing `/`)",
                ));
            }
            "." | ".." => {
                return Err(Error::invalid(
                    field,
                    format!("`{part}` components are not allowed"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_must_stay_under_the_root() {
        for ok in ["a", "blobs/sha256/ab", "a.b/c-d_e"] {
            assert!(check_relative_path("p", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a\0b",
        ] {
            let err = check_relative_path("p", bad).expect_err(bad);
            assert!(
                matches!(err, Error::InvalidInput { field: "p", .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_are_bounded_and_trimmed() {
        assert!(check_id("llama-3:Q4_K_M").is_ok());
        assert!(check_id(&"x".repeat(MAX_ID_LEN)).is_ok());
        for bad in [
            String::new(),
            " x".into(),
            "x\n".into(),
            "x".repeat(MAX_ID_LEN + 1),
        ] {
            assert!(
                matches!(check_id(&bad), Err(Error::InvalidInput { field: "id", .. })),
                "{bad:?}"
            );
        }
    }
}
