//! Whom to trust, and which of the model's paths are not its own: what a
//! signature is checked against.

use super::chain::Roots;
use super::key::PublicKey;
use crate::entry::check_relative_path;
use crate::error::{Error, Result};

/// Most extra ignored paths a policy takes.
const MAX_IGNORE_PATHS: usize = 64;

/// What a signature must chain to.
#[derive(Clone, Debug)]
pub(crate) enum Trust {
    /// Signed with this key (`model_signing sign key`).
    Key(PublicKey),
    /// Signed with a certificate whose chain leads to one of these roots
    /// (`model_signing sign certificate`).
    CertChain(Roots),
}

/// Whom to trust (a key, or the roots of certificate chains) and which
/// paths of the model, besides the defaults (`.git`, `.gitattributes`,
/// `.github`, `.gitignore`, `model.sig`) and those the signed statement
/// lists, are not part of it (model_signing's `--ignore-paths`).
#[derive(Clone, Debug)]
pub struct SignaturePolicy {
    pub(crate) trust: Trust,
    pub(crate) ignore_paths: Vec<String>,
}

impl SignaturePolicy {
    /// A policy trusting the EC public key in `pem` (SubjectPublicKeyInfo).
    ///
    /// ```
    /// use catalog_core::signature::SignaturePolicy;
    /// let pem = std::fs::read_to_string(concat!(
    ///     env!("CARGO_MANIFEST_DIR"),
    ///     "/tests/fixtures/oms/keys/p256.pub.pem"
    /// ))?;
    /// assert!(SignaturePolicy::key_pem(&pem).is_ok());
    /// assert!(SignaturePolicy::key_pem("not a key").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key_pem(pem: &str) -> Result<Self> {
        Ok(SignaturePolicy {
            trust: Trust::Key(PublicKey::from_pem("key", pem)?),
            ignore_paths: Vec::new(),
        })
    }

    /// A policy trusting certificates that chain to the PEM certificates
    /// in `pem` (validated at the leaf's notBefore, as model-signing does).
    ///
    /// ```
    /// use catalog_core::signature::SignaturePolicy;
    /// let pem = std::fs::read(concat!(
    ///     env!("CARGO_MANIFEST_DIR"),
    ///     "/tests/fixtures/oms/certs/ca.pem"
    /// ))?;
    /// assert!(SignaturePolicy::cert_chain_pem(&pem).is_ok());
    /// assert!(SignaturePolicy::cert_chain_pem(b"not a certificate").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cert_chain_pem(pem: &[u8]) -> Result<Self> {
        Ok(SignaturePolicy {
            trust: Trust::CertChain(Roots::from_pem("cert_chain", pem)?),
            ignore_paths: Vec::new(),
        })
    }

    /// Also leaves these paths (relative to the model, each a file or a
    /// directory) out of the comparison, as `model_signing verify
    /// --ignore-paths` does.
    ///
    /// ```
    /// # let pem = std::fs::read_to_string(concat!(
    /// #     env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oms/keys/p256.pub.pem"))?;
    /// use catalog_core::signature::SignaturePolicy;
    /// let p = SignaturePolicy::key_pem(&pem)?.ignore_paths(["ignore-me"])?;
    /// assert!(SignaturePolicy::key_pem(&pem)?.ignore_paths(["../x"]).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ignore_paths<S: Into<String>>(
        mut self,
        paths: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        for p in paths {
            let p = p.into();
            check_relative_path("ignore_paths", &p)?;
            if self.ignore_paths.len() == MAX_IGNORE_PATHS {
                return Err(Error::invalid(
                    "ignore_paths",
                    format!("at most {MAX_IGNORE_PATHS}"),
                ));
            }
            self.ignore_paths.push(p);
        }
        Ok(self)
    }
}
