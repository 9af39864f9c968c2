//! The running SHA-256 chain over the journal's records.
//!
//! `chain(n) = SHA-256(chain(n-1) || seq_le64 || time_ms_le64 || payload)`,
//! starting from `genesis(catalog_id)`. The chain covers what a record says,
//! not where it sits, so copying records to another segment keeps it. Editing
//! any byte of any payload — even with its CRC fixed up — changes every later
//! chain value.

use sha2::{Digest as _, Sha256};

/// A chain value.
pub type ChainValue = [u8; 32];

const GENESIS_DOMAIN: &[u8] = b"catalog-core/journal-chain/v1";

/// The chain value before the first record of the catalog `catalog_id`.
pub fn genesis(catalog_id: &[u8; 16]) -> ChainValue {
    let mut h = Sha256::new();
    h.update(GENESIS_DOMAIN);
    h.update(catalog_id);
    h.finalize().into()
}

/// The chain value after a record.
pub fn next(prev: &ChainValue, seq: u64, time_ms: u64, payload: &[u8]) -> ChainValue {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_le_bytes());
    h.update(time_ms.to_le_bytes());
    h.update(payload);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_depends_on_every_input() {
        let g = genesis(&[1; 16]);
        assert_ne!(g, genesis(&[2; 16]));
        let base = next(&g, 1, 10, b"p");
        assert_ne!(base, next(&[0; 32], 1, 10, b"p"));
        assert_ne!(base, next(&g, 2, 10, b"p"));
        assert_ne!(base, next(&g, 1, 11, b"p"));
        assert_ne!(base, next(&g, 1, 10, b"q"));
        assert_eq!(base, next(&g, 1, 10, b"p"));
    }
}
