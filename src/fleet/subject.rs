//! Names in the fleet layout: node names, the stream, the subjects and the
//! fleet bucket's keys (docs/FLEET.md, "Subjects, stream and bucket").
//!
//! ```text
//! stream   CATALOG               subjects catalog.*.events
//! subject  catalog.<node>.events one message per journal event of <node>
//! bucket   CATALOG_FLEET         key-value, history 1
//!   n.<node>                     the node: catalog id, last exported seq, heartbeat
//!   m.<node>.<model id, escaped> the model's current state on that node
//! ```
//!
//! A node name is one subject token and one key token: 1 to
//! [`MAX_NODE_LEN`] bytes of `A-Z a-z 0-9 _ -`. (A NATS subject token may
//! hold more, but a key-value key may not, and `.`, `*`, `>` and white
//! space would change what a subject or key means.)

use crate::error::{Error, Result};

/// Longest node name, in bytes.
pub const MAX_NODE_LEN: usize = 128;
/// The default stream.
pub const DEFAULT_STREAM: &str = "CATALOG";
/// The default fleet bucket.
pub const DEFAULT_BUCKET: &str = "CATALOG_FLEET";
/// The subjects the stream is created with.
pub const STREAM_SUBJECTS: &str = "catalog.*.events";
/// Prefix of a node's key in the bucket.
pub(crate) const NODE_KEY_PREFIX: &str = "n.";
/// Prefix of a model's key in the bucket.
pub(crate) const MODEL_KEY_PREFIX: &str = "m.";

/// A validated node name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeName(String);

impl NodeName {
    /// Validates `name` as a node name.
    pub fn new(name: impl Into<String>) -> Result<NodeName> {
        let name = name.into();
        check_token("node", &name, MAX_NODE_LEN)?;
        Ok(NodeName(name))
    }

    /// This host's name, up to its first `.` (`gpu-7.example.com` is node
    /// `gpu-7`), from the kernel (`/proc/sys/kernel/hostname`), else
    /// `$HOSTNAME`.
    pub fn from_host() -> Result<NodeName> {
        let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        let short = raw.trim().split('.').next().unwrap_or_default().to_string();
        NodeName::new(short.clone()).map_err(|_| {
            Error::invalid(
                "node",
                format!(
                    "the host name {short:?} is not a valid node name (1 to {MAX_NODE_LEN} \
                     of A-Z a-z 0-9 _ -); pass --node NAME"
                ),
            )
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `catalog.<node>.events`.
    pub fn subject(&self) -> String {
        format!("catalog.{}.events", self.0)
    }

    /// The node's key in the fleet bucket: `n.<node>`.
    pub fn node_key(&self) -> String {
        format!("{NODE_KEY_PREFIX}{}", self.0)
    }

    /// The key of model `id` on this node: `m.<node>.<escaped id>`.
    pub fn model_key(&self, id: &str) -> String {
        format!("{MODEL_KEY_PREFIX}{}.{}", self.0, escape_id(id))
    }

    /// The prefix of every model key of this node: `m.<node>.`.
    pub fn model_key_prefix(&self) -> String {
        format!("{MODEL_KEY_PREFIX}{}.", self.0)
    }
}

impl std::fmt::Display for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a stream or bucket name: 1 to 64 bytes of `A-Z a-z 0-9 _ -`.
pub fn check_stream_name(field: &'static str, name: &str) -> Result<()> {
    check_token(field, name, 64)
}

fn check_token(field: &'static str, name: &str, max: usize) -> Result<()> {
    if name.is_empty() || name.len() > max {
        return Err(Error::invalid(
            field,
            format!("{name:?} must be 1 to {max} bytes long"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(Error::invalid(
            field,
            format!(
                "{name:?} holds {c:?}; a {field} name is one NATS subject and key token: \
                 A-Z a-z 0-9 _ - only"
            ),
        ));
    }
    Ok(())
}

/// A model id as one key token: `A-Z a-z 0-9 _ -` stay, every other byte is
/// `=XX` (two lowercase hex digits). Reversible, and `.` never appears.
pub fn escape_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02x}"));
        }
    }
    out
}

/// The inverse of [`escape_id`]; `None` if `token` is not an escaped id.
pub fn unescape_id(token: &str) -> Option<String> {
    let bytes = token.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = token.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The node of an event subject `catalog.<node>.events`.
pub(crate) fn subject_node(subject: &str) -> Option<&str> {
    let node = subject.strip_prefix("catalog.")?.strip_suffix(".events")?;
    check_token("node", node, MAX_NODE_LEN).ok()?;
    Some(node)
}

/// Splits a bucket key into `(node, model id)` for a model key, or
/// `(node, None)` for a node key.
pub(crate) fn parse_key(key: &str) -> Option<(String, Option<String>)> {
    if let Some(node) = key.strip_prefix(NODE_KEY_PREFIX) {
        return Some((node.to_string(), None));
    }
    let rest = key.strip_prefix(MODEL_KEY_PREFIX)?;
    let (node, id) = rest.split_once('.')?;
    Some((node.to_string(), Some(unescape_id(id)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_single_subject_and_key_tokens() {
        for good in ["gpu-7", "n_1", "A", &"x".repeat(MAX_NODE_LEN)] {
            assert!(NodeName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a.b",
            "a*",
            ">",
            "a b",
            "a\tb",
            "ä",
            "a/b",
            &"x".repeat(MAX_NODE_LEN + 1),
        ] {
            assert!(
                matches!(
                    NodeName::new(bad),
                    Err(Error::InvalidInput { field: "node", .. })
                ),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            NodeName::new("gpu-7").unwrap().subject(),
            "catalog.gpu-7.events"
        );
    }

    #[test]
    fn model_ids_escape_to_one_token_and_back() {
        for id in ["llama3-8b", "org/repo:q4.gguf", "a=b", "é €", "x.y.z"] {
            let token = escape_id(id);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'='),
                "{token}"
            );
            assert_eq!(unescape_id(&token).as_deref(), Some(id));
            let node = NodeName::new("n1").unwrap();
            assert_eq!(
                parse_key(&node.model_key(id)),
                Some(("n1".to_string(), Some(id.to_string())))
            );
        }
        assert_eq!(parse_key("n.n1"), Some(("n1".to_string(), None)));
        assert_eq!(subject_node("catalog.gpu-7.events"), Some("gpu-7"));
        for bad in [
            "catalog.a.b.events",
            "catalog..events",
            "other.n1.events",
            "catalog.n1",
        ] {
            assert_eq!(subject_node(bad), None, "{bad}");
        }
        assert_eq!(unescape_id("=zz"), None);
        assert_eq!(unescape_id("=4"), None);
    }
}
