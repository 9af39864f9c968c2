//! How a journal event is shown as JSON: the object `catalog events --json`
//! prints, one per line, and the body the fleet exporter publishes (with
//! `node` and `catalog_id` added). One function, so the two never differ.
//!
//! Fields: `seq`, `time` (UTC ISO-8601), `time_ms`, `kind`, `id` (null for
//! a gap), `correlation_id`, `actor`, `chain`, then the fields the operation
//! set. References are redacted as stored (`ModelRef::redact_stored`). The
//! keys of a `serde_json::Map` are kept sorted (the crate never turns on
//! serde_json's `preserve_order`), so the bytes are fixed by the values.

use crate::catalog::Event;
use crate::entry::Lifecycle;
#[cfg(feature = "nats")]
use crate::entry::TrustState;
use crate::journal::op::Op;
use crate::model_ref::ModelRef;
use serde_json::Value;

impl Event {
    /// The event as the JSON object `catalog events --json` prints.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(EventJson::new(self, None, &mut ModelRef::redact_stored))
            .unwrap_or(Value::Null)
    }

    /// The event's JSON bytes with `node` and `catalog_id` added: what the
    /// fleet exporter publishes. The same keys in the same order as
    /// [`Event::to_json`] serialized, plus those two.
    /// `redact` is `ModelRef::redact_stored`, or a cache of it.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn to_json_bytes_with(
        &self,
        node: &str,
        catalog_id: &str,
        redact: &mut dyn FnMut(&str) -> String,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(640);
        self.write_json_with(&mut out, node, catalog_id, redact);
        out
    }

    /// [`Event::to_json_bytes_with`], appended to `out` (the exporter
    /// renders every body of a catch-up into one growing buffer).
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn write_json_with(
        &self,
        out: impl std::io::Write,
        node: &str,
        catalog_id: &str,
        redact: &mut dyn FnMut(&str) -> String,
    ) {
        let _ = serde_json::to_writer(out, &EventJson::new(self, Some((node, catalog_id)), redact));
    }
}

/// An event's JSON, field by field. The fields are declared in
/// alphabetical order, which is the order a `serde_json::Map` (sorted keys)
/// writes them in: serializing this directly gives the same bytes as going
/// through a `Value`, without building one (the exporter renders a million
/// of these per catch-up). `Option<Option<T>>`: the outer `None` leaves the
/// key out (the operation does not set it), the inner one writes `null`.
#[derive(serde::Serialize)]
struct EventJson<'a> {
    actor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<Option<Shown<crate::Digest>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_reclaimed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_id: Option<&'a str>,
    chain: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    correlation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Option<Shown<crate::Digest>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest_source: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_kept: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Option<&'a str>>,
    id: Option<&'a str>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_lost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    model_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'static str>,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_seq: Option<u64>,
    time: Shown<IsoTime>,
    time_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Option<&'a str>>,
}

/// A value serialized as the string its `Display` writes, without an
/// intermediate `String` (the exporter renders a million bodies per
/// catch-up).
struct Shown<T>(T);

impl<T: std::fmt::Display> serde::Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'a> EventJson<'a> {
    fn new(
        e: &'a Event,
        fleet: Option<(&'a str, &'a str)>,
        redact: &mut dyn FnMut(&str) -> String,
    ) -> Self {
        let mut j = EventJson {
            actor: e.context.actor.as_deref(),
            actual: None,
            bundle: None,
            bytes: None,
            bytes_reclaimed: None,
            catalog_id: fleet.map(|f| f.1),
            chain: &e.chain,
            content: None,
            correlation_id: e.context.correlation_id.as_deref(),
            digest: None,
            digest_source: None,
            duration_ms: None,
            entries: None,
            external: None,
            files: None,
            first_kept: None,
            from: None,
            id: e.model_id(),
            kind: e.kind(),
            last_lost: None,
            lifecycle: None,
            name: None,
            node: fleet.map(|f| f.0),
            path: None,
            reason: None,
            model_ref: None,
            result: None,
            seq: e.seq,
            signer: None,
            size_bytes: None,
            snapshot_seq: None,
            time: Shown(IsoTime(e.time_ms)),
            time_ms: e.time_ms,
            to: None,
        };
        match &e.op {
            Op::Put(spec) => {
                j.model_ref = Some(redact(&spec.model_ref));
                j.path = Some(&spec.local_path);
                j.lifecycle = Some(lifecycle_str(spec.lifecycle));
                j.digest = Some(spec.digest.map(Shown));
                j.digest_source = Some(spec.digest_source.map(crate::DigestSource::as_str));
                j.size_bytes = Some(spec.size_bytes);
                j.files = Some(spec.files.len());
                j.external = Some(spec.external);
            }
            Op::SetLifecycle { lifecycle, .. } => j.lifecycle = Some(lifecycle_str(*lifecycle)),
            Op::Verify { outcome, .. } => {
                j.result = Some(outcome.result.as_str());
                j.reason = Some(&outcome.reason);
                j.actual = Some(outcome.actual.map(Shown));
                j.bytes = Some(outcome.bytes);
                j.duration_ms = Some(outcome.duration_ms);
            }
            Op::Evict {
                bytes_reclaimed, ..
            } => j.bytes_reclaimed = Some(*bytes_reclaimed),
            Op::Delete { .. } => {}
            Op::Gap { last_lost, reason } => {
                j.last_lost = Some(*last_lost);
                j.reason = Some(reason);
            }
            Op::Checkpoint {
                seq,
                entries,
                content,
            } => {
                j.snapshot_seq = Some(*seq);
                j.entries = Some(*entries);
                j.content = Some(content.iter().map(|b| format!("{b:02x}")).collect());
            }
            Op::Pruned { first_kept } => j.first_kept = Some(*first_kept),
            Op::RefMoved { name, from, to, .. } => {
                j.name = Some(name);
                j.from = Some(from.as_deref());
                j.to = Some(to.as_deref());
            }
            Op::VerifySignature {
                outcome, signature, ..
            } => {
                j.result = Some(outcome.result.as_str());
                j.reason = Some(&outcome.reason);
                j.actual = Some(outcome.actual.map(Shown));
                j.bytes = Some(outcome.bytes);
                j.duration_ms = Some(outcome.duration_ms);
                j.signer = Some(signature.signer.describe());
                j.bundle = Some(signature.bundle.to_string());
            }
            // An operation added later that this function does not describe yet.
            #[allow(unreachable_patterns)]
            _ => {}
        }
        j
    }
}

/// [`Lifecycle::as_str`] (the fleet view's name for it).
pub(crate) fn lifecycle_str(l: Lifecycle) -> &'static str {
    l.as_str()
}

/// [`TrustState::as_str`] (the fleet view's name for it).
#[cfg(feature = "nats")]
pub(crate) fn trust_str(t: TrustState) -> &'static str {
    t.as_str()
}

/// Unix milliseconds as UTC ISO-8601: `2024-05-01T12:34:56.789Z`.
pub fn iso_time(ms: u64) -> String {
    IsoTime(ms).to_string()
}

/// Unix milliseconds, shown as UTC ISO-8601 (written in place).
struct IsoTime(u64);

impl std::fmt::Display for IsoTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0;
        let secs = ms / 1000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            ms % 1000
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::VerifyResult;

    #[test]
    fn times_are_utc_iso_8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(iso_time(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
    }

    use crate::context::OpContext;
    use crate::entry::{EntrySpec, Verification};
    use crate::{Digest, Lifecycle};
    use serde_json::json;

    fn every_kind() -> Vec<Op> {
        let spec = EntrySpec::new("m", "https://u:pw-secret-value@h.example/m.gguf", "blobs/x")
            .digest(Digest::of_bytes(b"x"))
            .size_bytes(9);
        vec![
            Op::Put(spec.clone()),
            Op::Put(EntrySpec::new("n", "hf:org/r", "blobs/y")),
            Op::SetLifecycle {
                id: "m".into(),
                lifecycle: Lifecycle::Retired,
            },
            Op::Verify {
                id: "m".into(),
                outcome: Verification {
                    result: VerifyResult::Fail,
                    reason: "mismatch".into(),
                    actual: None,
                    bytes: 3,
                    duration_ms: 4,
                    files: vec![],
                },
            },
            Op::Evict {
                id: "m".into(),
                bytes_reclaimed: 7,
            },
            Op::Delete { id: "m".into() },
            Op::Gap {
                last_lost: 9,
                reason: "lost".into(),
            },
            Op::Checkpoint {
                seq: 3,
                entries: 2,
                content: [7u8; 32],
            },
            Op::Pruned { first_kept: 5 },
            Op::RefMoved {
                id: "m".into(),
                name: "main".into(),
                from: Some("c2".into()),
                to: None,
            },
            Op::VerifySignature {
                id: "m".into(),
                outcome: Verification::new(VerifyResult::Pass, "signed"),
                signature: Box::new(crate::signature::SignatureRecord {
                    signer: crate::signature::Signer::Key { hint: "ab".into() },
                    bundle: Digest::of_bytes(b"bundle"),
                    root: None,
                }),
            },
        ]
    }

    #[test]
    fn a_ref_move_shows_its_name_and_both_commits() {
        let e = Event {
            seq: 1,
            time_ms: 0,
            op: Op::RefMoved {
                id: "m".into(),
                name: "v1.0".into(),
                from: None,
                to: Some("c4".into()),
            },
            context: OpContext::new(),
            chain: "ab".repeat(32),
        };
        let v = e.to_json();
        assert_eq!(v["name"], "v1.0");
        assert_eq!(v["from"], serde_json::Value::Null);
        assert_eq!(v["to"], "c4");
    }

    #[test]
    fn the_direct_bytes_are_the_value_s_bytes_for_every_kind_of_event() {
        for (i, op) in every_kind().into_iter().enumerate() {
            let e = Event {
                seq: i as u64 + 1,
                time_ms: 1_700_000_000_123,
                op,
                context: if i % 2 == 0 {
                    OpContext::new().actor("a").correlation_id("c")
                } else {
                    OpContext::new()
                },
                chain: "ab".repeat(32),
            };
            let value = e.to_json();
            let mut with = value.clone();
            with["node"] = json!("n1");
            with["catalog_id"] = json!("cid");
            assert_eq!(
                String::from_utf8(e.to_json_bytes_with("n1", "cid", &mut ModelRef::redact_stored))
                    .unwrap(),
                with.to_string(),
                "{}: the fields must be declared in alphabetical order",
                e.kind()
            );
            assert!(!value.to_string().contains("pw-secret-value"), "{value}");
        }
    }

    #[test]
    fn keys_are_sorted_so_the_bytes_are_fixed_by_the_values() {
        let v = json!({ "seq": 1, "actor": "a", "kind": "put" });
        assert_eq!(
            v.to_string(),
            r#"{"actor":"a","kind":"put","seq":1}"#,
            "serde_json's preserve_order must stay off: the exporter's body and \
             `events --json` rely on one key order"
        );
    }
}
