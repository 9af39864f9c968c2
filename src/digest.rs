//! Content digests (`sha256:<hex>`, and `git-sha1:<hex>` for the git blob
//! names a publisher gives small files).

mod parse;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Length in bytes of a SHA-256 digest.
pub const SHA256_LEN: usize = 32;
/// Length in bytes of a SHA-1 digest (a git blob id).
pub const SHA1_LEN: usize = 20;

/// A content digest. The store names every file by its SHA-256; a git
/// blob id (SHA-1 of `"blob <len>\0"` and the bytes, the name Hugging Face
/// gives a small file) is kept only as the digest a publisher gave
/// ([`ManifestFile::publisher_digest`](crate::ManifestFile::publisher_digest)).
/// The algorithm is stored, so adding one was not a format change of its
/// users (its bytes are 32, a SHA-1 zero-padded).
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
    /// A git blob id: SHA-1 (FIPS 180-4) of `"blob <len>\0"` followed by
    /// the bytes. Format 3; only ever a publisher's name for a file.
    GitSha1,
}

impl Digest {
    /// A SHA-256 digest from its 32 raw bytes.
    pub fn sha256(bytes: [u8; SHA256_LEN]) -> Self {
        Digest {
            algorithm: DigestAlgorithm::Sha256,
            bytes,
        }
    }

    /// A git blob id (SHA-1) from its 20 raw bytes.
    ///
    /// ```
    /// use catalog_core::{Digest, DigestAlgorithm};
    /// let d = Digest::git_blob_of_bytes(b"hello\n");
    /// assert_eq!(d.algorithm(), DigestAlgorithm::GitSha1);
    /// assert_eq!(d.to_string(), "git-sha1:ce013625030ba8dba906f756967f9e9ca394464a");
    /// assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
    /// ```
    pub fn git_sha1(bytes: [u8; SHA1_LEN]) -> Self {
        let mut padded = [0u8; SHA256_LEN];
        padded[..SHA1_LEN].copy_from_slice(&bytes);
        Digest {
            algorithm: DigestAlgorithm::GitSha1,
            bytes: padded,
        }
    }

    /// The git blob id of `data` (`sha1("blob <len>\0" + data)`), computed
    /// in memory.
    pub fn git_blob_of_bytes(data: &[u8]) -> Self {
        use sha1::Digest as _;
        let mut h = sha1::Sha1::new();
        h.update(format!("blob {}\0", data.len()).as_bytes());
        h.update(data);
        Digest::git_sha1(h.finalize().into())
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

    /// The raw digest bytes (a SHA-1 is zero-padded to 32).
    pub fn as_bytes(&self) -> &[u8; SHA256_LEN] {
        &self.bytes
    }

    /// Lowercase hex of the digest, without the algorithm prefix: 64 digits
    /// for a SHA-256, 40 for a git SHA-1.
    pub fn hex(&self) -> String {
        match self.algorithm {
            DigestAlgorithm::Sha256 => hex(&self.bytes),
            DigestAlgorithm::GitSha1 => hex(&self.bytes[..SHA1_LEN]),
        }
    }

    /// Whether this is a SHA-256 (the only algorithm the store names files by).
    pub fn is_sha256(&self) -> bool {
        self.algorithm == DigestAlgorithm::Sha256
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
            DigestAlgorithm::GitSha1 => write!(f, "git-sha1:{}", self.hex()),
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

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
