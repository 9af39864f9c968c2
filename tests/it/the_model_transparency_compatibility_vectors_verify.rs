//! The compatibility vectors sigstore/model-transparency verifies with every
//! release (`tests/fixtures/oms/compat/README.md`), checked as its test
//! scripts check them (`--ignore-paths ignore-me`): the key-signed ones of
//! model-signing v0.3.1 to v1.1.0 verify here too, and each tampered copy
//! (one signed file changed) fails naming the file. Two verdicts are
//! stricter than model-signing's, and documented (docs/FORMAT.md §12): the
//! certificate-signed vectors' signing certificate is itself a CA
//! (`CA:TRUE`), which rustls-webpki refuses as the signer; the v0.2.0
//! vector is an older statement format.

use crate::a_model_signing_signature_verifies_and_records_who_signed::fixtures;
use catalog_core::signature::{Failure, SignaturePolicy};
use catalog_core::{Catalog, ImportOptions, ModelRef, SignatureReport, TrustState};
use std::path::{Path, PathBuf};

fn compat() -> PathBuf {
    fixtures().join("compat")
}

fn policy(vector: &str) -> SignaturePolicy {
    let keys = compat().join("keys");
    let p = if vector.ends_with("-certificate") {
        SignaturePolicy::cert_chain_pem(&std::fs::read(keys.join("ca-cert.pem")).unwrap())
    } else {
        SignaturePolicy::key_pem(
            &std::fs::read_to_string(keys.join("signing-key-pub.pem")).unwrap(),
        )
    };
    p.unwrap().ignore_paths(["ignore-me"]).unwrap()
}

/// Imports the vector (its single file `signme-1` for the one-file ones)
/// into a new catalog, `signme-1` rewritten if `tamper`, and verifies.
fn verify(vector: &str, tamper: bool) -> SignatureReport {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let from = compat().join(vector);
    let single = !from.join("signme-2").exists();
    let model = src.path().join(vector);
    std::fs::create_dir_all(&model).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), model.join(e.file_name())).unwrap();
    }
    if tamper {
        std::fs::write(model.join("signme-1"), b"tampered\n").unwrap();
    }
    let target: &Path = &if single {
        model.join("signme-1")
    } else {
        model.clone()
    };
    let catalog = Catalog::open(root.path()).unwrap();
    let r = ModelRef::parse(&format!("file:{}", target.display())).unwrap();
    catalog
        .import(&r, ImportOptions::default().id("m"))
        .unwrap();
    let bundle = std::fs::read(from.join("model.sig")).unwrap();
    catalog
        .verify_signature("m", &bundle, &policy(vector))
        .unwrap()
}

const VERIFIED: [&str; 4] = [
    "v0.3.1-elliptic-key",
    "v1.0.0-elliptic-key",
    "v1.0.1-elliptic-key",
    "v1.1.0-elliptic-key",
];

#[test]
fn every_vector_of_v0_3_1_to_v1_1_0_verifies() {
    for v in VERIFIED {
        let r = verify(v, false);
        assert_eq!(r.failure, None, "{v}: {}", r.outcome.reason);
        assert_eq!(r.entry.trust, TrustState::Verified, "{v}");
    }
}

#[test]
fn every_tampered_vector_fails_naming_the_file() {
    for v in VERIFIED {
        let r = verify(v, true);
        let Some(Failure::Files { changed, .. }) = &r.failure else {
            panic!("{v}: {:?}", r.failure)
        };
        assert_eq!(changed.len(), 1, "{v}: {changed:?}");
        assert_eq!(r.entry.trust, TrustState::Failed, "{v}");
    }
}

const CERTIFICATE: [&str; 4] = [
    "v0.3.1-certificate",
    "v1.0.0-certificate",
    "v1.0.1-certificate",
    "v1.1.0-certificate",
];

#[test]
fn a_signing_certificate_that_is_a_ca_is_refused_as_the_signer() {
    for v in CERTIFICATE {
        let r = verify(v, false);
        assert!(
            matches!(&r.failure, Some(Failure::Certificate(why)) if why.contains("CaUsedAsEndEntity")),
            "{v}: {:?}",
            r.failure
        );
        assert_eq!(r.entry.trust, TrustState::Failed, "{v}");
    }
}

#[test]
fn the_v0_2_0_statement_format_is_refused() {
    let r = verify("v0.2.0-certificate", false);
    assert!(r.failure.is_some(), "{}", r.outcome.reason);
    assert_eq!(r.entry.trust, TrustState::Failed);
}
