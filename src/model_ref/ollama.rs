//! `ollama:[host/][namespace/]model[:tag]`: a model of an Ollama registry,
//! as Ollama names it.
//!
//! The parts are those of Ollama's own model names (its
//! `types/model/name.go`): a host, a namespace, a model and a tag, each 1
//! to [`MAX_OLLAMA_PART_LEN`] ASCII letters, digits, `_`, `-` and `.` (no
//! `.` in a namespace), never `..`. Missing parts take Ollama's defaults:
//! host `registry.ollama.ai`, namespace `library`, tag `latest`; the
//! canonical form always names all four
//! (`ollama:registry.ollama.ai/library/llama3:8b`). Case is preserved and
//! compared exactly. Stricter than Ollama: a part may not start with `.`
//! (a manifest's file name would be hidden, or `.` itself), and a build
//! (`+Q4_0`) or digest (`@sha256-…`) suffix is refused — a reference names
//! a tag. A part is also the name of a directory under Ollama's
//! `manifests/`, so none can contain `/` or be `..`.

use super::reference::ModelRef;
use super::text::{invalid, quote};
use crate::Result;

/// Longest part Ollama accepts (`MaxNamePartLen`).
pub(super) const MAX_OLLAMA_PART_LEN: usize = 128;
/// Ollama's default registry host.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// Ollama's default namespace.
pub const DEFAULT_NAMESPACE: &str = "library";
/// Ollama's default tag.
pub const DEFAULT_TAG: &str = "latest";

/// Which part of a name, for messages and the namespace rule.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Host,
    Namespace,
    Model,
    Tag,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Host => "host",
            Part::Namespace => "namespace",
            Part::Model => "model",
            Part::Tag => "tag",
        }
    }
}

/// Parses what follows `ollama:`.
pub(super) fn parse(rest: &str) -> Result<ModelRef> {
    if rest.starts_with("//") {
        return Err(invalid(
            "Ollama references are written `ollama:[host/][namespace/]model[:tag]`, without `//`",
        ));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let (host, namespace, last) = match parts.as_slice() {
        [last] => (DEFAULT_HOST, DEFAULT_NAMESPACE, *last),
        [namespace, last] => (DEFAULT_HOST, *namespace, *last),
        [host, namespace, last] => (*host, *namespace, *last),
        _ => {
            return Err(invalid(
                "an Ollama reference has at most three `/`-separated parts: \
                 ollama:host/namespace/model:tag",
            ));
        }
    };
    let (model, tag) = match last.split_once(':') {
        Some((model, tag)) => (model, tag),
        None => (last, DEFAULT_TAG),
    };
    check_part(Part::Host, host)?;
    check_part(Part::Namespace, namespace)?;
    check_part(Part::Model, model)?;
    check_part(Part::Tag, tag)?;
    Ok(ModelRef::Ollama {
        host: host.to_owned(),
        namespace: namespace.to_owned(),
        model: model.to_owned(),
        tag: tag.to_owned(),
    })
}

/// Checks one part of an Ollama name (also a directory name under
/// `manifests/`).
pub(crate) fn check_part(part: Part, value: &str) -> Result<()> {
    let what = part.name();
    if value.is_empty() {
        return Err(invalid(format!(
            "the Ollama {what} is empty; write ollama:[host/][namespace/]model[:tag]"
        )));
    }
    if value.len() > MAX_OLLAMA_PART_LEN {
        return Err(invalid(format!(
            "the Ollama {what} is {} bytes long, at most {MAX_OLLAMA_PART_LEN}",
            value.len()
        )));
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || (c == '.' && part != Part::Namespace)
    };
    if let Some(c) = value.chars().find(|&c| !allowed(c)) {
        return Err(invalid(format!(
            "the Ollama {what} {} contains {c:?}; Ollama names use ASCII letters, digits, `_`, \
             `-` and `.` (not in a namespace)",
            quote(value)
        )));
    }
    if value.starts_with('.') || value.contains("..") {
        return Err(invalid(format!(
            "the Ollama {what} {} starts with `.` or contains `..`",
            quote(value)
        )));
    }
    Ok(())
}

/// `ollama:host/namespace/model:tag`.
pub(super) fn render(host: &str, namespace: &str, model: &str, tag: &str) -> String {
    format!("ollama:{host}/{namespace}/{model}:{tag}")
}

/// The suggested catalog id: `model:tag`, with the namespace in front when
/// it is not `library` (`namespace/model:tag`), and the host too when it is
/// not Ollama's registry.
pub(super) fn default_id(host: &str, namespace: &str, model: &str, tag: &str) -> String {
    match (host == DEFAULT_HOST, namespace == DEFAULT_NAMESPACE) {
        (true, true) => format!("{model}:{tag}"),
        (true, false) => format!("{namespace}/{model}:{tag}"),
        (false, _) => format!("{host}/{namespace}/{model}:{tag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_take_ollamas_defaults() {
        for (input, canonical) in [
            ("llama3", "ollama:registry.ollama.ai/library/llama3:latest"),
            ("llama3:8b", "ollama:registry.ollama.ai/library/llama3:8b"),
            ("me/tiny:q4_0", "ollama:registry.ollama.ai/me/tiny:q4_0"),
            ("h.example/ns/m:v1.2", "ollama:h.example/ns/m:v1.2"),
        ] {
            let r = parse(input).unwrap();
            assert_eq!(r.canonical(), canonical, "{input}");
            assert_eq!(
                ModelRef::parse(&r.canonical()).unwrap(),
                r,
                "{input} round-trips"
            );
        }
    }

    #[test]
    fn parts_follow_ollamas_rules_and_never_make_a_path() {
        for bad in [
            "",
            "a/b/c/d",
            "../x",
            "ns/..",
            "x:..",
            ".hidden",
            "n.s/m",
            "m:t:u",
            "m+Q4_0",
            "m@sha256-ab",
            "m:",
            "/m",
            "m/",
            "é",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let long = "a".repeat(MAX_OLLAMA_PART_LEN + 1);
        assert!(parse(&long).is_err());
        assert!(parse(&"a".repeat(MAX_OLLAMA_PART_LEN)).is_ok());
    }

    #[test]
    fn default_ids_show_what_is_not_a_default() {
        assert_eq!(default_id(DEFAULT_HOST, DEFAULT_NAMESPACE, "m", "t"), "m:t");
        assert_eq!(default_id(DEFAULT_HOST, "me", "m", "t"), "me/m:t");
        assert_eq!(default_id("h.io", "me", "m", "t"), "h.io/me/m:t");
    }
}
