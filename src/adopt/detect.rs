//! Recognising what a path holds: a Hugging Face hub cache, one repository
//! of it, an Ollama models directory, or a plain directory or file.
//!
//! | layout | recognised by |
//! |---|---|
//! | Hugging Face hub cache | a directory with `models--…`, `datasets--…` or `spaces--…` directories, or `.locks/` (or such a `hub/` below it) |
//! | Hugging Face repository | a directory named `models--…` |
//! | Ollama models directory | a directory with `manifests/` and `blobs/` |
//! | GGUF file, file | a regular file (`GGUF` magic or not) |
//! | directory | any other directory: one multi-file model |
//!
//! The path itself may be a symlink (a cache moved to another disk); what
//! is below it is looked at without following any.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The layout recognised at an adopted path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceLayout {
    /// A Hugging Face hub cache (`~/.cache/huggingface/hub`).
    HfCache,
    /// One repository of a hub cache (`models--org--name`).
    HfRepo,
    /// An Ollama models directory (`~/.ollama/models`).
    Ollama,
    /// A plain directory: one multi-file model.
    Directory,
    /// A GGUF file: a one-file model.
    Gguf,
    /// Another file: a one-file model.
    File,
}

impl SourceLayout {
    /// A short name for scripts: `hf-cache`, `hf-repo`, `ollama`,
    /// `directory`, `gguf`, `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceLayout::HfCache => "hf-cache",
            SourceLayout::HfRepo => "hf-repo",
            SourceLayout::Ollama => "ollama",
            SourceLayout::Directory => "directory",
            SourceLayout::Gguf => "gguf",
            SourceLayout::File => "file",
        }
    }

    /// What it is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            SourceLayout::HfCache => "Hugging Face hub cache",
            SourceLayout::HfRepo => "Hugging Face cache repository",
            SourceLayout::Ollama => "Ollama models directory",
            SourceLayout::Directory => "directory (one model)",
            SourceLayout::Gguf => "GGUF file",
            SourceLayout::File => "file (one model)",
        }
    }
}

/// Whether `dir/name` is a directory (not through a symlink).
fn is_dir(dir: &Path, name: &str) -> bool {
    std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_dir())
}

/// Whether `dir` looks like a hub cache: repository folders or `.locks/`.
fn is_hub(dir: &Path) -> Result<bool> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let repo = ["models--", "datasets--", "spaces--"]
            .iter()
            .any(|p| name.starts_with(p));
        if (repo || name == ".locks") && is_dir(dir, &name) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The layout at `path` (made canonical), and the path to scan (for a
/// `~/.cache/huggingface` given, its `hub/`).
pub(crate) fn detect(path: &Path) -> Result<(SourceLayout, PathBuf)> {
    // The path as the catalog resolves a path it is given: absolute, no
    // `..`, a symlink given (a cache moved to another disk) followed only
    // if nobody but root or this user could have put it there; a final
    // symlink to a file kept (it is copied, never linked).
    let path = crate::fs::resolve_named(path).map_err(|e| match e.kind() {
        _ if crate::fs::is_not_beneath(&e) => super::plan::unsafe_source(path, e.to_string()),
        std::io::ErrorKind::NotFound => Error::invalid(
            "path",
            format!(
                "{} does not exist; give a Hugging Face hub cache, an Ollama models directory, \
                 or a model's directory or file",
                path.display()
            ),
        ),
        _ => Error::io(path, e),
    })?;
    let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    if meta.is_file() {
        // Never blocks: a FIFO swapped in since the look is not read.
        let gguf =
            crate::fs::Fs::open_foreign(&crate::fs::StdFs, crate::fs::ForeignPath::named(&path))
                .and_then(|f| {
                    let mut magic = [0u8; 4];
                    std::io::Read::read_exact(&mut f.reader(), &mut magic)?;
                    Ok(magic)
                })
                .is_ok_and(|magic| &magic == b"GGUF");
        let layout = if gguf {
            SourceLayout::Gguf
        } else {
            SourceLayout::File
        };
        return Ok((layout, path));
    }
    if !meta.is_dir() {
        return Err(Error::invalid(
            "path",
            format!(
                "{} is neither a file nor a directory; give a Hugging Face hub cache, an \
                 Ollama models directory, or a model's directory or file",
                path.display()
            ),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("models--") {
        return Ok((SourceLayout::HfRepo, path));
    }
    if name.starts_with("datasets--") || name.starts_with("spaces--") {
        return Err(Error::invalid(
            "path",
            format!(
                "{} is a Hugging Face dataset or space repository, not a model",
                path.display()
            ),
        ));
    }
    if is_dir(&path, "manifests") && is_dir(&path, "blobs") {
        return Ok((SourceLayout::Ollama, path));
    }
    if is_hub(&path)? {
        return Ok((SourceLayout::HfCache, path));
    }
    let hub = path.join("hub");
    if is_dir(&path, "hub") && is_hub(&hub)? {
        return Ok((SourceLayout::HfCache, hub));
    }
    Ok((SourceLayout::Directory, path))
}
