//! Output shared by the commands: JSON objects, aligned tables, human sizes,
//! UTC times, and how one journal event is shown.

use catalog_core::{
    Digest, DigestSource, Error, Event, Lifecycle, ModelEntry, ModelRef, Op, OpContext, TrustState,
    VerifyResult,
};
use serde_json::{Value, json};
use std::process::ExitCode;

/// Prints `err` (as JSON with `--json`) and returns its exit code.
pub fn fail(err: &Error, json: bool) -> ExitCode {
    let code = crate::exit_code(err);
    if json {
        outln!("{}", json!({ "error": err.to_string(), "exit_code": code }));
    }
    errln!("error: {err}");
    ExitCode::from(code)
}

/// Whether stderr may carry colour: it is a terminal and `NO_COLOR` is unset
/// (or empty), as <https://no-color.org> asks.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// [`Lifecycle::as_str`].
pub fn lifecycle(l: Lifecycle) -> &'static str {
    l.as_str()
}

/// [`TrustState::as_str`].
pub fn trust(t: TrustState) -> &'static str {
    t.as_str()
}

/// [`VerifyResult::as_str`].
pub fn result(r: VerifyResult) -> &'static str {
    r.as_str()
}

/// The JSON form of an entry: the library's [`ModelEntry::to_json`].
pub fn entry_json(e: &ModelEntry) -> Value {
    e.to_json()
}

/// The trust state for people: `verified (signed by …)` when a signature
/// verified, else [`trust`].
pub fn trust_line(e: &ModelEntry) -> String {
    match (&e.signature, e.trust, e.digest_source) {
        (Some(s), TrustState::Verified, Some(DigestSource::Signature)) => {
            format!("verified (signed by {})", s.signer.describe())
        }
        _ => trust(e.trust).to_string(),
    }
}

/// Files that could not be handled, with the reason, as JSON objects.
pub fn file_errors_json(errors: &[(std::path::PathBuf, String)]) -> Value {
    errors
        .iter()
        .map(|(path, error)| json!({ "path": path, "error": error }))
        .collect()
}

/// The JSON form of a journal event: `seq`, `time`, `time_ms`, `kind`, `id`
/// (null for a gap), `correlation_id`, `actor`, `chain`, then the fields the
/// operation set. The library's `Event::to_json`, which the fleet exporter
/// publishes too.
pub fn event_json(e: &Event) -> Value {
    e.to_json()
}

/// What an operation changed, in one line for a table.
pub fn op_summary(op: &Op) -> String {
    match op {
        Op::Put(spec) => {
            let mut s = format!(
                "{} {} {}",
                lifecycle(spec.lifecycle),
                human_size(spec.size_bytes),
                spec.digest.as_ref().map_or("-".into(), short_digest)
            );
            if !spec.files.is_empty() {
                s.push_str(&format!(" ({} files)", spec.files.len()));
            }
            s.push_str(&format!(
                " from {}",
                ModelRef::redact_stored(&spec.model_ref)
            ));
            s
        }
        Op::SetLifecycle { lifecycle: l, .. } => format!("lifecycle -> {}", lifecycle(*l)),
        Op::Verify { outcome, .. } => format!(
            "{}: {} ({} in {} ms)",
            result(outcome.result),
            outcome.reason,
            human_size(outcome.bytes),
            outcome.duration_ms
        ),
        Op::Evict {
            bytes_reclaimed, ..
        } => format!("evicted, {} reclaimed", human_size(*bytes_reclaimed)),
        Op::Delete { .. } => "deleted".into(),
        Op::Gap { last_lost, reason } => {
            format!("records up to {last_lost} lost: {reason}")
        }
        Op::Checkpoint { seq, entries, .. } => {
            format!("snapshot of sequence {seq} ({entries} entries) bound to the chain")
        }
        Op::Pruned { first_kept } => {
            format!("history before sequence {first_kept} pruned (retain_history off)")
        }
        Op::RefMoved { name, from, to, .. } => {
            let short = |c: &String| c.chars().take(12).collect::<String>();
            match (from, to) {
                (Some(from), Some(to)) => {
                    format!("{name} moved from {} to {}", short(from), short(to))
                }
                (None, Some(to)) => format!("{name} points to {}", short(to)),
                (Some(from), None) => format!("{name} removed (it pointed to {})", short(from)),
                (None, None) => format!("{name} removed"),
            }
        }
        Op::VerifySignature {
            outcome, signature, ..
        } => format!(
            "signature {}: {} (signer {}, bundle {})",
            result(outcome.result),
            outcome.reason,
            signature.signer.describe(),
            short_digest(&signature.bundle)
        ),
        other => format!("{other:?}"),
    }
}

/// `corr=… actor=…`, or `-` when the record carries no context.
pub fn context_summary(ctx: &OpContext) -> String {
    let parts: Vec<String> = [
        ctx.correlation_id.as_ref().map(|c| format!("corr={c}")),
        ctx.actor.as_ref().map(|a| format!("actor={a}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

/// `sha256:` and the first 12 hex digits.
pub fn short_digest(d: &Digest) -> String {
    let full = d.to_string();
    full.chars().take("sha256:".len() + 12).collect()
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Unix milliseconds as UTC ISO-8601: `2024-05-01T12:34:56.789Z`.
pub fn iso_time(ms: u64) -> String {
    catalog_core::iso_time(ms)
}

/// Prints rows as a table whose columns are padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 << 30), "5.0 GiB");
    }

    #[test]
    fn times_are_utc_iso_8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century leap year) 12:34:56.789.
        assert_eq!(iso_time(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(iso_time(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(iso_time(1_709_251_200_000), "2024-03-01T00:00:00.000Z");
        assert_eq!(iso_time(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
    }
}
