//! Durable publication of a whole file: temp → fsync → rename → fsync dir.

use super::Fs;
use crate::error::{Error, Result};
use std::path::Path;

/// Suffix of files being written before their atomic rename. Stray ones are
/// leftovers of a crash and are removed by the writer at open.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `dir/name` so that after a crash the file is either
/// absent (or its previous version) or complete: the bytes go to
/// `dir/name.tmp`, which is fsynced, renamed over `name`, and then the
/// directory is fsynced.
pub fn publish_file(fs: &dyn Fs, dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}{TEMP_SUFFIX}"));
    let dst = dir.join(name);
    let mut file = fs.create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    file.sync_data().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    fs.rename(&tmp, &dst).map_err(|e| Error::io(&dst, e))?;
    fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    Ok(())
}
