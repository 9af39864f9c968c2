//! One module per command.

pub mod compact;
pub mod delete;
pub mod demo;
pub mod head;
pub mod lifecycle;
pub mod list;
pub mod repair;
pub mod show;

use catalog_core::{Catalog, Error, Options, Result};
use std::path::PathBuf;

/// What every command needs: where the catalog is and how to print.
pub struct Context {
    pub root: PathBuf,
    pub json: bool,
}

impl Context {
    pub fn new(cli: &crate::Cli) -> Result<Self> {
        let root = match (&cli.root, std::env::var_os("CATALOG_ROOT")) {
            (Some(root), _) => root.clone(),
            (None, Some(root)) if !root.is_empty() => PathBuf::from(root),
            _ => default_root()?,
        };
        Ok(Context {
            root,
            json: cli.json,
        })
    }

    /// Opens the catalog for writing (creating it if needed).
    pub fn writer(&self) -> Result<Catalog> {
        Catalog::open(&self.root)
    }

    /// Opens the catalog read-only (it must exist).
    pub fn reader(&self) -> Result<Catalog> {
        Catalog::open_read_only_with(&self.root, Options::default())
    }
}

/// `~/.cache/models`.
fn default_root() -> Result<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".cache/models")),
        _ => Err(Error::InvalidInput {
            field: "root",
            reason: "HOME is not set; pass --root or set CATALOG_ROOT".into(),
        }),
    }
}
