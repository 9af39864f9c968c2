//! Content digests (`sha256:<hex>`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Length in bytes of a SHA-256 digest.
pub const SHA256_LEN: usize = 32;

/// A content digest. Only SHA-256 exists today; the algorithm is stored so
/// that another can be added without a format change of its users.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    bytes: [u8; SHA256_LEN],
}

/// The hash function behind a [`Digest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
}

impl Digest {
    /// A SHA-256 digest from its 32 raw bytes.
    pub fn sha256(bytes: [u8; SHA256_LEN]) -> Self {
        Digest {
            algorithm: DigestAlgorithm::Sha256,
            bytes,
        }
    }

    /// SHA-256 of `data`, computed in memory.
    ///
    /// ```
    /// use catalog_core::Digest;
    /// let d = Digest::of_bytes(b"abc");
    /// assert_eq!(
    ///     d.to_string(),
    ///     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    /// );
    /// ```
    pub fn of_bytes(data: &[u8]) -> Self {
        use sha2::Digest as _;
        Digest::sha256(sha2::Sha256::digest(data).into())
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; SHA256_LEN] {
        &self.bytes
    }

    /// Lowercase hex of the digest bytes, without the algorithm prefix.
    pub fn hex(&self) -> String {
        hex(&self.bytes)
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.algorithm {
            DigestAlgorithm::Sha256 => write!(f, "sha256:{}", self.hex()),
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = Error;

    /// Parses `sha256:<64 hex digits>`. Upper-case hex is accepted and
    /// normalized to lowercase.
    fn from_str(s: &str) -> Result<Self> {
        let hex_part = s
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::invalid("digest", "expected `sha256:<64 hex digits>`"))?;
        if hex_part.len() != SHA256_LEN * 2 {
            return Err(Error::invalid(
                "digest",
                format!(
                    "expected 64 hex digits after `sha256:`, got {}",
                    hex_part.len()
                ),
            ));
        }
        let mut bytes = [0u8; SHA256_LEN];
        for (i, pair) in hex_part.as_bytes().chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]);
            let lo = hex_value(pair[1]);
            match (hi, lo) {
                (Some(hi), Some(lo)) => bytes[i] = (hi << 4) | lo,
                _ => {
                    return Err(Error::invalid(
                        "digest",
                        format!("non-hex character near position {}", 7 + 2 * i),
                    ));
                }
            }
        }
        Ok(Digest::sha256(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip_normalizes_case() {
        let upper = format!("sha256:{}", "AB".repeat(32));
        let d: Digest = upper.parse().expect("valid digest");
        assert_eq!(d.to_string(), format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(d.as_bytes(), &[0xab; 32]);
    }

    #[test]
    fn bad_digests_are_rejected_with_invalid_input() {
        for bad in [
            "",
            "sha256:",
            "md5:abcd",
            &format!("sha256:{}", "a".repeat(63)),
            &format!("sha256:{}", "a".repeat(65)),
            &format!("sha256:{}g", "a".repeat(63)),
            &format!("SHA256:{}", "a".repeat(64)),
        ] {
            let err = bad.parse::<Digest>().expect_err(bad);
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        field: "digest",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }
}
