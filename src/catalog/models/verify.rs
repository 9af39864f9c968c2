//! `verify`: hash a model's stored files, compare, record the outcome.

use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::DigestSource;
use crate::entry::{FileFingerprint, ModelEntry, Verification, VerifyResult};
use crate::error::{Error, Result};
use crate::fs::ForeignPath;
use crate::hashing::{DigestCheck, FileRead, hash_both, verify_digest};
use crate::metrics::VerifyReason;
use crate::store::Object;
use crate::store::confine::confined;
use crate::store::manifest::manifest_digest;
use std::path::PathBuf;
use std::time::Instant;

/// How to verify.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The digest the model must have (given now, so taken as its
    /// publisher's); default: the one it was registered with (a
    /// directory's files are always checked against their manifest, and
    /// against the digests their publisher named them by).
    ///
    /// What `Verified` proves: the bytes match a digest their publisher
    /// gave — this one, or a registered digest whose source is the
    /// publisher ([`DigestSource::Publisher`]). If the registered digest
    /// was computed when the model was imported (or its source was not
    /// recorded, before format 3), a match is recorded as a warning: it
    /// proves only that the bytes did not change since.
    pub expected: Option<Digest>,
    /// Skip hashing if every file still has the size, modification time and
    /// inode recorded by the last passing verification. Off by default: a
    /// full re-hash is the only proof.
    pub fast_path: bool,
    /// Hashing threads for multi-file models (0 = all cores).
    pub threads: usize,
    /// Correlation id and actor stored with the record.
    pub context: OpContext,
}

impl VerifyOptions {
    /// Requires this digest.
    pub fn expected(mut self, digest: Digest) -> Self {
        self.expected = Some(digest);
        self
    }
    /// Allows the fast path: a file nobody can write whose (inode, size, ctime)
    /// are those of its last passing verification is not hashed again.
    pub fn fast_path(mut self, allow: bool) -> Self {
        self.fast_path = allow;
        self
    }
    /// Stores `ctx` with the record.
    pub fn context(mut self, ctx: OpContext) -> Self {
        self.context = ctx;
        self
    }
}

/// What a verification found (also recorded in the journal).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The entry after the outcome was recorded.
    pub entry: ModelEntry,
    /// The recorded outcome.
    pub outcome: Verification,
    /// The fast path was taken (nothing was hashed).
    pub fast_path_used: bool,
}

/// One file to check: where it is and what it should hash to.
pub(super) struct Target {
    pub(super) rel: String,
    pub(super) path: PathBuf,
    pub(super) expected: Option<Digest>,
    /// The digest its publisher named it by, if that is not `expected`.
    publisher: Option<Digest>,
    pub(super) size: u64,
    /// The directory a file registered in place must be reached in
    /// (without a symlink leading out of it): the model's directory (a
    /// Hugging Face snapshot's repository), a one-file model's directory.
    /// `None` for the store's own files.
    pub(super) tree: Option<PathBuf>,
}

impl Target {
    /// How to open it (by handle, FORMAT.md §11.7).
    pub(super) fn at(&self) -> ForeignPath<'_> {
        match &self.tree {
            Some(tree) => match self.path.strip_prefix(tree) {
                Ok(rel) if !rel.as_os_str().is_empty() => ForeignPath::inside(tree, rel),
                _ => ForeignPath::named(&self.path),
            },
            None => ForeignPath::named(&self.path),
        }
    }
}

/// What verifying one model takes.
pub(super) enum Prepared {
    /// Its files are unchanged since a verification whose outcome holds.
    Unchanged(Verification),
    /// These files must be hashed.
    Hash(Vec<Target>),
}

/// Why a pass against a digest that is not the publisher's is a warning.
fn not_the_publishers(source: Option<DigestSource>) -> &'static str {
    match source {
        Some(DigestSource::Import) => {
            "bytes unchanged since import: they match the digest computed when the model was \
             imported, not one its publisher gave (verify --expect, or import with --digest, \
             to check against the publisher's)"
        }
        _ => {
            "bytes match the registered digest, but where it came from was not recorded \
             (registered before format 3); verify --expect checks against the publisher's"
        }
    }
}

/// The outcome for a one-file model whose bytes hash to `actual`: `Pass`
/// only against a digest its publisher gave (`--expect`, or a registered
/// digest whose source is the publisher).
fn single_check(entry: &ModelEntry, actual: Digest, expected: Option<Digest>) -> DigestCheck {
    // An expectation given now is the caller's: the publisher's digest.
    if let Some(e) = expected {
        return verify_digest(&actual, Some(&e));
    }
    match verify_digest(&actual, entry.digest.as_ref()) {
        DigestCheck::Pass if entry.digest_source.is_some_and(DigestSource::is_vouched) => {
            DigestCheck::Pass
        }
        DigestCheck::Pass => DigestCheck::Warn {
            reason: not_the_publishers(entry.digest_source).into(),
        },
        other => other,
    }
}

/// The outcome for a multi-file model whose files all match their
/// recorded digests, and the reason to record.
fn manifest_check(
    entry: &ModelEntry,
    manifest: Digest,
    expected: Option<Digest>,
) -> (DigestCheck, String) {
    let n = entry.files.len();
    match expected {
        Some(exp) => match verify_digest(&manifest, Some(&exp)) {
            DigestCheck::Pass => (
                DigestCheck::Pass,
                format!("all {n} files match the manifest digest expected"),
            ),
            other => {
                let reason = other.reason().to_string();
                (other, reason)
            }
        },
        None if entry.digest_source == Some(DigestSource::Publisher) => (
            DigestCheck::Pass,
            format!("all {n} files match their publisher's digests"),
        ),
        None if entry.digest_source == Some(DigestSource::Signature) => (
            DigestCheck::Pass,
            format!("all {n} files match the digests their signer signed"),
        ),
        None => {
            let reason = format!(
                "all {n} files match the manifest; {}",
                not_the_publishers(entry.digest_source)
            );
            (
                DigestCheck::Warn {
                    reason: reason.clone(),
                },
                reason,
            )
        }
    }
}

impl Catalog {
    /// Hashes the stored files of `id`, compares them with what is expected,
    /// records the outcome (result, reason, digest, bytes, duration) as a
    /// journal record, and returns it. A mismatch or an unreadable file is
    /// recorded as a failed verification (trust `Failed`), not an error.
    ///
    /// To verify several models, [`Catalog::plan_verify`] hashes a file
    /// that several of them share once.
    pub fn verify(
        &self,
        id: &str,
        opts: VerifyOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<VerifyReport> {
        let plan = self.plan_verify(&[id], opts)?;
        let (_, report) = plan
            .run(&mut |_| {}, progress)
            .pop()
            .expect("a plan of one model reports one model");
        report
    }

    /// What to check for `entry`, or the outcome of the fast path if it
    /// applies (recorded by the caller).
    pub(super) fn prepare_verify(
        &self,
        entry: &ModelEntry,
        opts: &VerifyOptions,
    ) -> Result<Prepared> {
        let targets = self.targets(entry, opts)?;
        if opts.fast_path
            && let Some(outcome) = self.fast_path(entry, &targets, opts.expected)?
        {
            return Ok(Prepared::Unchanged(outcome));
        }
        Ok(Prepared::Hash(targets))
    }

    /// Records the outcome of the fast path for `entry`.
    pub(super) fn record_unchanged(
        &self,
        entry: &ModelEntry,
        outcome: Verification,
        opts: &VerifyOptions,
    ) -> Result<VerifyReport> {
        let entry = self.record_verification_with(
            &entry.id,
            outcome.clone(),
            &opts.context,
            VerifyReason::Unchanged,
            Some(entry),
        )?;
        Ok(VerifyReport {
            entry,
            outcome,
            fast_path_used: true,
        })
    }

    /// Compares what each target hashed to (`results`, in the order of
    /// `targets`) with what is expected and records the outcome.
    pub(super) fn conclude_verify(
        &self,
        entry: &ModelEntry,
        targets: &[Target],
        results: Vec<std::result::Result<FileRead, String>>,
        opts: &VerifyOptions,
        started: Instant,
    ) -> Result<VerifyReport> {
        let id = entry.id.as_str();
        let mut bytes = 0;
        let mut failure: Option<(String, VerifyReason)> = None;
        let mut digests = Vec::with_capacity(targets.len());
        let mut fingerprints = Vec::with_capacity(targets.len());
        for (t, r) in targets.iter().zip(results) {
            match r {
                Ok(read) => {
                    // Each file as it was when its bytes were read: a file
                    // that changes afterwards no longer matches it.
                    fingerprints.push(FileFingerprint::of(
                        self.fingerprint_name(entry, t),
                        &read.read_as,
                    ));
                    let d = read.digest;
                    bytes += d.bytes;
                    if let (Some(exp), true) = (t.expected, !entry.files.is_empty())
                        && exp != d.digest
                        && failure.is_none()
                    {
                        failure = Some((
                            format!(
                                "digest mismatch in {}: expected {exp}, got {}",
                                t.rel, d.digest
                            ),
                            VerifyReason::Mismatch,
                        ));
                    }
                    if failure.is_none()
                        && let Some(problem) = self.publisher_mismatch(t, d.digest)
                    {
                        failure = Some(problem);
                    }
                    digests.push(d.digest);
                }
                Err(e) => {
                    failure.get_or_insert_with(|| {
                        (
                            format!("cannot read {}: {e}", t.rel),
                            VerifyReason::Unreadable,
                        )
                    });
                }
            }
        }
        let failed_for = failure.as_ref().map(|(_, r)| *r);
        let mut reason_override = None;
        let (check, actual) = match failure {
            Some((reason, _)) => (DigestCheck::Fail { reason }, None),
            None if entry.files.is_empty() => match digests.first().copied() {
                Some(a) => (single_check(entry, a, opts.expected), Some(a)),
                None => (
                    DigestCheck::Fail {
                        reason: "no file to hash".into(),
                    },
                    None,
                ),
            },
            None => {
                let manifest = manifest_digest(&entry.files);
                let (check, reason) = manifest_check(entry, manifest, opts.expected);
                reason_override = Some(reason);
                (check, Some(manifest))
            }
        };
        let outcome = Verification {
            result: check.result(),
            reason: reason_override.unwrap_or_else(|| check.reason().to_string()),
            actual,
            bytes,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files: fingerprints,
        };
        let reason = failed_for.unwrap_or_else(|| VerifyReason::from_result(outcome.result));
        let entry =
            self.record_verification_with(id, outcome.clone(), &opts.context, reason, Some(entry))?;
        tracing::info!(
            model_id = id,
            model_ref = %crate::model_ref::ModelRef::redact_stored(&entry.model_ref),
            digest = ?outcome.actual,
            bytes = outcome.bytes,
            duration_ms = outcome.duration_ms,
            result = ?outcome.result,
            reason = %outcome.reason,
            correlation_id = opts.context.correlation_id.as_deref(),
            "model verified"
        );
        Ok(VerifyReport {
            entry,
            outcome,
            fast_path_used: false,
        })
    }

    /// The files of an entry: in the store, each confined to the root; of
    /// an entry registered in place, where they are (read only).
    pub(super) fn targets(&self, entry: &ModelEntry, opts: &VerifyOptions) -> Result<Vec<Target>> {
        let store = &self.inner.store;
        if entry.external {
            let base = PathBuf::from(&entry.local_path);
            if entry.files.is_empty() {
                return Ok(vec![Target {
                    rel: entry.local_path.clone(),
                    tree: base.parent().map(std::path::Path::to_path_buf),
                    path: base,
                    expected: opts.expected.or(entry.digest),
                    publisher: None,
                    size: entry.size_bytes,
                }]);
            }
            return Ok(entry
                .files
                .iter()
                .map(|f| Target {
                    rel: f.path.clone(),
                    path: base.join(&f.path),
                    expected: Some(f.digest),
                    publisher: f.publisher_digest,
                    size: f.size_bytes,
                    tree: Some(crate::fetch::link_tree(&base).to_path_buf()),
                })
                .collect());
        }
        if entry.files.is_empty() {
            let path = confined(store, &entry.local_path)?;
            return Ok(vec![Target {
                rel: entry.local_path.clone(),
                path,
                expected: opts.expected.or(entry.digest),
                publisher: None,
                size: entry.size_bytes,
                tree: None,
            }]);
        }
        entry
            .files
            .iter()
            .map(|f| {
                let rel = Object::Blob(f.digest).rel();
                Ok(Target {
                    path: confined(store, &rel)?,
                    rel: f.path.clone(),
                    expected: Some(f.digest),
                    publisher: f.publisher_digest,
                    size: f.size_bytes,
                    tree: None,
                })
            })
            .collect()
    }

    /// Whether a file's bytes differ from the digest its publisher named it
    /// by (a git blob id is computed with a second read: such files are the
    /// small ones of a repository).
    fn publisher_mismatch(&self, t: &Target, sha256: Digest) -> Option<(String, VerifyReason)> {
        let publisher = t.publisher?;
        let got = if publisher.is_sha256() {
            Ok(Some(sha256))
        } else {
            self.inner
                .opts
                .fs
                .open_foreign(t.at())
                .and_then(|f| hash_both(&mut f.reader(), Some(t.size), None, &mut |_| {}))
                .map(|h| h.git)
        };
        match got {
            Ok(Some(d)) if d == publisher => None,
            Ok(got) => Some((
                format!(
                    "digest mismatch in {}: its publisher's digest is {publisher}, the bytes {}",
                    t.rel,
                    got.map_or_else(
                        || "are not its length".to_string(),
                        |d| format!("hash to {d}")
                    )
                ),
                VerifyReason::Mismatch,
            )),
            Err(e) => Some((
                format!("cannot read {}: {e}", t.rel),
                VerifyReason::Unreadable,
            )),
        }
    }

    /// The outcome of the fast path, if it applies: the last verification
    /// passed and every file is one nobody can write, unchanged (inode,
    /// size, ctime).
    fn fast_path(
        &self,
        entry: &ModelEntry,
        targets: &[Target],
        expected: Option<Digest>,
    ) -> Result<Option<Verification>> {
        // Only an outcome the same check would give again can be reused: a
        // pass against the same expectation (and a publisher's digest), or
        // a warning about bytes that matched a digest that is not one.
        let reusable = |v: &Verification| match v.result {
            VerifyResult::Pass => {
                expected.is_some_and(|e| v.actual == Some(e))
                    || (expected.is_none()
                        && entry.digest_source.is_some_and(DigestSource::is_vouched))
            }
            VerifyResult::Warn => expected.is_none() && v.actual.is_some(),
            VerifyResult::Fail => false,
        };
        let Some(last) = entry.last_verification.as_ref().filter(|v| reusable(v)) else {
            return Ok(None);
        };
        let Some(now) = self.sealed_fingerprints(entry, targets)? else {
            return Ok(None);
        };
        if now.is_empty() || now != last.files {
            return Ok(None);
        }
        Ok(Some(Verification {
            result: last.result,
            reason: format!(
                "unchanged since the verification at {} ms (inode, size and ctime match; not re-hashed)",
                entry.last_verified_at_ms.unwrap_or(0)
            ),
            actual: last.actual,
            bytes: 0,
            duration_ms: 0,
            files: now,
        }))
    }

    /// What each file looks like now, if every one is the catalog's own
    /// and nobody can write it (`Meta::is_sealed_for`: the store's copies);
    /// `None` otherwise, or if one is missing. Only such files may skip the
    /// hashing: whoever can write a file can change its bytes without
    /// moving its ctime (a write through a shared mapping to pages already
    /// dirty), so a file registered in place or linked from a store that
    /// can still write it is always hashed again.
    fn sealed_fingerprints(
        &self,
        entry: &ModelEntry,
        targets: &[Target],
    ) -> Result<Option<Vec<FileFingerprint>>> {
        let fs = &self.inner.store.fs;
        let me = fs.effective_uid();
        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            match fs
                .metadata(&t.path, entry.external)
                .map_err(|e| Error::io(&t.path, e))?
            {
                Some(m) if m.is_sealed_for(me) => {
                    out.push(FileFingerprint::of(self.fingerprint_name(entry, t), &m));
                }
                _ => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// The name a file's fingerprint is recorded under: its path in the
    /// model for an entry registered in place (the file name of a one-file
    /// model), else its path relative to the root.
    fn fingerprint_name(&self, entry: &ModelEntry, t: &Target) -> String {
        if entry.external {
            match (entry.files.is_empty(), t.path.file_name()) {
                (true, Some(name)) => name.to_string_lossy().into_owned(),
                _ => t.rel.clone(),
            }
        } else {
            t.path
                .strip_prefix(self.inner.store.root())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| t.rel.clone())
        }
    }
}
