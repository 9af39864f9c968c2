//! The Sigstore bundle model-signing writes (`model.sig`): JSON, media type
//! `application/vnd.dev.sigstore.bundle.v0.3+json` (older ones too), a
//! DSSE envelope and the verification material. Only the fields the
//! verification needs are read; every size is bounded before decoding.

use super::failure::Failure;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// Largest bundle accepted, in bytes: a statement listing a few thousand
/// files (or shards) fits many times over.
pub const MAX_BUNDLE_LEN: usize = 16 << 20;
/// The media types of a Sigstore bundle start with this.
const MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// How the bundle says it was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Material {
    /// A bare key, named by its hint (empty in bundles of model-signing
    /// before 1.0).
    Key {
        /// Lowercase hex SHA-256 of the key's PEM text.
        hint: String,
    },
    /// An X.509 chain, leaf first (DER).
    Chain(Vec<Vec<u8>>),
    /// A Fulcio certificate (DER) and transparency log entries: keyless.
    Keyless(Vec<u8>),
}

/// A parsed bundle: the signed payload exactly as given, its signature, and
/// the material that says who signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The DSSE payload type.
    pub payload_type: String,
    /// The payload bytes as given (verified as given, never re-serialized).
    pub payload: Vec<u8>,
    /// The DER-encoded ECDSA signature.
    pub signature: Vec<u8>,
    /// Who signed, as the bundle claims it.
    pub material: Material,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    dsse_envelope: Option<RawEnvelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    public_key: Option<RawHint>,
    x509_certificate_chain: Option<RawChain>,
    certificate: Option<RawCert>,
}

#[derive(Deserialize)]
struct RawHint {
    #[serde(default)]
    hint: String,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    sig: String,
}

fn b64(field: &'static str, text: &str) -> Result<Vec<u8>, Failure> {
    STANDARD
        .decode(text)
        .map_err(|e| Failure::Bundle(format!("{field} is not base64: {e}")))
}

impl Bundle {
    /// Parses a bundle. Anything malformed is a [`Failure::Bundle`] naming
    /// what is wrong; nothing panics on any input.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, Failure> {
        if bytes.len() > MAX_BUNDLE_LEN {
            return Err(Failure::Bundle(format!(
                "{} bytes, at most {MAX_BUNDLE_LEN}",
                bytes.len()
            )));
        }
        let raw: RawBundle = serde_json::from_slice(bytes)
            .map_err(|e| Failure::Bundle(format!("not a Sigstore bundle: {e}")))?;
        if !raw.media_type.starts_with(MEDIA_TYPE_PREFIX) {
            return Err(Failure::Bundle(format!(
                "media type `{}` is not a Sigstore bundle's",
                raw.media_type.chars().take(100).collect::<String>()
            )));
        }
        let env = raw
            .dsse_envelope
            .ok_or_else(|| Failure::Bundle("no DSSE envelope (a message signature?)".into()))?;
        let [sig] = env.signatures.as_slice() else {
            return Err(Failure::Bundle(format!(
                "{} signatures in the envelope, model-signing writes exactly one",
                env.signatures.len()
            )));
        };
        let m = raw.verification_material;
        let material = match (m.public_key, m.x509_certificate_chain, m.certificate) {
            (Some(k), None, None) => Material::Key { hint: k.hint },
            (None, Some(c), None) if !c.certificates.is_empty() => Material::Chain(
                c.certificates
                    .iter()
                    .map(|c| b64("certificate", &c.raw_bytes))
                    .collect::<Result<_, _>>()?,
            ),
            (None, None, Some(c)) => Material::Keyless(b64("certificate", &c.raw_bytes)?),
            _ => {
                return Err(Failure::Bundle(
                    "verification material must be exactly one of a public key, a \
                     certificate chain or a certificate"
                        .into(),
                ));
            }
        };
        Ok(Bundle {
            payload_type: env.payload_type,
            payload: b64("payload", &env.payload)?,
            signature: b64("signature", &sig.sig)?,
            material,
        })
    }

    /// The bytes the signature covers: DSSE's pre-authentication encoding,
    /// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
    pub fn pae(&self) -> Vec<u8> {
        let t = self.payload_type.as_bytes();
        let mut out = format!("DSSEv1 {} ", t.len()).into_bytes();
        out.extend_from_slice(t);
        out.extend_from_slice(format!(" {} ", self.payload.len()).as_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_follows_the_dsse_specification() {
        // DSSE protocol.md's example: type "http://example.com/HelloWorld".
        let b = Bundle {
            payload_type: "http://example.com/HelloWorld".into(),
            payload: b"hello world".to_vec(),
            signature: vec![],
            material: Material::Key {
                hint: String::new(),
            },
        };
        assert_eq!(
            b.pae(),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn malformed_bundles_are_named_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"mediaType\":\"x\",\"verificationMaterial\":{}}",
            b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\
               \"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":\
               {\"payload\":\"!\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\"}]}}",
            b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\
               \"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":\
               {\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[]}}",
        ] {
            let got = Bundle::parse(bad);
            assert!(matches!(got, Err(Failure::Bundle(_))), "{bad:?}: {got:?}");
        }
    }
}
