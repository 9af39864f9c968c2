//! The [`ModelRef`] type itself: its parsers (`hf.rs`, `ollama.rs`,
//! `path.rs`, `url.rs`) build it, and `mod.rs` parses and renders it.

use super::url::ModelUrl;
use std::path::PathBuf;

/// Where a model came from: a Hugging Face repository, a local file or
/// directory, a URL, or an Ollama registry's model.
///
/// Parse one with [`ModelRef::parse`] (or `str::parse`), or with
/// [`ModelRef::parse_with_base`] to also accept relative paths. Its
/// `Display` form is [`canonical`](ModelRef::canonical): normalized and
/// redacted. Equality compares the parsed parts exactly, secrets included.
///
/// ```
/// use catalog_core::{Error, ModelRef};
/// use std::path::Path;
///
/// let hf: ModelRef = "HF:Qwen/Qwen2-7B-Instruct@main//q4/./model.gguf/".parse()?;
/// assert_eq!(hf.kind(), "hf");
/// assert_eq!(hf.canonical(), "hf:Qwen/Qwen2-7B-Instruct@main/q4/model.gguf");
/// assert_eq!(hf.default_id(), "Qwen--Qwen2-7B-Instruct@main--q4--model.gguf");
/// assert_eq!(ModelRef::parse(&hf.canonical())?, hf);
///
/// let local = ModelRef::parse_with_base("models/x.gguf", Path::new("/srv"))?;
/// assert_eq!(local.to_string(), "file:/srv/models/x.gguf");
///
/// let url = ModelRef::parse("HTTPS://user:s3cret@Example.com:443/m.gguf?token=abc")?;
/// assert_eq!(url.canonical(), "https://***@example.com/m.gguf?token=REDACTED");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// if let ModelRef::Url(u) = &url {
///     assert!(u.expose_with_credentials().contains("user:s3cret@"));
/// }
///
/// let err = ModelRef::parse("hf:org/../x").unwrap_err();
/// assert!(matches!(err, Error::InvalidInput { field: "model_ref", .. }));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelRef {
    /// A Hugging Face Hub repository, or one file in it.
    #[non_exhaustive]
    HuggingFace {
        /// The user or organization, case preserved.
        org: String,
        /// The repository name, case preserved.
        repo: String,
        /// The branch, tag or commit, if one was given.
        revision: Option<String>,
        /// A normalized `/`-separated path inside the repository (no
        /// leading or trailing `/`), if one was given.
        path: Option<String>,
    },
    /// A local file or directory.
    #[non_exhaustive]
    File {
        /// Always absolute and normalized (see the module docs).
        path: PathBuf,
    },
    /// An `http`, `https`, `s3` or `oci` URL.
    Url(ModelUrl),
    /// A model of an Ollama registry, with every part named (missing parts
    /// were filled with Ollama's defaults).
    #[non_exhaustive]
    Ollama {
        /// The registry host (`registry.ollama.ai` by default).
        host: String,
        /// The namespace (`library` by default).
        namespace: String,
        /// The model name.
        model: String,
        /// The tag (`latest` by default).
        tag: String,
    },
}
