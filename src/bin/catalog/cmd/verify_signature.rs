//! `catalog verify <id> --signature model.sig --key pub.pem` (or
//! `--cert-chain ca.pem`): read the files, call
//! `Catalog::verify_signature`, show the outcome.

use super::Context;
use crate::output::{entry_json, result, trust_line};
use catalog_core::signature::{MAX_BUNDLE_LEN, SignaturePolicy};
use catalog_core::{Error, Result, VerifyResult};
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// Longest public key or roots file read, in bytes.
const MAX_KEY_LEN: usize = 1 << 20;

/// Whom the operator trusts.
pub enum Trust<'a> {
    /// `--key FILE`.
    Key(&'a Path),
    /// `--cert-chain FILE`.
    CertChain(&'a Path),
}

fn policy(trust: Trust<'_>) -> Result<SignaturePolicy> {
    let (field, path) = match trust {
        Trust::Key(p) => ("--key", p),
        Trust::CertChain(p) => ("--cert-chain", p),
    };
    let bytes = read_bounded(field, path, MAX_KEY_LEN)?;
    let policy = match trust {
        Trust::Key(_) => String::from_utf8(bytes)
            .map_err(|_| Error::InvalidInput {
                field,
                reason: "not a PEM file (not UTF-8)".into(),
            })
            .and_then(|pem| SignaturePolicy::key_pem(&pem)),
        Trust::CertChain(_) => SignaturePolicy::cert_chain_pem(&bytes),
    };
    policy.map_err(|e| Error::InvalidInput {
        field,
        reason: e.to_string(),
    })
}

/// Reads at most `max` bytes of `path` (more is bad input).
fn read_bounded(field: &'static str, path: &Path, max: usize) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Non-blocking, so that a FIFO or a device is refused, not waited on.
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(Error::InvalidInput {
            field,
            reason: format!("{} is not a regular file", path.display()),
        });
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > max {
        return Err(Error::InvalidInput {
            field,
            reason: format!("{} is over {max} bytes", path.display()),
        });
    }
    Ok(bytes)
}

pub fn run(
    ctx: &Context,
    ids: &[String],
    signature: &Path,
    trust: Trust<'_>,
    ignore_paths: &[String],
) -> Result<ExitCode> {
    let [id] = ids else {
        return Err(Error::InvalidInput {
            field: "--signature",
            reason: "give exactly one model id with --signature".into(),
        });
    };
    let policy = policy(trust)?.ignore_paths(ignore_paths.iter().cloned())?;
    let bundle = read_bounded("--signature", signature, MAX_BUNDLE_LEN)?;
    let catalog = ctx.existing_writer()?;
    let r = catalog.verify_signature_ctx(id, &bundle, &policy, &ctx.op_context("verify"))?;
    let failed = r.outcome.result == VerifyResult::Fail;
    if ctx.json {
        let mut v = entry_json(&r.entry);
        v["fast_path_used"] = json!(r.fast_path_used);
        outln!("{}", json!([v]));
    } else {
        outln!(
            "{id}: signature {}: {}",
            result(r.outcome.result),
            r.outcome.reason
        );
        outln!("trust: {}", trust_line(&r.entry));
        if failed {
            errln!("error: the signature of {id} did not verify");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
