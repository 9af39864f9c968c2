//! The IDENTITY file: which catalog this directory holds.
//!
//! ```text
//! offset  size  field
//! 0       8     magic        MAGIC
//! 8       4     version      FORMAT_VERSION; a larger one is refused
//! 12      4     flags        0
//! 16      16    catalog_id   random, fixed at creation
//! 32      8     created_ms   Unix milliseconds
//! 40      4     crc          CRC-32 of bytes [0, 40)
//! ```
//! Written once, by `publish_file`, before the first segment. Every segment
//! and snapshot repeats the catalog id, so files from another catalog are
//! refused.

use crate::bytes::{array_at, u32_at, u64_at};
use crate::error::{CorruptKind, Error, Result};
use crate::preamble;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

/// First bytes of the identity file.
pub const MAGIC: [u8; 8] = *b"\x89CCIDNT\n";
/// The identity format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const VERSION_OFFSET: usize = preamble::VERSION_OFFSET;
const FLAGS_OFFSET: usize = VERSION_OFFSET + 4;
const ID_OFFSET: usize = FLAGS_OFFSET + 4;
const CREATED_OFFSET: usize = ID_OFFSET + 16;
const CRC_OFFSET: usize = CREATED_OFFSET + 8;
/// Length of the file.
pub const LEN: usize = CRC_OFFSET + 4;

/// The decoded identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Random id of the catalog.
    pub catalog_id: [u8; 16],
    /// When it was created.
    pub created_ms: u64,
}

impl Identity {
    /// A fresh identity with a random id.
    pub fn generate(now_ms: u64) -> Self {
        // RandomState is seeded from the OS's randomness; two independent
        // draws give 128 bits without another dependency.
        let mut id = [0u8; 16];
        for half in id.chunks_exact_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(now_ms);
            h.write_u32(std::process::id());
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        Identity {
            catalog_id: id,
            created_ms: now_ms,
        }
    }

    /// The file's bytes.
    pub fn encode(&self) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..FLAGS_OFFSET].copy_from_slice(&preamble::encode(&MAGIC, FORMAT_VERSION));
        out[ID_OFFSET..CREATED_OFFSET].copy_from_slice(&self.catalog_id);
        out[CREATED_OFFSET..CRC_OFFSET].copy_from_slice(&self.created_ms.to_le_bytes());
        let crc = crc32fast::hash(&out[..CRC_OFFSET]);
        out[CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks the file's bytes.
    pub fn decode(bytes: &[u8], file: &Path) -> Result<Self> {
        let corrupt = |offset: usize, kind: CorruptKind, reason: &str| {
            Error::corrupt(
                file,
                offset as u64,
                None,
                kind,
                format!("identity file: {reason}"),
            )
        };
        preamble::check(
            bytes,
            &MAGIC,
            FORMAT_VERSION..=FORMAT_VERSION,
            file,
            "identity file",
        )?;
        if bytes.len() != LEN {
            return Err(corrupt(
                bytes.len().min(LEN),
                CorruptKind::Header,
                "wrong length",
            ));
        }
        if crc32fast::hash(&bytes[..CRC_OFFSET]) != u32_at(bytes, CRC_OFFSET).unwrap_or_default() {
            return Err(corrupt(CRC_OFFSET, CorruptKind::Checksum, "CRC mismatch"));
        }
        if u32_at(bytes, FLAGS_OFFSET) != Some(0) {
            return Err(corrupt(FLAGS_OFFSET, CorruptKind::Header, "unknown flags"));
        }
        Ok(Identity {
            catalog_id: array_at(bytes, ID_OFFSET).unwrap_or_default(),
            created_ms: u64_at(bytes, CREATED_OFFSET).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_round_trips_and_ids_differ() {
        let a = Identity::generate(1);
        let b = Identity::generate(1);
        assert_ne!(a.catalog_id, b.catalog_id, "two catalogs got the same id");
        assert_eq!(Identity::decode(&a.encode(), Path::new("i")).unwrap(), a);
        let mut bad = a.encode();
        bad[ID_OFFSET] ^= 1;
        assert!(matches!(
            Identity::decode(&bad, Path::new("i")),
            Err(Error::Corrupt { .. })
        ));
    }
}
