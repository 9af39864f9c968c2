//! `verify`: hash a model's stored files, compare, record the outcome.

use crate::catalog::Catalog;
use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::{FileFingerprint, ModelEntry, Verification, VerifyResult};
use crate::error::{Error, Result};
use crate::hashing::{DigestCheck, FsOpener, hash_files_via, verify_digest};
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
    /// The digest the model must have; default: the one it was registered
    /// with (a directory's files are always checked against their manifest).
    ///
    /// Note what `Verified` then proves: that the bytes are the ones
    /// registered. If the import was given an expected digest, that is the
    /// publisher's digest; if not, it is the digest computed at import (and
    /// the import itself was recorded as warned), so a pass proves only that
    /// the bytes did not change since.
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
    /// Allows the (size, mtime, inode) fast path.
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
struct Target {
    rel: String,
    path: PathBuf,
    expected: Option<Digest>,
}

impl Catalog {
    /// Hashes the stored files of `id`, compares them with what is expected,
    /// records the outcome (result, reason, digest, bytes, duration) as a
    /// journal record, and returns it. A mismatch or an unreadable file is
    /// recorded as a failed verification (trust `Failed`), not an error.
    pub fn verify(
        &self,
        id: &str,
        opts: VerifyOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<VerifyReport> {
        self.writer()?;
        opts.context.validate()?;
        let entry = self.get(id)?;
        let started = Instant::now();
        let targets = self.targets(&entry, &opts)?;
        if opts.fast_path
            && let Some(outcome) = self.fast_path(&entry, &targets, opts.expected)?
        {
            let entry = self.record_verification_with(
                id,
                outcome.clone(),
                &opts.context,
                VerifyReason::Unchanged,
                Some(&entry),
            )?;
            return Ok(VerifyReport {
                entry,
                outcome,
                fast_path_used: true,
            });
        }
        let paths: Vec<PathBuf> = targets.iter().map(|t| t.path.clone()).collect();
        let fs = FsOpener(&*self.inner.opts.fs);
        let results = hash_files_via(&fs, &paths, opts.threads, progress);
        let mut bytes = 0;
        let mut failure: Option<(String, VerifyReason)> = None;
        let mut digests = Vec::with_capacity(targets.len());
        for (t, r) in targets.iter().zip(results) {
            match r {
                Ok(d) => {
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
        let (check, actual) = match failure {
            Some((reason, _)) => (DigestCheck::Fail { reason }, None),
            None if entry.files.is_empty() => {
                let actual = digests.first().copied();
                let expected = opts.expected.or(entry.digest);
                match actual {
                    Some(a) => (verify_digest(&a, expected.as_ref()), Some(a)),
                    None => (
                        DigestCheck::Fail {
                            reason: "no file to hash".into(),
                        },
                        None,
                    ),
                }
            }
            None => {
                let manifest = manifest_digest(&entry.files);
                match opts.expected {
                    Some(exp) => (verify_digest(&manifest, Some(&exp)), Some(manifest)),
                    None => (DigestCheck::Pass, Some(manifest)),
                }
            }
        };
        let outcome = Verification {
            result: check.result(),
            reason: match &check {
                DigestCheck::Pass if !entry.files.is_empty() => {
                    format!("all {} files match the manifest", entry.files.len())
                }
                other => other.reason().to_string(),
            },
            actual,
            bytes,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files: self.fingerprints(&targets)?,
        };
        let reason = failed_for.unwrap_or_else(|| VerifyReason::from_result(outcome.result));
        let entry = self.record_verification_with(
            id,
            outcome.clone(),
            &opts.context,
            reason,
            Some(&entry),
        )?;
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

    /// The files of an entry, each confined to the root.
    fn targets(&self, entry: &ModelEntry, opts: &VerifyOptions) -> Result<Vec<Target>> {
        let store = &self.inner.store;
        if entry.files.is_empty() {
            let path = confined(store, &entry.local_path)?;
            return Ok(vec![Target {
                rel: entry.local_path.clone(),
                path,
                expected: opts.expected.or(entry.digest),
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
                })
            })
            .collect()
    }

    /// The outcome of the fast path, if it applies: the last verification
    /// passed and every file is unchanged (size, mtime, inode).
    fn fast_path(
        &self,
        entry: &ModelEntry,
        targets: &[Target],
        expected: Option<Digest>,
    ) -> Result<Option<Verification>> {
        // Only a pass against the same expectation can be reused.
        let Some(last) = entry
            .last_verification
            .as_ref()
            .filter(|v| v.result == VerifyResult::Pass)
            .filter(|v| expected.is_none_or(|e| v.actual == Some(e)))
        else {
            return Ok(None);
        };
        let now = self.fingerprints(targets)?;
        if now.is_empty() || now.len() != targets.len() || now != last.files {
            return Ok(None);
        }
        Ok(Some(Verification {
            result: VerifyResult::Pass,
            reason: format!(
                "unchanged since the verification at {} ms (size, mtime and inode match; not re-hashed)",
                entry.last_verified_at_ms.unwrap_or(0)
            ),
            actual: last.actual,
            bytes: 0,
            duration_ms: 0,
            files: now,
        }))
    }

    fn fingerprints(&self, targets: &[Target]) -> Result<Vec<FileFingerprint>> {
        let fs = &self.inner.store.fs;
        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            let Some(m) = fs
                .metadata(&t.path, false)
                .map_err(|e| Error::io(&t.path, e))?
            else {
                continue; // missing: no fingerprint (the outcome already failed)
            };
            let rel = t
                .path
                .strip_prefix(self.inner.store.root())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| t.rel.clone());
            out.push(FileFingerprint {
                path: rel,
                len: m.len,
                modified_ns: m.modified_ns,
                inode: m.inode,
            });
        }
        Ok(out)
    }
}
