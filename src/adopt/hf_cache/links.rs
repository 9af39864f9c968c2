//! Where a snapshot's symlinks lead, checked by their names alone before
//! anything is opened:
//!
//! ```text
//! <hub>/models--o--n/snapshots/<commit>/<path> -> ../../blobs/<etag>
//! <hub>/models--o--n/blobs/<etag>                a regular file, or (2.x,
//!     -> ../../blobs/<2 hex>/<xet hash>          a Xet file) a symlink into
//! <hub>/blobs/<2 hex>/<xet hash>                 the cache-wide shared store,
//! <hub>/blobs/.huggingface-shared-blobs          marked "1\n" by huggingface_hub
//! ```
//!
//! A snapshot link must lead to `<repo>/blobs/<40 or 64 hex>` (that name is
//! the digest its publisher gave the file); a repository blob that is a
//! symlink must lead to `<hub>/blobs/<first 2 hex>/<64 hex>` of a store
//! that carries huggingface_hub's marker. Anything else is refused.

use super::super::plan::{is_hex, unsafe_source};
use crate::digest::Digest;
use crate::error::Result;
use std::path::{Component, Path, PathBuf};

pub(crate) use crate::fetch::{HF_SHARED_DIR as SHARED_DIR, HF_SHARED_MARKER as SHARED_MARKER};

/// Where the symlink `link` (whose target is `target`) leads, which must be
/// `<repo>/blobs/<40 or 64 hex>`, and the digest that name is.
pub(crate) fn blob_of(repo: &Path, link: &Path, target: &Path) -> Result<(PathBuf, Digest)> {
    let refused = || {
        unsafe_source(
            link,
            format!(
                "the symlink leads to {}, outside this repository's blobs/ (a cache only links \
                 ../../blobs/<digest>)",
                target.display()
            ),
        )
    };
    let resolved = resolve(link, target).ok_or_else(refused)?;
    let name = resolved
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(refused)?
        .to_owned();
    let blobs = repo.join("blobs");
    if !same_dir(resolved.parent(), &blobs) {
        return Err(refused());
    }
    let digest = if is_hex(&name, 64) {
        format!("sha256:{name}").parse::<Digest>()
    } else if is_hex(&name, 40) {
        format!("git-sha1:{name}").parse::<Digest>()
    } else {
        return Err(unsafe_source(
            link,
            format!("the blob it leads to, {name}, is not named by a digest"),
        ));
    };
    Ok((blobs.join(&name), digest?))
}

/// Where the repository blob `blob`, a symlink whose target is `target`,
/// leads: `<hub>/blobs/<2 hex>/<64 hex>`, the two hex digits the name's
/// first two (spelled below `hub` as given, so it is opened inside it).
pub(crate) fn shared_of(hub: &Path, blob: &Path, target: &Path) -> Result<PathBuf> {
    let refused = || {
        unsafe_source(
            blob,
            format!(
                "a blob is a symlink to {}, not into the cache's shared blob store \
                 (<cache>/blobs/<2 hex>/<64 hex>)",
                target.display()
            ),
        )
    };
    let resolved = resolve(blob, target).ok_or_else(refused)?;
    let name = resolved
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| is_hex(n, 64))
        .ok_or_else(refused)?;
    let prefix = resolved
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .filter(|p| *p == &name[..2])
        .ok_or_else(refused)?;
    let store = hub.join(SHARED_DIR);
    if !same_dir(resolved.parent().and_then(Path::parent), &store) {
        return Err(refused());
    }
    Ok(store.join(prefix).join(name))
}

pub(crate) use crate::fetch::hf_shared_store as shared_store_marked;

/// Whether `dir` is `want`, as spelled or as the file system resolves it
/// (a link written absolute through another spelling of the cache).
fn same_dir(dir: Option<&Path>, want: &Path) -> bool {
    dir == Some(want)
        || std::fs::canonicalize(want).is_ok_and(|canonical| dir == Some(canonical.as_path()))
}

/// Where the symlink `link` with target `target` leads, by names alone.
fn resolve(link: &Path, target: &Path) -> Option<PathBuf> {
    let start = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        link.parent()?.to_path_buf()
    };
    lexical(&start, target)
}

/// `start` joined with `target`, `.` and `..` resolved by the names alone
/// (every directory on the way was seen to be a real directory).
fn lexical(start: &Path, target: &Path) -> Option<PathBuf> {
    let mut out = start.to_path_buf();
    for part in target.components() {
        match part {
            Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn links_resolve_by_name_and_only_into_the_repositorys_blobs() {
        let repo = Path::new("/hub/models--o--r");
        let link = repo.join("snapshots/aaaa/sub/x.json");
        let hex = "a".repeat(64);
        let ok = blob_of(repo, &link, Path::new(&format!("../../../blobs/{hex}"))).unwrap();
        assert_eq!(ok.0, repo.join("blobs").join(&hex));
        assert!(ok.1.is_sha256());
        let git = "b".repeat(40);
        let (_, d) = blob_of(repo, &link, &repo.join("blobs").join(&git)).unwrap();
        assert_eq!(d.to_string(), format!("git-sha1:{git}"));
        for bad in [
            format!("../../blobs/{hex}"),
            format!("../../../../models--o--other/blobs/{hex}"),
            "/etc/passwd".to_string(),
            "../../../blobs/x".to_string(),
            format!("../../../blobs/{hex}/.."),
            format!("../../../blobs/../blobs2/{hex}"),
            "../../../../../../../../../../etc/shadow".to_string(),
        ] {
            let err = blob_of(repo, &link, Path::new(&bad)).unwrap_err();
            assert!(matches!(err, Error::UnsafeSource { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn a_blob_link_resolves_only_into_the_shared_store_under_its_own_prefix() {
        let hub = Path::new("/hub");
        let blob = hub.join("models--o--r/blobs").join("c".repeat(64));
        let xet = format!("fb{}", "1".repeat(62));
        let ok = shared_of(hub, &blob, Path::new(&format!("../../blobs/fb/{xet}"))).unwrap();
        assert_eq!(ok, hub.join("blobs/fb").join(&xet));
        let abs = shared_of(hub, &blob, &hub.join("blobs/fb").join(&xet)).unwrap();
        assert_eq!(abs, ok);
        for bad in [
            format!("../../blobs/aa/{xet}"),
            format!("../../blobs/{xet}"),
            format!("../../blobs/fb/fb/{xet}"),
            format!("../../../blobs/fb/{xet}"),
            format!("../../models--o--x/blobs/fb/{xet}"),
            "../../blobs/fb/fbxyz".to_string(),
            format!("/etc/fb/{xet}"),
            format!("../../blobs/fb/{xet}/.."),
        ] {
            let err = shared_of(hub, &blob, Path::new(&bad)).unwrap_err();
            assert!(matches!(err, Error::UnsafeSource { .. }), "{bad}: {err}");
        }
    }
}
