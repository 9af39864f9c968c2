//! An Ollama models directory (`~/.ollama/models`), read offline:
//!
//! ```text
//! <models>/manifests/<host>/<namespace>/<model>/<tag>   a manifest (JSON)
//! <models>/blobs/sha256-<64 hex>                        a layer, named by its digest
//! ```
//!
//! A manifest is `{"schemaVersion": 2, "mediaType": …, "config": {…},
//! "layers": [{"mediaType", "digest", "size"}, …]}`. One candidate per
//! manifest: id `model:tag` (with `namespace/` in front when it is not
//! `library`, and the host too when it is not `registry.ollama.ai`),
//! reference `ollama:host/namespace/model:tag`; the files are the config
//! and every layer, each with its media type and digest, named in the
//! model by kind (`model.gguf`, `template`, `params.json`, `license`,
//! `license-2`, …; registered in place, by their blob names).
//!
//! Refused before anything is written: a digest that is not
//! `sha256:<64 lowercase hex>` (the blob path is made from it: a digest
//! like `sha256:../../…` would lead out of `blobs/`, CVE-2024-37032), a
//! manifest over [`MAX_MANIFEST_BYTES`] or with more layers than a model
//! may have files, and a symlink anywhere in `manifests/` or for a blob.
//! Skipped and reported: a manifest whose blob is missing (a pull running
//! or interrupted), a name outside Ollama's rules, JSON that is not a
//! manifest.

use super::plan::{Candidate, CandidateFile, Scan, is_hex, unsafe_source};
use super::report::SkipKind;
use crate::digest::Digest;
use crate::entry::{MAX_MANIFEST_FILES, MAX_MEDIA_TYPE_LEN};
use crate::error::{Error, Result};
use crate::model_ref::ModelRef;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest manifest read. Ollama's are a few KiB; one listing a tensor per
/// layer stays far below this.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<u64>,
    config: Option<Layer>,
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
}

/// Scans every manifest of a models directory.
pub(crate) fn scan(models: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    let blobs = models.join("blobs");
    for dir in [models.join("manifests"), blobs.clone()] {
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| Error::io(&dir, e))?;
        if !meta.is_dir() {
            return Err(unsafe_source(&dir, "a symlink or not a directory"));
        }
    }
    let manifests = models.join("manifests");
    let mut found = Vec::new();
    walk(&manifests, &mut Vec::new(), &mut found, &mut scan)?;
    // Every manifest is read and checked before any is turned into a
    // candidate: a hostile one refuses the whole adoption.
    let mut parsed = Vec::new();
    for (path, parts) in found {
        match read_manifest(&path)? {
            Ok(m) => parsed.push((path, parts, m)),
            Err(reason) => scan.skip(path, SkipKind::Unsupported, reason),
        }
    }
    for (path, parts, manifest) in parsed {
        let [host, namespace, model, tag] = parts;
        let model_ref = match ModelRef::ollama(&host, &namespace, &model, &tag) {
            Ok(r) => r,
            Err(e) => {
                scan.skip(path, SkipKind::Unsupported, e.to_string());
                continue;
            }
        };
        if manifest.schema_version.is_some_and(|v| v != 2) {
            scan.skip(
                path,
                SkipKind::Unsupported,
                "a manifest of another schema version than 2",
            );
            continue;
        }
        match candidate(&blobs, &path, model_ref, manifest) {
            Ok(c) => scan.add(c),
            Err((kind, reason)) => scan.skip(path, kind, reason),
        }
    }
    Ok(scan)
}

/// Finds `manifests/<host>/<namespace>/<model>/<tag>` files; refuses a
/// symlink anywhere.
fn walk(
    dir: &Path,
    parts: &mut Vec<String>,
    found: &mut Vec<(PathBuf, [String; 4])>,
    scan: &mut Scan,
) -> Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.file_type().is_symlink() {
            return Err(unsafe_source(
                &path,
                "a symlink in manifests/ (Ollama never makes one; it could lead anywhere)",
            ));
        }
        let Some(name) = name.to_str().map(str::to_owned) else {
            scan.skip(path, SkipKind::Unsupported, "a name that is not UTF-8");
            continue;
        };
        match (parts.len(), meta.is_dir(), meta.is_file()) {
            (0..=2, true, _) => {
                parts.push(name);
                walk(&path, parts, found, scan)?;
                parts.pop();
            }
            (3, _, true) => {
                let all = [parts[0].clone(), parts[1].clone(), parts[2].clone(), name];
                found.push((path, all));
            }
            _ => scan.skip(
                path,
                SkipKind::Unsupported,
                "not at manifests/<host>/<namespace>/<model>/<tag>",
            ),
        }
    }
    Ok(())
}

/// Reads and checks a manifest: `Err` refuses the adoption (oversized, a
/// digest that is not one); `Ok(Err)` skips this manifest (not JSON, not a
/// manifest).
fn read_manifest(path: &Path) -> Result<std::result::Result<Manifest, String>> {
    let oversized = || {
        unsafe_source(
            path,
            format!("an oversized manifest (over {MAX_MANIFEST_BYTES} bytes)"),
        )
    };
    // Never blocks: a FIFO or device swapped in since the look is refused.
    let bytes = crate::fs::read_regular(path, MAX_MANIFEST_BYTES + 1).map_err(|e| {
        if crate::fs::is_not_regular(&e) {
            unsafe_source(path, e.to_string())
        } else {
            Error::io(path, e)
        }
    })?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(oversized());
    }
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("not an Ollama manifest: {e}"))),
    };
    if manifest.layers.len() + 1 > MAX_MANIFEST_FILES {
        return Err(unsafe_source(
            path,
            format!(
                "an oversized manifest: {} layers, more than a model may have files \
                 ({MAX_MANIFEST_FILES})",
                manifest.layers.len()
            ),
        ));
    }
    for layer in manifest.config.iter().chain(&manifest.layers) {
        if blob_hex(&layer.digest).is_none() {
            let shown: String = layer.digest.chars().take(80).collect();
            return Err(unsafe_source(
                path,
                format!(
                    "the layer digest {shown:?} is not sha256:<64 lowercase hex> (a blob path \
                     made from it could lead out of blobs/, CVE-2024-37032)"
                ),
            ));
        }
    }
    Ok(Ok(manifest))
}

/// The 64 hex digits of `sha256:<hex>`, if that is exactly what it is.
fn blob_hex(digest: &str) -> Option<&str> {
    digest.strip_prefix("sha256:").filter(|h| is_hex(h, 64))
}

/// The name a layer gets in the model: by its kind (`model.gguf`,
/// `template`, `params.json`, `license`, …), numbered when repeated.
fn file_name(media_type: &str, config: bool, seen: &mut BTreeMap<String, u32>) -> String {
    let base = if config {
        "config.json".to_string()
    } else {
        let kind = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .rsplit('.')
            .next()
            .unwrap_or_default();
        let kind: String = kind
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        match kind.as_str() {
            "model" | "projector" | "adapter" => format!("{kind}.gguf"),
            "params" | "messages" => format!("{kind}.json"),
            "" => "layer".to_string(),
            other => other.to_string(),
        }
    };
    let n = seen.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        return base;
    }
    match base.split_once('.') {
        Some((stem, ext)) => format!("{stem}-{n}.{ext}"),
        None => format!("{base}-{n}"),
    }
}

/// The candidate of one manifest, or why it is skipped.
fn candidate(
    blobs: &Path,
    path: &Path,
    model_ref: ModelRef,
    manifest: Manifest,
) -> std::result::Result<Candidate, (SkipKind, String)> {
    let mut seen = BTreeMap::new();
    let mut files: Vec<CandidateFile> = Vec::new();
    let layers = manifest
        .config
        .iter()
        .map(|l| (l, true))
        .chain(manifest.layers.iter().map(|l| (l, false)));
    for (layer, config) in layers {
        let hex = blob_hex(&layer.digest).unwrap_or_default();
        let name = format!("sha256-{hex}");
        let blob = blobs.join(&name);
        match std::fs::symlink_metadata(&blob) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err((
                    SkipKind::Unsupported,
                    format!("{} is a symlink or not a regular file", blob.display()),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err((
                    SkipKind::Incomplete,
                    format!(
                        "its blob {name} is missing (a pull running or interrupted); pull \
                         it again, then adopt"
                    ),
                ));
            }
            Err(e) => return Err((SkipKind::Unsupported, e.to_string())),
        }
        if layer.media_type.is_empty()
            || layer.media_type.len() > MAX_MEDIA_TYPE_LEN
            || layer.media_type.chars().any(char::is_control)
        {
            return Err((
                SkipKind::Unsupported,
                "a layer's media type is empty, longer than 255 bytes or has control characters"
                    .into(),
            ));
        }
        let digest: Digest = match layer.digest.parse() {
            Ok(d) => d,
            Err(e) => return Err((SkipKind::Unsupported, e.to_string())),
        };
        files.push(CandidateFile {
            path: file_name(&layer.media_type, config, &mut seen),
            in_place: name,
            source: blob,
            tree: blobs.to_path_buf(),
            size: layer.size,
            publisher: Some(digest),
            media_type: Some(layer.media_type.clone()),
        });
    }
    let id = model_ref.default_id();
    Ok(Candidate {
        id,
        model_ref,
        origin: path.to_path_buf(),
        base: blobs.to_path_buf(),
        single: false,
        files,
        revision: None,
        partial: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_named_by_kind_and_numbered_when_repeated() {
        let mut seen = BTreeMap::new();
        let names: Vec<String> = [
            ("application/vnd.docker.container.image.v1+json", true),
            ("application/vnd.ollama.image.model", false),
            ("application/vnd.ollama.image.template", false),
            ("application/vnd.ollama.image.license", false),
            ("application/vnd.ollama.image.license", false),
            ("application/vnd.ollama.image.params", false),
            ("application/vnd.ollama.image.projector", false),
            (
                "application/vnd.ollama.image.tensor; name=a.b; dtype=F16",
                false,
            ),
            ("application/vnd.ollama.image.tensor; name=c", false),
            ("weird/../../x", false),
        ]
        .iter()
        .map(|(m, c)| file_name(m, *c, &mut seen))
        .collect();
        assert_eq!(
            names,
            [
                "config.json",
                "model.gguf",
                "template",
                "license",
                "license-2",
                "params.json",
                "projector.gguf",
                "tensor",
                "tensor-2",
                "_x",
            ]
        );
    }

    #[test]
    fn only_exact_sha256_digests_name_a_blob() {
        let hex = "0".repeat(64);
        assert_eq!(blob_hex(&format!("sha256:{hex}")), Some(hex.as_str()));
        for bad in [
            "sha256:../../../../etc/passwd".to_string(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "0".repeat(63)),
            format!("sha256:{hex}/.."),
            format!("sha512:{hex}"),
            hex.clone(),
        ] {
            assert_eq!(blob_hex(&bad), None, "{bad}");
        }
    }
}
