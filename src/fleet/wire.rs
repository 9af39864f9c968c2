//! What travels with every fleet message besides its body: the headers, and
//! the message ids the exporter writes and the readers parse. A leaf: it
//! imports only the node name's rules.

use super::subject::NodeName;

/// The header a signature travels in.
pub const SIG_HEADER: &str = "Catalog-Sig";

/// The header that names a message for deduplication.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// `<node>:<catalog_id>:<seq>`: unique per event of one catalog under one
/// node name. (The duplicate window is the stream's, not the subject's: an
/// id without the node would make the same catalog exported under a second
/// name — a renamed host — lose its first two minutes as duplicates.)
pub fn msg_id(node: &NodeName, catalog_id: &str, seq: u64) -> String {
    format!("{node}:{catalog_id}:{seq}")
}

/// `<node>:<catalog_id>:<seq>:<16 random hex digits>`: the id an event is
/// published under again when its plain id was taken by another client
/// (no one can have guessed it).
pub(crate) fn fallback_msg_id(node: &NodeName, catalog_id: &str, seq: u64) -> String {
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if read.is_err() {
        // The std hasher's keys come from the OS's randomness too.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(seq);
        bytes = h.finish().to_le_bytes();
    }
    format!(
        "{}:{}",
        msg_id(node, catalog_id, seq),
        crate::digest::hex(&bytes)
    )
}

/// A message id, parsed: `<node>:<catalog_id>:<seq>` or, published again
/// after it was taken, with `:<16 hex digits>` after it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MsgId<'a> {
    pub node: &'a str,
    pub catalog_id: &'a str,
    pub seq: u64,
}

/// Parses a message id; `None` if it is not one the exporter writes.
pub(crate) fn parse_msg_id(id: &str) -> Option<MsgId<'_>> {
    let mut parts = id.split(':');
    let node = parts.next()?;
    let catalog_id = parts.next()?;
    let seq = parts.next()?;
    let tag = parts.next();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if parts.next().is_some()
        || NodeName::new(node).is_err()
        || !hex(catalog_id, 32)
        || seq.is_empty()
        || !seq.bytes().all(|b| b.is_ascii_digit())
        || tag.is_some_and(|t| !hex(t, 16))
    {
        return None;
    }
    Some(MsgId {
        node,
        catalog_id,
        seq: seq.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_parse_with_and_without_a_fallback_tag() {
        let node = NodeName::new("gpu-7").unwrap();
        let cid = "0123456789abcdef0123456789abcdef";
        let plain = msg_id(&node, cid, 42);
        let want = Some(MsgId {
            node: "gpu-7",
            catalog_id: cid,
            seq: 42,
        });
        assert_eq!(parse_msg_id(&plain), want);
        let a = fallback_msg_id(&node, cid, 42);
        let b = fallback_msg_id(&node, cid, 42);
        assert_ne!(a, b, "a fallback id cannot be guessed: {a} {b}");
        assert!(a.starts_with(&format!("{plain}:")), "{a}");
        assert_eq!(parse_msg_id(&a), want);
        for bad in [
            "",
            "gpu-7",
            "gpu-7:0123:42",
            &format!("gpu.7:{cid}:42"),
            &format!("gpu-7:{cid}:"),
            &format!("gpu-7:{cid}:4x"),
            &format!("gpu-7:{cid}:42:xyz"),
            &format!("gpu-7:{cid}:42:0011223344556677:9"),
            &format!("gpu-7:{}:42", cid.to_uppercase()),
        ] {
            assert_eq!(parse_msg_id(bad), None, "{bad}");
        }
    }
}
