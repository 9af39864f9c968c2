//! Certificate-signed bundles (`model_signing sign certificate`): the
//! bundle carries the chain, leaf first; the operator gives the roots to
//! trust (`--cert-chain ca.pem`). As model-signing does, the path is
//! validated at the leaf's notBefore (an expired leaf still verifies: what
//! matters is that it was valid when it was issued for the signing), and
//! the leaf must allow signing: key usage digitalSignature, or extended
//! key usage codeSigning. Path validation is rustls-webpki's; names,
//! validity and key usage are read with x509-cert.

use super::failure::Failure;
use super::key::PublicKey;
use super::record::{MAX_SIGNER_LEN, Signer};
use crate::error::{Error, Result};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), as DER content bytes.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// Most certificates accepted in a bundle's chain or a roots file.
const MAX_CERTIFICATES: usize = 16;

/// The roots a certificate chain must lead to.
#[derive(Clone, Debug)]
pub struct Roots(Vec<Vec<u8>>);

impl Roots {
    /// Reads PEM certificates (one or more `CERTIFICATE` blocks).
    pub fn from_pem(field: &'static str, pem: &[u8]) -> Result<Roots> {
        let certs = Certificate::load_pem_chain(pem)
            .map_err(|e| Error::invalid(field, format!("not PEM certificates: {e}")))?;
        if certs.is_empty() || certs.len() > MAX_CERTIFICATES {
            return Err(Error::invalid(
                field,
                format!(
                    "{} certificates, 1 to {MAX_CERTIFICATES} expected",
                    certs.len()
                ),
            ));
        }
        let der = certs
            .iter()
            .map(|c| c.to_der())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid(field, format!("cannot re-encode: {e}")))?;
        for d in &der {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(d.as_slice()))
                .map_err(|e| Error::invalid(field, format!("not a usable root: {e}")))?;
        }
        Ok(Roots(der))
    }
}

fn bad(reason: impl Into<String>) -> Failure {
    Failure::Certificate(reason.into())
}

fn text(s: String) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_SIGNER_LEN / 4)
        .collect()
}

/// Whether the leaf may sign: key usage digitalSignature, or extended key
/// usage codeSigning (either suffices, as in model-signing).
fn may_sign(leaf: &Certificate) -> bool {
    let exts = leaf.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    exts.iter().any(|e| {
        let v = e.extn_value.as_bytes();
        if e.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_KEY_USAGE {
            KeyUsage::from_der(v).is_ok_and(|k| k.digital_signature())
        } else if e.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_EXT_KEY_USAGE {
            ExtendedKeyUsage::from_der(v).is_ok_and(|k| {
                k.0.iter()
                    .any(|o| o == &x509_cert::der::oid::db::rfc5280::ID_KP_CODE_SIGNING)
            })
        } else {
            false
        }
    })
}

/// Validates `chain` (DER, leaf first) against `roots` at the leaf's
/// notBefore; returns who signed and the leaf's key.
pub fn check_chain(
    chain: &[Vec<u8>],
    roots: &Roots,
) -> std::result::Result<(Signer, PublicKey), Failure> {
    let Some((leaf_der, rest)) = chain.split_first() else {
        return Err(bad("the bundle's chain is empty"));
    };
    if chain.len() > MAX_CERTIFICATES {
        return Err(bad(format!("{} certificates in the chain", chain.len())));
    }
    let leaf = Certificate::from_der(leaf_der).map_err(|e| bad(format!("leaf: {e}")))?;
    let tbs = &leaf.tbs_certificate;
    let signer = Signer::Certificate {
        subject: text(tbs.subject.to_string()),
        issuer: text(tbs.issuer.to_string()),
    };
    if !may_sign(&leaf) {
        return Err(bad(
            "the leaf allows neither digitalSignature nor codeSigning",
        ));
    }
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(format!("leaf key: {e}")))?;
    let key = PublicKey::from_spki_der(&spki)
        .ok_or_else(|| bad("the leaf's key is not EC P-256, P-384 or P-521"))?;
    let at = UnixTime::since_unix_epoch(tbs.validity.not_before.to_unix_duration());
    let root_certs: Vec<CertificateDer<'_>> = roots
        .0
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let anchors = root_certs
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect::<Vec<_>>();
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let leaf_cert = CertificateDer::from(leaf_der.as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf_cert).map_err(|e| bad(format!("leaf: {e}")))?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        at,
        webpki::KeyUsage::required_if_present(CODE_SIGNING),
        None,
        None,
    )
    .map_err(|e| bad(format!("the chain does not lead to a root given: {e}")))?;
    Ok((signer, key))
}
