//! Optional signatures (docs/FLEET.md, "Signatures"): each node signs
//! what it publishes with an Ed25519 key kept in its catalog root, so that
//! a reader holding the node's public key can tell a message the node's
//! exporter wrote from one the server (or its operator) made up or edited.
//!
//! What is signed, for every event message and every fleet-state value
//! (`m.<node>.<id>`), is exactly these bytes:
//!
//! ```text
//! catalog-fleet-sig/1 LF <subject> LF <Nats-Msg-Id, or nothing> LF <body>
//! ```
//!
//! (a subject and a header value never hold a line feed, and the body is
//! last, so no two messages share these bytes). The signature travels in
//! the header `Catalog-Sig: ed25519:<128 hex digits>`. The node's public
//! key is in its claim `n.<node>` (`sign_key`, with the keys it used
//! before in `old_sign_keys`), or given to the reader out of band
//! ([`Keys::pinned`]).
//!
//! The key file `<root>/catalog/fleet-signing.key` (mode 0600, created on
//! first use) holds one line of magic and version and one line of 64 hex
//! digits: the Ed25519 secret seed.

use super::origin::DropReason;
use crate::error::{Error, Result};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use super::wire::SIG_HEADER;

/// What the signed bytes start with (the format's version).
const DOMAIN: &[u8] = b"catalog-fleet-sig/1\n";

/// The key file's first line, then its format version.
const KEY_MAGIC: &str = "catalog-core fleet signing key, version ";
const KEY_VERSION: u32 = 1;

/// The key file's name, in the catalog's metadata directory.
pub const KEY_FILE: &str = "fleet-signing.key";

/// A node's signing key, loaded (or created) from its catalog root.
#[derive(Clone)]
pub struct NodeKey {
    key: SigningKey,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey")
            .field("public", &self.public_hex())
            .finish()
    }
}

/// The key file of the catalog at `root`.
pub fn key_path(root: &Path) -> PathBuf {
    crate::layout::Layout::new(root).meta_dir().join(KEY_FILE)
}

impl NodeKey {
    /// The key of the catalog at `root`, created (0600, from the system's
    /// randomness) if it has none yet. Refused if others can read it.
    pub fn load_or_create(root: &Path) -> Result<NodeKey> {
        let path = key_path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::load(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(&path),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn load(path: &Path, text: &str) -> Result<NodeKey> {
        let bad = |problem: String| Error::FleetKey {
            path: path.to_path_buf(),
            problem,
        };
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "others can read or write it (mode {:o}): `chmod 600` it, or remove it and \
                 export again to make a new key (readers then need the new public key)",
                mode & 0o777
            )));
        }
        let mut lines = text.lines();
        let version = lines
            .next()
            .and_then(|l| l.strip_prefix(KEY_MAGIC))
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| bad("not a fleet signing key (first line)".into()))?;
        if version != KEY_VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads version {KEY_VERSION}: use a newer \
                 catalog"
            )));
        }
        let seed = lines
            .next()
            .and_then(|l| parse_hex::<32>(l.trim()))
            .ok_or_else(|| bad("the second line is not 64 hex digits".into()))?;
        Ok(NodeKey::from_seed(seed))
    }

    /// Makes a key and publishes it whole: written to a temporary file
    /// (0600) and synced, then linked under its name (which fails if
    /// another exporter made one meanwhile: that one is used), so a crash
    /// never leaves half a key file.
    fn create(path: &Path) -> Result<NodeKey> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut seed = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
            .map_err(|e| Error::io("/dev/urandom", e))?;
        let text = format!("{KEY_MAGIC}{KEY_VERSION}\n{}\n", crate::digest::hex(&seed));
        let temp = path.with_extension(format!("key.{}.tmp", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.sync_all()
            });
        let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                return Self::load(path, &text);
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io(dir, e))?;
        }
        tracing::info!(file = %path.display(), "created the node's fleet signing key");
        Ok(NodeKey::from_seed(seed))
    }

    /// The key whose secret seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> NodeKey {
        NodeKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key, `ed25519:<64 hex digits>` (what the claim holds).
    pub fn public_hex(&self) -> String {
        format!(
            "ed25519:{}",
            crate::digest::hex(self.key.verifying_key().as_bytes())
        )
    }

    /// The `Catalog-Sig` value for a message on `subject` with message id
    /// `msg_id` (empty: none) and `body`.
    pub fn sign(&self, subject: &str, msg_id: &str, body: &[u8]) -> String {
        let mut bytes = Vec::new();
        signed_bytes(&mut bytes, subject, msg_id, body);
        let sig = self.key.sign(&bytes);
        format!("ed25519:{}", crate::digest::hex(&sig.to_bytes()))
    }
}

/// The bytes signed for a message (module docs), into `out`.
fn signed_bytes(out: &mut Vec<u8>, subject: &str, msg_id: &str, body: &[u8]) {
    out.clear();
    out.reserve(DOMAIN.len() + subject.len() + msg_id.len() + body.len() + 2);
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(subject.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(msg_id.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body);
}

fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A public key as written (`ed25519:<64 hex digits>`).
pub fn parse_public(s: &str) -> Option<VerifyingKey> {
    let bytes = parse_hex::<32>(s.strip_prefix("ed25519:")?)?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The keys a reader checks signatures with: each node's, from its claim
/// (what the server holds), or pinned (given out of band: then a claim's
/// keys are not used at all).
#[derive(Clone, Debug, Default)]
pub struct Keys {
    pinned: Option<HashMap<String, Vec<VerifyingKey>>>,
}

impl Keys {
    /// Each node's keys from its claim in the fleet bucket: proves a row
    /// was signed by the key the node's claim names (which whoever can
    /// write the claim chooses: see docs/FLEET.md, "Signatures").
    pub fn from_claims() -> Keys {
        Keys { pinned: None }
    }

    /// Keys given out of band, one `<node> ed25519:<hex>` per line (`#`
    /// starts a comment; a node may have several lines: its keys old and
    /// new). Only these count; a claim's keys are ignored.
    ///
    /// ```
    /// # fn main() -> catalog_core::Result<()> {
    /// use catalog_core::fleet::{Keys, NodeKey};
    /// // What `catalog export --sign` prints on node n1.
    /// let public = NodeKey::from_seed([7; 32]).public_hex();
    /// let keys = Keys::pinned(&format!("# the fleet's keys\nn1 {public}\n"))?;
    /// assert!(keys.is_pinned());
    /// assert!(Keys::pinned("n1 ed25519:not-a-key").is_err());
    /// # Ok(()) }
    /// ```
    pub fn pinned(text: &str) -> Result<Keys> {
        let mut pinned: HashMap<String, Vec<VerifyingKey>> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(node), Some(key), None) = (words.next(), words.next(), words.next()) else {
                return Err(Error::invalid(
                    "keys",
                    format!("line {}: expected `<node> ed25519:<64 hex digits>`", n + 1),
                ));
            };
            let key = parse_public(key).ok_or_else(|| {
                Error::invalid(
                    "keys",
                    format!("line {}: not an Ed25519 public key: {key}", n + 1),
                )
            })?;
            pinned.entry(node.to_string()).or_default().push(key);
        }
        Ok(Keys {
            pinned: Some(pinned),
        })
    }

    /// Whether the keys are pinned (given out of band).
    pub fn is_pinned(&self) -> bool {
        self.pinned.is_some()
    }

    /// The keys `node`'s messages are checked with: the pinned ones, or
    /// those its claim names (`claimed`, as written there).
    pub(crate) fn for_node(&self, node: &str, claimed: &[String]) -> Vec<VerifyingKey> {
        match &self.pinned {
            Some(p) => p.get(node).cloned().unwrap_or_default(),
            None => claimed.iter().filter_map(|k| parse_public(k)).collect(),
        }
    }
}

/// Each node's keys, resolved once for a query.
pub(crate) struct NodeKeys(HashMap<String, Vec<VerifyingKey>>);

impl NodeKeys {
    /// The keys of every node: pinned, or from `claims` (node → the keys
    /// its claim names).
    pub fn resolve<'a>(
        keys: &Keys,
        claims: impl IntoIterator<Item = (&'a str, Vec<String>)>,
    ) -> Self {
        let mut by_node: HashMap<String, Vec<VerifyingKey>> = match &keys.pinned {
            Some(p) => p.clone(),
            None => HashMap::new(),
        };
        if keys.pinned.is_none() {
            for (node, claimed) in claims {
                by_node.insert(node.to_string(), keys.for_node(node, &claimed));
            }
        }
        NodeKeys(by_node)
    }

    /// Checks a message of `node`'s.
    pub fn check(
        &self,
        node: &str,
        sig: Option<&str>,
        signed: (&str, &str, &[u8]),
    ) -> std::result::Result<(), DropReason> {
        let keys = self.0.get(node).map_or(&[][..], Vec::as_slice);
        check(keys, sig, signed)
    }
}

/// Checks the `Catalog-Sig` value `sig` of a message (subject, message id,
/// body) against `keys`.
pub(crate) fn check(
    keys: &[VerifyingKey],
    sig: Option<&str>,
    (subject, msg_id, body): (&str, &str, &[u8]),
) -> std::result::Result<(), DropReason> {
    if keys.is_empty() {
        return Err(DropReason::NoKey);
    }
    let sig = sig.ok_or(DropReason::NoSignature)?;
    let sig = sig
        .strip_prefix("ed25519:")
        .and_then(parse_hex::<64>)
        .map(|b| Signature::from_bytes(&b))
        .ok_or(DropReason::BadSignature)?;
    let mut bytes = Vec::new();
    signed_bytes(&mut bytes, subject, msg_id, body);
    if keys.iter().any(|k| k.verify(&bytes, &sig).is_ok()) {
        Ok(())
    } else {
        Err(DropReason::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_the_subject_the_message_id_and_the_body() {
        let key = NodeKey::from_seed([7; 32]);
        let public = [parse_public(&key.public_hex()).unwrap()];
        let (subject, id, body) = ("catalog.n1.events", "n1:c:5", &b"{}"[..]);
        let sig = key.sign(subject, id, body);
        assert_eq!(check(&public, Some(&sig), (subject, id, body)), Ok(()));
        for (what, s, i, b) in [
            ("another subject", "catalog.n2.events", id, body),
            ("another id", subject, "n1:c:6", body),
            ("another body", subject, id, &b"{ }"[..]),
        ] {
            assert_eq!(
                check(&public, Some(&sig), (s, i, b)),
                Err(DropReason::BadSignature),
                "{what}"
            );
        }
        assert_eq!(
            check(&public, None, (subject, id, body)),
            Err(DropReason::NoSignature)
        );
        assert_eq!(
            check(&[], Some(&sig), (subject, id, body)),
            Err(DropReason::NoKey)
        );
        let other = [parse_public(&NodeKey::from_seed([8; 32]).public_hex()).unwrap()];
        assert_eq!(
            check(&other, Some(&sig), (subject, id, body)),
            Err(DropReason::BadSignature)
        );
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(key_path(dir.path()).parent().unwrap()).unwrap();
        let made = NodeKey::load_or_create(dir.path()).unwrap();
        let path = key_path(dir.path());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = NodeKey::load_or_create(dir.path()).unwrap();
        assert_eq!(made.public_hex(), read.public_hex(), "the same key again");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = NodeKey::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, Error::FleetKey { .. }), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(", version 1", ", version 2");
        std::fs::write(&path, text).unwrap();
        let err = NodeKey::load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 2"), "{err}");
    }

    #[test]
    fn pinned_keys_replace_the_claims() {
        let key = NodeKey::from_seed([1; 32]).public_hex();
        let keys = Keys::pinned(&format!("# fleet\nn1 {key}\n\n")).unwrap();
        assert_eq!(keys.for_node("n1", &[]).len(), 1);
        assert!(
            keys.for_node("n2", std::slice::from_ref(&key)).is_empty(),
            "only pins count"
        );
        assert_eq!(Keys::from_claims().for_node("n2", &[key]).len(), 1);
        assert!(Keys::pinned("n1 ed25519:zz").is_err());
    }
}
