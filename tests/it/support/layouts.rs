//! Hugging Face hub caches and Ollama models directories built byte for
//! byte in temporary directories, as huggingface_hub and Ollama lay them
//! out — never the real `~/.cache` or `~/.ollama`.
//!
//! Hub cache (`<hub>/models--<org>--<name>/`): `blobs/<name>` where the
//! name is the SHA-256 of an LFS file or the git blob id
//! (`sha1("blob <len>\0" + bytes)`) of a small file; `refs/<ref>` holding a
//! 40-hex commit; `snapshots/<commit>/<path>` relative symlinks to
//! `../../blobs/<name>` (one more `../` per directory level).
//!
//! Ollama (`<models>/`): `blobs/sha256-<hex>`, and
//! `manifests/<host>/<namespace>/<model>/<tag>` JSON with `schemaVersion`
//! 2, `mediaType`, `config` and `layers[]` of `mediaType`, `digest`,
//! `size`.
#![allow(dead_code)]

use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// How the Hub stores a file: in LFS (named by SHA-256) or in git (named
/// by its git blob id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lfs,
    Git,
}

/// `sha256` hex of `bytes`, computed here (not by the crate under test).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// The git blob id of `bytes`, computed here: `sha1("blob <len>\0" + bytes)`.
pub fn git_blob_hex(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 40-hex commit id made from `seed`.
pub fn commit(seed: &str) -> String {
    git_blob_hex(seed.as_bytes())
}

/// A hub cache directory.
pub struct HfCache {
    pub hub: PathBuf,
}

/// One `models--org--name` repository of it.
pub struct HfRepo {
    pub dir: PathBuf,
}

impl HfCache {
    pub fn new(hub: &Path) -> HfCache {
        std::fs::create_dir_all(hub.join(".locks")).unwrap();
        HfCache {
            hub: hub.to_path_buf(),
        }
    }

    /// Creates `models--<org>--<name>` with `blobs/`, `refs/`, `snapshots/`.
    pub fn repo(&self, org: &str, name: &str) -> HfRepo {
        let folder = if org.is_empty() {
            format!("models--{name}")
        } else {
            format!("models--{org}--{name}")
        };
        let dir = self.hub.join(folder);
        for sub in ["blobs", "refs", "snapshots"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::create_dir_all(self.hub.join(".locks").join(dir.file_name().unwrap())).unwrap();
        HfRepo { dir }
    }
}

impl HfRepo {
    /// The blob name the Hub gives `bytes` stored as `kind`.
    pub fn blob_name(bytes: &[u8], kind: Kind) -> String {
        match kind {
            Kind::Lfs => sha256_hex(bytes),
            Kind::Git => git_blob_hex(bytes),
        }
    }

    /// Writes the blob (if it is not there) and returns its path.
    pub fn blob(&self, bytes: &[u8], kind: Kind) -> PathBuf {
        let path = self.dir.join("blobs").join(Self::blob_name(bytes, kind));
        if !path.exists() {
            std::fs::write(&path, bytes).unwrap();
        }
        path
    }

    /// Creates `snapshots/<commit>/` with a relative symlink per file to
    /// its blob; returns the snapshot directory.
    pub fn snapshot(&self, commit: &str, files: &[(&str, &[u8], Kind)]) -> PathBuf {
        let snap = self.dir.join("snapshots").join(commit);
        std::fs::create_dir_all(&snap).unwrap();
        for (path, bytes, kind) in files {
            self.link(commit, path, bytes, *kind);
        }
        snap
    }

    /// Adds one file to a snapshot (as a later `hf_hub_download` would).
    pub fn link(&self, commit: &str, path: &str, bytes: &[u8], kind: Kind) -> PathBuf {
        let name = Self::blob_name(bytes, kind);
        self.blob(bytes, kind);
        let link = self.dir.join("snapshots").join(commit).join(path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let depth = path.matches('/').count();
        let target = format!("{}../../blobs/{name}", "../".repeat(depth));
        std::os::unix::fs::symlink(target, &link).unwrap();
        link
    }

    /// Writes `trees/<commit>.json`, the publisher's listing of the commit
    /// as huggingface_hub 2.x keeps it (format_version 1).
    pub fn listing(&self, commit: &str, files: &[(&str, &[u8], Kind)]) {
        let mut listed = serde_json::Map::new();
        for (path, bytes, kind) in files {
            let mut info = serde_json::json!({
                "size": bytes.len(),
                "blob_id": git_blob_hex(bytes),
            });
            if *kind == Kind::Lfs {
                info["lfs_sha256"] = sha256_hex(bytes).into();
                info["lfs_size"] = bytes.len().into();
            }
            listed.insert(path.to_string(), info);
        }
        let text = serde_json::json!({"format_version": 1, "files": listed});
        let trees = self.dir.join("trees");
        std::fs::create_dir_all(&trees).unwrap();
        std::fs::write(trees.join(format!("{commit}.json")), text.to_string()).unwrap();
    }

    /// Writes `refs/<name>` pointing to `commit`.
    pub fn set_ref(&self, name: &str, commit: &str) {
        let path = self.dir.join("refs").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, commit).unwrap();
    }
}

/// An Ollama models directory.
pub struct Ollama {
    pub models: PathBuf,
}

/// The media types Ollama gives its layers.
pub const MODEL: &str = "application/vnd.ollama.image.model";
pub const TEMPLATE: &str = "application/vnd.ollama.image.template";
pub const PARAMS: &str = "application/vnd.ollama.image.params";
pub const LICENSE: &str = "application/vnd.ollama.image.license";
pub const SYSTEM: &str = "application/vnd.ollama.image.system";
pub const CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

impl Ollama {
    pub fn new(models: &Path) -> Ollama {
        std::fs::create_dir_all(models.join("manifests")).unwrap();
        std::fs::create_dir_all(models.join("blobs")).unwrap();
        Ollama {
            models: models.to_path_buf(),
        }
    }

    /// Writes `blobs/sha256-<hex>`; returns `sha256:<hex>`.
    pub fn blob(&self, bytes: &[u8]) -> String {
        let hex = sha256_hex(bytes);
        let path = self.models.join("blobs").join(format!("sha256-{hex}"));
        if !path.exists() {
            std::fs::write(path, bytes).unwrap();
        }
        format!("sha256:{hex}")
    }

    /// The path of the blob of `bytes`.
    pub fn blob_path(&self, bytes: &[u8]) -> PathBuf {
        self.models
            .join("blobs")
            .join(format!("sha256-{}", sha256_hex(bytes)))
    }

    /// Writes the blobs and the manifest of `host/namespace/model:tag`.
    pub fn model(
        &self,
        name: (&str, &str, &str, &str),
        config: &[u8],
        layers: &[(&str, &[u8])],
    ) -> PathBuf {
        let layer = |media: &str, bytes: &[u8]| {
            serde_json::json!({
                "mediaType": media,
                "digest": self.blob(bytes),
                "size": bytes.len(),
            })
        };
        let json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": layer(CONFIG, config),
            "layers": layers.iter().map(|(m, b)| layer(m, b)).collect::<Vec<_>>(),
        });
        self.manifest(name, &json.to_string())
    }

    /// Writes a manifest with exactly this text.
    pub fn manifest(
        &self,
        (host, ns, model, tag): (&str, &str, &str, &str),
        text: &str,
    ) -> PathBuf {
        let dir = self
            .models
            .join("manifests")
            .join(host)
            .join(ns)
            .join(model);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(tag);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Every file under `dir` with its bytes and inode, for "nothing changed".
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u64, bool)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.push((
                    p,
                    target.into_os_string().into_encoded_bytes(),
                    m.ino(),
                    true,
                ));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap(), m.ino(), false));
            }
        }
    }
    out.sort();
    out
}

/// Deterministic bytes.
pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}
