//! Refusals an import makes before it touches a file: the two records it
//! will write (`Put`, then `Verify`) must each fit in a journal record
//! (`MAX_PAYLOAD_LEN`, the bound in `journal/fits.rs`). Checked with every
//! size and digest at its widest,
//! an upper bound known before any byte is hashed or moved, so a model
//! with too many files or names too long is refused with nothing moved.

use crate::context::OpContext;
use crate::digest::Digest;
use crate::entry::{EntrySpec, FileFingerprint, ManifestFile, Verification, VerifyResult};
use crate::error::{Error, Result};
use crate::fetch::FetchedModel;
use crate::hashing::verify_digest;
use crate::journal::fits::registration_fits;
use crate::model_ref::ModelRef;
use crate::store::Object;

/// Fails with [`Error::InvalidInput`] if the records an import of `fetched`
/// as `id` writes could be over the record limit, or would be refused.
pub(crate) fn records_fit(
    id: &str,
    source: &ModelRef,
    fetched: &FetchedModel,
    single: bool,
    expected: Option<Digest>,
    ctx: &OpContext,
) -> Result<()> {
    // Digests have a fixed width; sizes and times are varints, widest at MAX.
    let any = Digest::sha256([0xff; 32]);
    let files: Vec<ManifestFile> = if single {
        Vec::new()
    } else {
        fetched
            .files
            .iter()
            .map(|f| ManifestFile::new(f.relative_path.clone(), any, u64::MAX))
            .collect()
    };
    let local = if single {
        Object::Blob(any).rel()
    } else {
        Object::View(any).rel()
    };
    let canonical = crate::model_ref::parse_canonical(&source.canonical())?;
    let spec = EntrySpec::new(id, canonical, local)
        .digest(any)
        .size_bytes(u64::MAX)
        .files(files);
    spec.validate()?;
    let too_large = |e: Error| match e {
        Error::InvalidInput { reason, .. } => Error::invalid(
            "model",
            format!(
                "{} files: its journal record {reason} (too many files, or paths too long); \
                 nothing was moved or written",
                fetched.files.len()
            ),
        ),
        other => other,
    };
    let fingerprint = FileFingerprint::widest(Object::Blob(any).rel());
    let reasons = [
        verify_digest(&any, expected.as_ref()).reason().to_string(),
        verify_digest(&any, Some(&Digest::sha256([0; 32])))
            .reason()
            .to_string(),
    ];
    let reason = reasons
        .into_iter()
        .max_by_key(String::len)
        .unwrap_or_default();
    let outcome = Verification {
        result: VerifyResult::Fail,
        reason,
        actual: Some(any),
        bytes: u64::MAX,
        duration_ms: u64::MAX,
        files: vec![fingerprint; fetched.files.len().max(1)],
    };
    outcome.validate()?;
    registration_fits(spec, outcome, ctx).map_err(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::SourceFile;
    use crate::journal::record::MAX_PAYLOAD_LEN;

    fn model(files: usize, name_len: usize) -> FetchedModel {
        FetchedModel {
            is_directory: true,
            files: (0..files)
                .map(|i| SourceFile {
                    relative_path: format!("{i:05}{}", "x".repeat(name_len - 5)),
                    path: format!("/src/{i}").into(),
                    size: 1,
                })
                .collect(),
        }
    }

    #[test]
    fn the_bound_refuses_what_would_not_fit_and_passes_real_models() {
        let source = ModelRef::parse("file:/src").unwrap();
        let ctx = OpContext::default();
        assert!(records_fit("m", &source, &model(20, 40), false, None, &ctx).is_ok());
        let err = records_fit("m", &source, &model(4096, 245), false, None, &ctx).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "model", .. }),
            "{err}"
        );
        // Not too cautious: ~70% of the limit passes.
        let per_file = 2 + 200 + 32 + 10;
        assert!(3000 * per_file < MAX_PAYLOAD_LEN * 3 / 4);
        assert!(records_fit("m", &source, &model(3000, 200), false, None, &ctx).is_ok());
    }
}
