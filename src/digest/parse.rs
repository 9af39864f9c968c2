//! Parsing a digest from its text (`sha256:<hex>`, `git-sha1:<hex>`): the
//! one part of [`Digest`] that needs the crate's error, so the type itself
//! imports nothing from the crate (errors carry digests).

use super::{Digest, SHA1_LEN, SHA256_LEN};
use crate::error::{Error, Result};
use std::str::FromStr;

impl FromStr for Digest {
    type Err = Error;

    /// Parses `sha256:<64 hex digits>` (or `git-sha1:<40 hex digits>`).
    /// Upper-case hex is accepted and normalized to lowercase.
    fn from_str(s: &str) -> Result<Self> {
        if let Some(hex_part) = s.strip_prefix("git-sha1:") {
            let mut bytes = [0u8; SHA1_LEN];
            parse_hex_into(hex_part, &mut bytes, "git-sha1:")?;
            return Ok(Digest::git_sha1(bytes));
        }
        let hex_part = s
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::invalid("digest", "expected `sha256:<64 hex digits>`"))?;
        let mut bytes = [0u8; SHA256_LEN];
        parse_hex_into(hex_part, &mut bytes, "sha256:")?;
        Ok(Digest::sha256(bytes))
    }
}

/// Parses exactly `out.len() * 2` hex digits into `out`.
fn parse_hex_into(hex_part: &str, out: &mut [u8], prefix: &str) -> Result<()> {
    if hex_part.len() != out.len() * 2 {
        return Err(Error::invalid(
            "digest",
            format!(
                "expected {} hex digits after `{prefix}`, got {}",
                out.len() * 2,
                hex_part.len()
            ),
        ));
    }
    for (i, pair) in hex_part.as_bytes().chunks_exact(2).enumerate() {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => out[i] = (hi << 4) | lo,
            _ => {
                return Err(Error::invalid(
                    "digest",
                    format!("non-hex character near position {}", prefix.len() + 2 * i),
                ));
            }
        }
    }
    Ok(())
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
