//! An OpenSSF Model Signing signature made by the real signer (the
//! fixtures of `tests/oms/make_fixtures.sh`) verifies against the model's
//! recorded digests: the entry becomes `Verified` with its digests' source
//! the signature, the signer (key hint) is recorded, the bundle is kept in
//! the store by digest, all of it survives a reopen, and a second
//! verification of unchanged files hashes nothing. Shard, BLAKE3 and
//! BLAKE2b signatures (model-signing's Python API) verify too, the files
//! hashed as their statement says.

use catalog_core::signature::{SignaturePolicy, Signer};
use catalog_core::{Catalog, Digest, DigestSource, ImportOptions, ModelRef, TrustState};
use std::path::{Path, PathBuf};

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oms")
}

pub(crate) fn policy(key: &str) -> SignaturePolicy {
    let pem = std::fs::read_to_string(fixtures().join(format!("keys/{key}.pub.pem"))).unwrap();
    SignaturePolicy::key_pem(&pem).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A catalog holding a copy of the fixture directory `model` as `m`.
pub(crate) fn catalog_with(model: &str) -> (tempfile::TempDir, tempfile::TempDir, Catalog) {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(model), &src.path().join("model"));
    let catalog = Catalog::open(root.path()).unwrap();
    let r = ModelRef::parse(&format!("file:{}", src.path().join("model").display())).unwrap();
    catalog
        .import(&r, ImportOptions::default().id("m"))
        .unwrap();
    (root, src, catalog)
}

#[test]
fn key_signatures_on_p256_and_p384_verify_and_name_their_key() {
    for (sig, key) in [("p256.sig", "p256"), ("p384.sig", "p384")] {
        let (root, _src, catalog) = catalog_with("model");
        let bundle = std::fs::read(fixtures().join(sig)).unwrap();
        let r = catalog
            .verify_signature("m", &bundle, &policy(key))
            .unwrap();
        assert_eq!(r.failure, None, "{sig}: {}", r.outcome.reason);
        assert_eq!(r.entry.trust, TrustState::Verified, "{sig}");
        assert_eq!(
            r.entry.digest_source,
            Some(DigestSource::Signature),
            "{sig}"
        );
        let Signer::Key { hint } = &r.signature.signer else {
            panic!("{sig}: {:?}", r.signature.signer)
        };
        // model-signing wrote the same hint into the bundle.
        let text = String::from_utf8(bundle.clone()).unwrap();
        assert!(text.contains(hint.as_str()), "{sig}: hint {hint}");
        assert_eq!(r.signature.bundle, Digest::of_bytes(&bundle));
        assert!(
            r.outcome.reason.contains("signed by key"),
            "{}",
            r.outcome.reason
        );
        let kept = root
            .path()
            .join("blobs/sha256")
            .join(Digest::of_bytes(&bundle).hex());
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            bundle,
            "{sig}: the bundle is kept"
        );
        drop(catalog);
        let reopened = Catalog::open(root.path()).unwrap();
        let e = reopened.get("m").unwrap();
        assert_eq!(
            e.signature.as_deref(),
            Some(&r.signature),
            "{sig}: after reopen"
        );
        assert_eq!(e.trust, TrustState::Verified);
    }
}

#[test]
fn a_second_verification_of_unchanged_files_hashes_nothing() {
    let (_root, _src, catalog) = catalog_with("model");
    let bundle = std::fs::read(fixtures().join("p256.sig")).unwrap();
    let first = catalog
        .verify_signature("m", &bundle, &policy("p256"))
        .unwrap();
    assert_eq!(first.failure, None, "{}", first.outcome.reason);
    let again = catalog
        .verify_signature("m", &bundle, &policy("p256"))
        .unwrap();
    assert_eq!(again.failure, None, "{}", again.outcome.reason);
    assert!(again.fast_path_used, "unchanged files are not hashed again");
    assert_eq!(again.outcome.bytes, 0);
    // And a plain verification now checks against the signed digests.
    let plain = catalog
        .verify("m", catalog_core::VerifyOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        plain.entry.trust,
        TrustState::Verified,
        "{}",
        plain.outcome.reason
    );
}

#[test]
fn shard_blake3_and_blake2b_signatures_verify_as_the_python_api_verifies_them() {
    for sig in ["shard.sig", "blake3.sig", "blake2.sig"] {
        let (_root, _src, catalog) = catalog_with("model");
        let bundle = std::fs::read(fixtures().join(sig)).unwrap();
        let r = catalog
            .verify_signature("m", &bundle, &policy("p256"))
            .unwrap();
        assert_eq!(r.failure, None, "{sig}: {}", r.outcome.reason);
        assert_eq!(r.entry.trust, TrustState::Verified, "{sig}");
    }
}
