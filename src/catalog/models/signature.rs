//! `verify_signature`: an OpenSSF Model Signing signature checked against
//! a model's recorded per-file digests (and those against the bytes, with
//! the fast path when the files are unchanged), the bundle kept in the
//! store by digest, and who signed recorded (`Op::VerifySignature`).

use super::verify::{VerifyOptions, VerifyReport};
use crate::catalog::Catalog;
use crate::catalog::engine::commit::{Outcome, Plan};
use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::{MAX_REASON_LEN, ModelEntry, Verification, VerifyResult};
use crate::error::{Error, Result};
use crate::journal::op::Op;
use crate::signature::{
    Failure, MAX_BUNDLE_LEN, SignaturePolicy, SignatureRecord, Statement, check, compare,
    compare_resources, is_plain, uncovered,
};
use crate::store::Object;
use std::time::Instant;

/// What a signature verification found (also recorded in the journal).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureReport {
    /// The entry after the outcome was recorded.
    pub entry: ModelEntry,
    /// The recorded outcome: `Pass` only if the signature verified, its
    /// statement lists exactly the model's files with their recorded
    /// digests, and the bytes match them.
    pub outcome: Verification,
    /// Who signed, and the bundle's digest (kept in the store).
    pub signature: SignatureRecord,
    /// Why it failed, typed (`None` on a pass).
    pub failure: Option<Failure>,
    /// The bytes were not hashed: every file was unchanged since a
    /// verification whose outcome holds.
    pub fast_path_used: bool,
}

/// The model's files as the comparison sees them: a multi-file model's
/// manifest; a one-file model under the name its one resource gives it.
fn model_files(entry: &ModelEntry, statement: &Statement) -> Vec<(String, Digest)> {
    if !entry.files.is_empty() {
        return entry
            .files
            .iter()
            .map(|f| (f.path.clone(), f.digest))
            .collect();
    }
    let name = match statement.resources.as_slice() {
        [one] => one.name.clone(),
        _ => entry
            .local_path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string(),
    };
    entry.digest.map(|d| vec![(name, d)]).unwrap_or_default()
}

/// A pass, said as it is: how many files match the signed digests, and
/// which files the statement or the policy left out (not signed).
fn pass_reason(signature: &SignatureRecord, n: usize, left_out: &[String]) -> String {
    let who = signature.signer.describe();
    if left_out.is_empty() {
        return format!("signed by {who}: all {n} files match the signed digests");
    }
    format!(
        "signed by {who}: {} of {n} files match the signed digests; not signed, left out as \
         the signature or the policy says: {}",
        n - left_out.len(),
        left_out.join(", ")
    )
}

fn bounded(mut reason: String) -> String {
    if reason.len() > MAX_REASON_LEN {
        let mut cut = MAX_REASON_LEN - 3;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push_str("...");
    }
    reason.chars().filter(|c| !c.is_control()).collect()
}

impl Catalog {
    /// Verifies the OpenSSF Model Signing signature `bundle` (the bytes of
    /// a `model.sig`) of the model `id` against `policy`, and records the
    /// outcome. See [`Catalog::verify_signature_ctx`].
    pub fn verify_signature(
        &self,
        id: &str,
        bundle: &[u8],
        policy: &SignaturePolicy,
    ) -> Result<SignatureReport> {
        self.verify_signature_ctx(id, bundle, policy, &OpContext::default())
    }

    /// Verifies a signature and records it: the ECDSA signature over the
    /// payload as given, the statement's root, its resources against the
    /// model's recorded per-file digests (missing, extra and changed files
    /// named), and the bytes against those digests (not re-hashed when the
    /// files are unchanged since a verification that holds). A pass leaves
    /// the entry `Verified`, its digests' source the signature; a failure
    /// leaves it `Failed` with the reason (not an error). The bundle is
    /// kept in the store under its SHA-256 before the record is written.
    ///
    /// Errors: the model does not exist, the bundle is over
    /// [`MAX_BUNDLE_LEN`], the handle is read-only, or an I/O failure.
    pub fn verify_signature_ctx(
        &self,
        id: &str,
        bundle: &[u8],
        policy: &SignaturePolicy,
        ctx: &OpContext,
    ) -> Result<SignatureReport> {
        let started = Instant::now();
        self.writer()?;
        ctx.validate()?;
        let entry = self.get(id)?;
        if bundle.len() > MAX_BUNDLE_LEN {
            return Err(Error::invalid(
                "signature",
                format!("{} bytes, at most {MAX_BUNDLE_LEN}", bundle.len()),
            ));
        }
        let checked = check(bundle, policy);
        let root = checked.statement.as_ref().ok().map(|s| s.root);
        let bundle_digest = Digest::of_bytes(bundle);
        let mut failure = self.judge(&entry, &checked.statement, policy, bundle_digest)?;
        let bytes = match failure {
            None => Some(self.verify_bytes(id, ctx)?),
            Some(_) => None,
        };
        if let Some(r) = bytes
            .as_ref()
            .filter(|r| r.outcome.result == VerifyResult::Fail)
        {
            failure = Some(Failure::Bytes(r.outcome.reason.clone()));
        }
        let signature = SignatureRecord {
            signer: checked.signer,
            bundle: bundle_digest,
            root,
        };
        signature.validate()?;
        self.keep_bundle(signature.bundle, bundle)?;
        // The signature itself, kept in the model, is not one of the files it signs.
        let n = entry
            .files
            .iter()
            .filter(|f| f.digest != bundle_digest)
            .count()
            .max(1);
        let left_out = match &checked.statement {
            Ok(st) => {
                uncovered(
                    st,
                    &model_files(&entry, st),
                    bundle_digest,
                    &policy.ignore_paths,
                )
                .1
            }
            Err(_) => Vec::new(),
        };
        let outcome = Verification {
            result: if failure.is_some() {
                VerifyResult::Fail
            } else {
                VerifyResult::Pass
            },
            reason: bounded(failure.as_ref().map_or_else(
                || pass_reason(&signature, n, &left_out),
                ToString::to_string,
            )),
            actual: bytes.as_ref().and_then(|r| r.outcome.actual),
            bytes: bytes.as_ref().map_or(0, |r| r.outcome.bytes),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files: bytes
                .as_ref()
                .map_or_else(Vec::new, |r| r.outcome.files.clone()),
        };
        let entry = self.record_signature(&entry, outcome.clone(), signature.clone(), ctx)?;
        Ok(SignatureReport {
            entry,
            outcome,
            signature,
            failure,
            fast_path_used: bytes.is_some_and(|r| r.fast_path_used),
        })
    }

    /// What is wrong with a checked statement for `entry`, if anything:
    /// its resources (see `judge_resources`), then any file of the model
    /// no resource covers and nobody chose to leave out ([`uncovered`]).
    fn judge(
        &self,
        entry: &ModelEntry,
        statement: &std::result::Result<Statement, Failure>,
        policy: &SignaturePolicy,
        bundle: Digest,
    ) -> Result<Option<Failure>> {
        let failure = self.judge_resources(entry, statement, policy)?;
        let Ok(s) = statement else {
            return Ok(failure);
        };
        let (unsigned, _) = uncovered(s, &model_files(entry, s), bundle, &policy.ignore_paths);
        Ok(failure.or_else(|| {
            (!unsigned.is_empty()).then_some(Failure::Files {
                missing: vec![],
                extra: unsigned,
                changed: vec![],
            })
        }))
    }

    /// The statement's resources against the recorded digests (files +
    /// SHA-256), or against the bytes hashed as it says (shards, BLAKE).
    fn judge_resources(
        &self,
        entry: &ModelEntry,
        statement: &std::result::Result<Statement, Failure>,
        policy: &SignaturePolicy,
    ) -> Result<Option<Failure>> {
        Ok(match statement {
            Ok(s) if is_plain(s) => compare(s, &model_files(entry, s), &policy.ignore_paths).err(),
            Ok(s) if !matches!(s.hash_type.as_str(), "sha256" | "blake2b" | "blake3") => {
                Some(Failure::Unsupported(format!(
                    "hash type `{}`",
                    s.hash_type.chars().take(32).collect::<String>()
                )))
            }
            Ok(s) => match self.rehash_resources(entry, s, &policy.ignore_paths)? {
                Ok(ours) => compare_resources(s, &ours, &policy.ignore_paths).err(),
                Err(why) => Some(Failure::Bytes(why)),
            },
            Err(f) => Some(f.clone()),
        })
    }

    /// The model's bytes against its recorded digests: hashed, unless
    /// every file is unchanged since a verification whose outcome holds.
    fn verify_bytes(&self, id: &str, ctx: &OpContext) -> Result<VerifyReport> {
        let opts = VerifyOptions::default()
            .fast_path(true)
            .context(ctx.clone());
        self.verify(id, opts, &|_| {})
    }

    /// Keeps the bundle in the store as `blobs/sha256/<hex>` (read-only,
    /// durable before the record that names it), unless it is there.
    fn keep_bundle(&self, digest: Digest, bytes: &[u8]) -> Result<()> {
        let store = &self.inner.store;
        let rel = Object::Blob(digest).rel();
        let path = store.path(Object::Blob(digest));
        if let Some(m) = store
            .fs
            .metadata_beneath(store.root(), &rel)
            .map_err(|e| store.error(&rel, e))?
        {
            if m.kind == crate::fs::FileKind::File && m.len == bytes.len() as u64 {
                return Ok(());
            }
            return Err(store.error(
                &rel,
                std::io::Error::other("a store object of another size holds the bundle's name"),
            ));
        }
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Error::io(
                &path,
                std::io::Error::other("no parent directory"),
            ));
        };
        crate::fs::publish_file(&*store.fs, dir, &name.to_string_lossy(), bytes)?;
        store
            .fs
            .set_readonly_beneath(store.root(), &rel, 0o444)
            .map_err(|e| store.error(&rel, e))
    }

    /// Writes the `VerifySignature` record, unless the entry was replaced
    /// since it was read (then the outcome says nothing about it).
    fn record_signature(
        &self,
        read: &ModelEntry,
        outcome: Verification,
        signature: SignatureRecord,
        ctx: &OpContext,
    ) -> Result<ModelEntry> {
        outcome.validate()?;
        let id = read.id.clone();
        let done = self.commit(&id, ctx, |current| match current {
            Some(now)
                if now.digest != read.digest
                    || now.local_path != read.local_path
                    || now.files != read.files =>
            {
                Err(Error::Changed { id: id.clone() })
            }
            Some(_) => Ok(Plan::Write(Op::VerifySignature {
                id: id.clone(),
                outcome,
                signature: Box::new(signature),
            })),
            None => Err(Error::NotFound { id: id.clone() }),
        })?;
        match done {
            Outcome::Entry(e) => Ok(std::sync::Arc::unwrap_or_clone(e)),
            Outcome::Removed(_) => Err(Error::NotFound { id }),
        }
    }
}
