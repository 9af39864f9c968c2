//! Output shared by the commands: JSON objects, aligned tables, human sizes.

use catalog_core::{Error, Lifecycle, ModelEntry, TrustState};
use serde_json::{Value, json};
use std::process::ExitCode;

/// Prints `err` (as JSON with `--json`) and returns its exit code.
pub fn fail(err: &Error, json: bool) -> ExitCode {
    let code = crate::exit_code(err);
    if json {
        println!("{}", json!({ "error": err.to_string(), "exit_code": code }));
    }
    eprintln!("error: {err}");
    ExitCode::from(code)
}

pub fn lifecycle(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Active => "active",
        Lifecycle::Retired => "retired",
    }
}

pub fn trust(t: TrustState) -> &'static str {
    match t {
        TrustState::Verified => "verified",
        TrustState::Warned => "warned",
        TrustState::Unverified => "unverified",
        TrustState::Failed => "failed",
    }
}

/// The JSON form of an entry (stable field names for scripts).
pub fn entry_json(e: &ModelEntry) -> Value {
    json!({
        "id": e.id,
        "ref": e.model_ref,
        "lifecycle": lifecycle(e.lifecycle),
        "trust": trust(e.trust),
        "digest": e.digest.map(|d| d.to_string()),
        "size_bytes": e.size_bytes,
        "path": e.local_path,
        "files": e.files.iter().map(|f| json!({
            "path": f.path, "digest": f.digest.to_string(), "size_bytes": f.size_bytes,
        })).collect::<Vec<_>>(),
        "registered_at_ms": e.registered_at_ms,
        "updated_at_ms": e.updated_at_ms,
        "updated_seq": e.updated_seq,
        "last_verified_at_ms": e.last_verified_at_ms,
        "last_verification": e.last_verification.as_ref().map(|v| json!({
            "result": format!("{:?}", v.result).to_lowercase(),
            "reason": v.reason,
            "actual": v.actual.map(|d| d.to_string()),
            "bytes": v.bytes,
            "duration_ms": v.duration_ms,
        })),
    })
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
        println!("{}", padded.join("  ").trim_end());
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
}
