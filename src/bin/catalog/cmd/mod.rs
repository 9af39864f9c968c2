//! One module per command.

pub mod add;
pub mod adopt;
pub mod check;
pub mod compact;
pub mod delete;
pub mod demo;
pub mod events;
pub mod evict;
#[cfg(feature = "nats")]
pub mod export;
#[cfg(feature = "nats")]
pub mod fleet;
pub mod gc;
pub mod head;
pub mod history;
pub mod lifecycle;
pub mod list;
#[cfg(feature = "nats")]
pub mod nats;
pub mod progress;
pub mod repair;
pub mod show;
pub mod verify;
#[cfg(feature = "signature")]
pub mod verify_signature;

use catalog_core::{Catalog, Error, OpContext, Options, Result};
use std::path::PathBuf;

/// What every command needs: where the catalog is, how to print, and what
/// to store as the context of the records it writes.
pub struct Context {
    pub root: PathBuf,
    pub json: bool,
    correlation_id: Option<String>,
}

impl Context {
    /// From the global options: `--root` (else `$CATALOG_ROOT`, else the
    /// default root), `--json`, `--correlation-id`.
    pub fn new(
        root: Option<&std::path::Path>,
        json: bool,
        correlation_id: Option<&str>,
    ) -> Result<Self> {
        let root = match (root, std::env::var_os("CATALOG_ROOT")) {
            (Some(root), _) => root.to_path_buf(),
            (None, Some(root)) if !root.is_empty() => PathBuf::from(root),
            _ => default_root()?,
        };
        // A bad `--correlation-id` is bad input: refused before anything
        // is opened or created (the library would refuse it only later).
        if let Some(id) = correlation_id {
            OpContext::new().correlation_id(id).validate()?;
        }
        Ok(Context {
            root,
            json,
            correlation_id: correlation_id.map(str::to_owned),
        })
    }

    /// Opens the catalog for writing, creating it if needed (`add`, `demo`).
    pub fn writer(&self) -> Result<Catalog> {
        Catalog::open(&self.root)
    }

    /// Opens an existing catalog for writing: a command that changes a model
    /// must not create an empty catalog as a side effect of a typo in
    /// `--root`.
    pub fn existing_writer(&self) -> Result<Catalog> {
        // Creates nothing, not even the lock file, where no catalog is.
        Catalog::open_with(&self.root, Options::default().create_if_missing(false))
    }

    /// Opens the catalog read-only (it must exist).
    pub fn reader(&self) -> Result<Catalog> {
        Catalog::open_read_only_with(&self.root, Options::default())
    }

    /// The context stored with the records `command` writes: the
    /// `--correlation-id`, and `catalog <command>` (with `$USER`, fitted:
    /// see `actor`) as actor.
    pub fn op_context(&self, command: &str) -> OpContext {
        let user = std::env::var_os("USER");
        let ctx = OpContext::new().actor(crate::actor::actor(user.as_deref(), command));
        match &self.correlation_id {
            Some(id) => ctx.correlation_id(id.clone()),
            None => ctx,
        }
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
