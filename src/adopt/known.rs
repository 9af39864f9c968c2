//! Files the catalog already verified against their publisher's digest,
//! by the fingerprint its last verification recorded (inode, size, change
//! time): adopting such a file again — the snapshot `main` left, now
//! registered under its commit's own id, or any entry updated — does not
//! read it again. Its digests are the ones that verification found.
//!
//! Only a passed verification of an entry that is `verified` counts, and
//! only a file whose publisher's digest is still the one that entry
//! records. A file written since (its change time moved), or replaced (its
//! inode), is read again; a shared mapping can change a file's bytes
//! without moving its change time, the limit `verify --fast` avoids by
//! trusting only files nobody can write (docs/FORMAT.md §11.6).

use super::plan::CandidateFile;
use crate::catalog::Catalog;
use crate::digest::Digest;
use crate::entry::{ModelEntry, TrustState, VerifyResult};
use crate::fs::Meta;
use crate::hashing::{FileDigest, Hashed};
use crate::store::Object;
use std::collections::HashMap;

/// (inode, size, change time) of a file verified.
type Key = (u64, u64, u64);

/// What the catalog verified, by file fingerprint.
#[derive(Default)]
pub(super) struct Known {
    by_fingerprint: HashMap<Key, Hashed>,
}

impl Known {
    /// Every file of every verified directory model, by the fingerprint its
    /// last (passed) verification recorded.
    pub(super) fn of(catalog: &Catalog) -> Known {
        let mut known = Known::default();
        for e in catalog.list_shared() {
            known.add(&e);
        }
        known
    }

    fn add(&mut self, e: &ModelEntry) {
        let Some(v) = e.last_verification.as_deref() else {
            return;
        };
        if e.trust != TrustState::Verified || v.result != VerifyResult::Pass {
            return;
        }
        for fp in &v.files {
            let file = e.files.iter().find(|f| {
                if e.external {
                    f.path == fp.path
                } else {
                    Object::Blob(f.digest).rel() == fp.path
                }
            });
            if let Some(f) = file.filter(|f| f.size_bytes == fp.len) {
                self.by_fingerprint.insert(
                    (fp.inode, fp.len, fp.changed_ns),
                    Hashed {
                        file: FileDigest {
                            digest: f.digest,
                            bytes: f.size_bytes,
                        },
                        git: f.publisher_digest.filter(|p| !p.is_sha256()),
                    },
                );
            }
        }
    }

    /// Whether nothing was verified.
    pub(super) fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }

    /// What `f` hashed to when it was verified, if it is a file verified
    /// with the fingerprint it has now (`meta`) and its publisher's digest
    /// is still the one found then.
    pub(super) fn get(&self, f: &CandidateFile, meta: &Meta) -> Option<Hashed> {
        let hashed = *self
            .by_fingerprint
            .get(&(meta.inode, meta.len, meta.changed_ns))?;
        let same = |p: Digest| {
            if p.is_sha256() {
                hashed.file.digest == p
            } else {
                hashed.git == Some(p)
            }
        };
        (f.publisher.is_some_and(same) && f.size == meta.len).then_some(hashed)
    }
}
