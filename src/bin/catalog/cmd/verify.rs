//! `catalog verify [<id>...|--all] [--expect sha256:HEX] [--fast]`, and
//! `catalog verify <id> --signature model.sig --key pub.pem` (an OpenSSF
//! Model Signing signature, `signature` feature).

use super::Context;
use super::add::parse_digest;
use super::progress::Progress;
use crate::output::{entry_json, human_size, result, table, trust};
use catalog_core::{Digest, Error, Result, VerifyOptions, VerifyResult};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[cfg_attr(
    feature = "signature",
    command(group(clap::ArgGroup::new("trust").args(["key", "cert_chain"])))
)]
pub struct Args {
    /// The models to verify.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    ids: Vec<String>,
    /// Verify every model in the catalog.
    #[arg(long)]
    all: bool,
    /// The digest the model must have [default: the one it was registered
    /// with]; only with a single id.
    #[arg(long, value_name = "sha256:HEX", value_parser = parse_digest, conflicts_with = "all")]
    expect: Option<Digest>,
    /// Skip hashing a file whose size, modification time and inode are
    /// unchanged since the last passing verification (not a proof: without
    /// it, every byte is re-hashed).
    #[arg(long)]
    fast: bool,
    /// Verify this OpenSSF Model Signing signature (a Sigstore bundle, as
    /// `model_signing sign` writes it) against the model's recorded
    /// digests; only with a single id, and with --key.
    #[cfg(feature = "signature")]
    #[arg(long, value_name = "FILE", requires = "trust", conflicts_with_all = ["all", "expect"])]
    signature: Option<std::path::PathBuf>,
    /// Trust the signer's public key (PEM, EC P-256, P-384 or P-521).
    #[cfg(feature = "signature")]
    #[arg(
        long,
        value_name = "FILE",
        requires = "signature",
        conflicts_with = "cert_chain"
    )]
    key: Option<std::path::PathBuf>,
    /// Trust certificates that chain to these roots (PEM; validated at the
    /// leaf's notBefore, as model-signing does).
    #[cfg(feature = "signature")]
    #[arg(long, value_name = "FILE", requires = "signature")]
    cert_chain: Option<std::path::PathBuf>,
    /// A path of the model (a file or directory, relative to it) that is not
    /// part of the signed model, as `model_signing verify --ignore-paths`;
    /// repeatable.
    #[cfg(feature = "signature")]
    #[arg(long, value_name = "PATH", requires = "signature")]
    ignore_paths: Vec<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<ExitCode> {
    #[cfg(feature = "signature")]
    if let Some(sig) = &args.signature {
        let trust = match (&args.key, &args.cert_chain) {
            (Some(key), _) => super::verify_signature::Trust::Key(key),
            (None, Some(roots)) => super::verify_signature::Trust::CertChain(roots),
            (None, None) => {
                return Err(Error::InvalidInput {
                    field: "--signature",
                    reason: "give --key or --cert-chain: whom to trust".into(),
                });
            }
        };
        return super::verify_signature::run(ctx, &args.ids, sig, trust, &args.ignore_paths);
    }
    if args.expect.is_some() && args.ids.len() != 1 {
        return Err(Error::InvalidInput {
            field: "--expect",
            reason: "give exactly one model id with --expect".into(),
        });
    }
    let catalog = ctx.existing_writer()?;
    // Resolve every id before hashing anything: an unknown id is bad input
    // and nothing is recorded.
    let ids: Vec<String> = if args.all {
        catalog.list_shared().iter().map(|e| e.id.clone()).collect()
    } else {
        args.ids.clone()
    };
    let mut opts = VerifyOptions::default()
        .fast_path(args.fast)
        .context(ctx.op_context("verify"));
    if let Some(d) = args.expect {
        opts = opts.expected(d);
    }
    // A file several models share is hashed once: the bar counts each
    // distinct file once.
    let plan = catalog.plan_verify(&ids, opts)?;
    let bar = Progress::bytes(plan.bytes_to_hash(), "verifying");
    let total_models = plan.len();
    let mut reports = Vec::with_capacity(total_models);
    // A model that cannot be verified at all (for example an unsafe stored
    // path) is reported and counted as a failure; the others still run.
    let mut errors = Vec::new();
    let outcomes = plan.run(&mut |id| bar.set_label(&format!("verifying {id}")), &|n| {
        bar.inc(n)
    });
    for (id, outcome) in outcomes {
        match outcome {
            Ok(r) => reports.push(r),
            Err(err) => errors.push((id, err)),
        }
    }
    bar.finish();
    let failed = reports
        .iter()
        .filter(|r| r.outcome.result == VerifyResult::Fail)
        .count()
        + errors.len();
    if ctx.json {
        let items: Vec<_> = reports
            .iter()
            .map(|r| {
                let mut v = entry_json(&r.entry);
                v["fast_path_used"] = json!(r.fast_path_used);
                v
            })
            .chain(errors.iter().map(|(id, err)| {
                json!({ "id": id, "error": err.to_string(), "exit_code": crate::exit_code(err) })
            }))
            .collect();
        outln!("{}", serde_json::Value::Array(items));
    } else if total_models == 0 {
        outln!("the catalog is empty; nothing to verify");
    } else {
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                vec![
                    r.entry.id.clone(),
                    result(r.outcome.result).to_string(),
                    trust(r.entry.trust).to_string(),
                    if r.fast_path_used {
                        "unchanged".into()
                    } else {
                        human_size(r.outcome.bytes)
                    },
                    format!("{} ms", r.outcome.duration_ms),
                    r.outcome.reason.clone(),
                ]
            })
            .collect();
        table(
            &["ID", "RESULT", "TRUST", "HASHED", "TIME", "REASON"],
            &rows,
        );
        for (id, err) in &errors {
            errln!("error: {id}: {err}");
        }
        if failed > 0 {
            errln!(
                "error: {failed} of {} verification{} failed",
                total_models,
                if total_models == 1 { "" } else { "s" }
            );
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
