//! Store files a command could not remove or sync (`evict`, `delete`,
//! `gc`): each is named on stderr and the command exits 1. Its record is
//! written and its report printed all the same; a later `gc` retries.

use std::path::PathBuf;
use std::process::ExitCode;

/// The exit code of a command whose removals failed on `errors`: 0 if
/// none did, else 1.
pub fn exit_code(errors: &[(PathBuf, String)]) -> ExitCode {
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Names every failure on stderr, then says what it means; returns
/// [`exit_code`].
pub fn report(errors: &[(PathBuf, String)]) -> ExitCode {
    for (path, error) in errors {
        errln!("error: {}: {error}", path.display());
    }
    if !errors.is_empty() {
        errln!(
            "error: {} store file{} or director{} could not be removed or synced; \
             the catalog record is written, and `catalog gc` retries",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            if errors.len() == 1 { "y" } else { "ies" }
        );
    }
    exit_code(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_failed_removal_or_sync_is_exit_1() {
        assert_eq!(exit_code(&[]), ExitCode::SUCCESS);
        let one = vec![(PathBuf::from("/r/blobs/sha256/ab"), "EIO".to_string())];
        assert_eq!(exit_code(&one), ExitCode::from(1));
        let two = vec![
            (PathBuf::from("/r/views/cd"), "EPERM".to_string()),
            (PathBuf::from("/r/blobs"), "fsync: EIO".to_string()),
        ];
        assert_eq!(exit_code(&two), ExitCode::from(1));
    }
}
