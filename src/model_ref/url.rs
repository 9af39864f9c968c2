//! `http://`, `https://`, `s3://` and `oci://` references: a small URL
//! parser for exactly what model references need.
//!
//! `scheme://[userinfo@]host[:port][/path][?query][#fragment]`, where
//!
//! - the host is a DNS name (ASCII letters, digits, `-`, `_`; labels of 1
//!   to 63, at most 253 in all), an IPv4 address or a bracketed IPv6
//!   address, and is lowercased (IPv6 in its compressed form);
//! - the port is 1..=65535 without a sign; leading zeros and the default
//!   port (80 for http, 443 for https) are dropped; `s3://` has no port;
//! - the path is kept as given (no percent-decoding), except that the
//!   trailing `/` is removed and, for http(s) and oci, `.` segments are
//!   removed; duplicate `/` are kept (servers and S3 keys may distinguish
//!   them); a `..` segment, also written `%2e%2e`, is refused;
//! - an empty query or fragment is dropped;
//! - white space and backslashes are refused anywhere: percent-encode them.
//!
//! `oci://registry/repository[:tag|@algorithm:hex]` additionally needs a
//! lowercase repository, a valid tag or `sha256`/`sha512` digest, and no
//! query or fragment.

use super::text::invalid;
use super::{redact, tokens};
use crate::Result;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest DNS name accepted as a host.
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;
/// Longest OCI tag.
const MAX_TAG_LEN: usize = 128;

/// A parsed `http`, `https`, `s3` or `oci` URL.
///
/// It keeps any user information (`user:password@`), path parameters, query
/// string and fragment exactly, so a fetcher can use them through
/// [`expose_with_credentials`](ModelUrl::expose_with_credentials); its
/// `Display` and `Debug` forms are redacted (see `docs/MODEL_REF.md` §4).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ModelUrl {
    scheme: &'static str,
    userinfo: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl ModelUrl {
    /// The scheme, lowercase: `http`, `https`, `s3` or `oci`.
    pub fn scheme(&self) -> &str {
        self.scheme
    }

    /// The host, lowercase (a bucket for `s3`, a registry for `oci`); an
    /// IPv6 address keeps its brackets. Not redacted (a token shape in a
    /// host name is kept for the fetcher); `Display` shows the redacted URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when one other than the scheme's default was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The normalized path: empty, or starting with `/` and not ending with
    /// one. For `s3` it is `/` followed by the object key. Not redacted:
    /// path parameters (`;jsessionid=…`) are kept for the fetcher, so never
    /// log or show it; `Display` shows the redacted URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// **The full URL including its secrets**: user name, password and
    /// every query parameter value, exactly as given (after normalization).
    ///
    /// Only for handing to the code that fetches the model. Never log it,
    /// print it, store it in the catalog or put it in an error message;
    /// use `Display` (or [`ModelRef::canonical`](super::ModelRef::canonical))
    /// for all of that.
    pub fn expose_with_credentials(&self) -> String {
        self.render(false)
    }

    /// The URL as text, redacted unless `redact` is false.
    pub(super) fn render(&self, redact: bool) -> String {
        let mut out = format!("{}://", self.scheme);
        if let Some(userinfo) = &self.userinfo {
            out.push_str(if redact { "***" } else { userinfo });
            out.push('@');
        }
        out.push_str(&self.host);
        if let Some(port) = self.port {
            out.push(':');
            out.push_str(&port.to_string());
        }
        if redact {
            out.push_str(&redact::redact_path_params(&self.path));
        } else {
            out.push_str(&self.path);
        }
        for (mark, part) in [('?', &self.query), ('#', &self.fragment)] {
            if let Some(part) = part {
                out.push(mark);
                if redact {
                    out.push_str(&redact::redact_params(part));
                } else {
                    out.push_str(part);
                }
            }
        }
        if redact {
            out = tokens::scrub_tokens(&out);
        }
        out
    }

    /// The last non-empty segment of the redacted path, or the host (token
    /// shapes are scrubbed by the caller).
    pub(super) fn id_hint(&self) -> String {
        let path = redact::redact_path_params(&self.path);
        path.rsplit('/')
            .find(|segment| !segment.is_empty())
            .unwrap_or(&self.host)
            .to_owned()
    }
}

impl fmt::Display for ModelUrl {
    /// The redacted URL: user information as `***`, every parameter value
    /// not on the shown list as `REDACTED`, token shapes scrubbed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(true))
    }
}

impl fmt::Debug for ModelUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ModelUrl").field(&self.render(true)).finish()
    }
}

/// Parses what follows `scheme:`; `scheme` is already lowercase and one of
/// the supported ones.
pub(super) fn parse(scheme: &'static str, rest: &str) -> Result<ModelUrl> {
    let Some(after) = rest.strip_prefix("//") else {
        return Err(invalid(format!("write `{scheme}://` followed by a host")));
    };
    if after.contains(char::is_whitespace) {
        return Err(invalid(
            "a URL cannot contain white space; percent-encode it (`%20`)",
        ));
    }
    if after.contains('\\') {
        return Err(invalid(
            "a URL cannot contain a backslash; use `/`, or percent-encode it (`%5C`)",
        ));
    }
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo).filter(|u| !u.is_empty()), host_port),
        None => (None, authority),
    };
    let (host, port) = parse_host_port(scheme, host_port).map_err(|reason| {
        let hint = if tail.contains('@') {
            " (if the URL carries credentials, percent-encode `/`, `?` and `#` in them)"
        } else {
            ""
        };
        invalid(format!("{reason}{hint}"))
    })?;

    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (tail, None),
    };
    let (raw_path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    let path = normalize_path(scheme, raw_path)?;
    let query = query.filter(|q| !q.is_empty()).map(str::to_owned);
    let fragment = fragment.filter(|f| !f.is_empty()).map(str::to_owned);
    if scheme == "oci" {
        if query.is_some() || fragment.is_some() {
            return Err(invalid(
                "an oci:// reference has no query or fragment; write \
                 oci://registry/repository:tag or oci://registry/repository@sha256:<hex>",
            ));
        }
        check_oci_reference(&path)?;
    }
    Ok(ModelUrl {
        scheme,
        userinfo: userinfo.map(str::to_owned),
        host,
        port,
        path,
        query,
        fragment,
    })
}

/// Splits and checks `host[:port]`. Errors are reasons only, and never
/// quote the input: when a password contains an unencoded `/`, what looks
/// like the host and port is really part of the credentials.
fn parse_host_port(
    scheme: &str,
    host_port: &str,
) -> std::result::Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err("an IPv6 host has no closing `]`".into());
        };
        let addr: Ipv6Addr = inside
            .parse()
            .map_err(|_| "the bracketed host is not an IPv6 address".to_string())?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("unexpected text after `]`")?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        (check_host(scheme, host)?, port)
    };
    let port = match port {
        None => None,
        Some(_) if scheme == "s3" => {
            return Err("an s3:// reference has no port: write s3://bucket/key".into());
        }
        Some(text) => match (scheme, parse_port(text)?) {
            ("http", 80) | ("https", 443) => None,
            (_, port) => Some(port),
        },
    };
    Ok((host, port))
}

/// Checks a DNS name or IPv4 address and lowercases it.
fn check_host(scheme: &str, host: &str) -> std::result::Result<String, String> {
    let what = if scheme == "s3" { "bucket" } else { "host" };
    if host.is_empty() {
        return Err(format!("the {what} is empty; write {scheme}://{what}/…"));
    }
    if !host.is_ascii() {
        return Err(format!(
            "the {what} is not ASCII; write an internationalized name in its \
             `xn--` (punycode) form"
        ));
    }
    if host.len() > MAX_HOST_LEN {
        return Err(format!(
            "the {what} is {} bytes long, at most {MAX_HOST_LEN}",
            host.len()
        ));
    }
    let host = host.to_ascii_lowercase();
    for label in host.split('.') {
        if let Some(c) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        {
            return Err(format!(
                "the {what} contains {c:?}; a host is letters, digits, `-`, `_` and `.`"
            ));
        }
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(format!(
                "the {what} has an empty or over-long ({MAX_LABEL_LEN}+) part between dots"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "a part of the {what} between dots starts or ends with `-`"
            ));
        }
    }
    let numeric = host
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if numeric && host.parse::<Ipv4Addr>().is_err() {
        return Err(format!("the {what} is all digits but not an IPv4 address"));
    }
    Ok(host)
}

/// Parses a port: 1 to 5 ASCII digits, value 1..=65535.
fn parse_port(text: &str) -> std::result::Result<u16, String> {
    if text.is_empty() {
        return Err("the port after `:` is empty; give one in 1..=65535 or drop the `:`".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the port after `:` is not a number in 1..=65535".into());
    }
    match text.trim_start_matches('0').parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("the port after `:` is out of range; ports are 1..=65535".into()),
    }
}

/// Normalizes a URL path (empty or starting with `/`).
fn normalize_path(scheme: &str, raw: &str) -> Result<String> {
    let mut segments = Vec::new();
    for segment in raw.split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == ".." {
            return Err(invalid(
                "the URL path contains a `..` segment (or `%2e%2e`); `..` is refused \
                 rather than resolved: give the path without it",
            ));
        }
        if decoded == "." && scheme != "s3" {
            continue;
        }
        segments.push(segment);
    }
    let mut path = segments.join("/");
    if !path.is_empty() && !path.starts_with('/') {
        path.insert(0, '/');
    }
    Ok(path.trim_end_matches('/').to_owned())
}

/// Checks `/repository[:tag]` or `/repository@algorithm:hex`.
fn check_oci_reference(path: &str) -> Result<()> {
    const FORMS: &str =
        "write oci://registry/repository:tag or oci://registry/repository@sha256:<64 hex digits>";
    let reference = path.strip_prefix('/').unwrap_or(path);
    if reference.is_empty() {
        return Err(invalid(format!(
            "an oci:// reference needs a repository; {FORMS}"
        )));
    }
    let (name, tag_or_digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(Err(digest))),
        None => match reference.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(Ok(tag))),
            _ => (reference, None),
        },
    };
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    if !name.split('/').all(component_ok) {
        return Err(invalid(format!(
            "the OCI repository must be lowercase letters, digits, `.`, `_`, `-` and `/` \
             with no empty parts; {FORMS}"
        )));
    }
    match tag_or_digest {
        None => Ok(()),
        Some(Ok(tag)) => {
            let ok = tag.len() <= MAX_TAG_LEN
                && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if ok {
                Ok(())
            } else {
                Err(invalid(format!(
                    "the OCI tag must be 1 to {MAX_TAG_LEN} letters, digits, `.`, `_` and \
                     `-`, not starting with `.` or `-`"
                )))
            }
        }
        Some(Err(digest)) => {
            let ok = match digest.split_once(':') {
                Some(("sha256", hex)) => is_lower_hex(hex, 64),
                Some(("sha512", hex)) => is_lower_hex(hex, 128),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(invalid(format!(
                    "the OCI digest must be sha256:<64 lowercase hex digits> or \
                     sha512:<128 lowercase hex digits>; {FORMS}"
                )))
            }
        }
    }
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_one_to_65535_and_defaults_are_dropped() {
        assert_eq!(parse_port("8080"), Ok(8080));
        assert_eq!(parse_port("00080"), Ok(80));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in [
            "",
            "0",
            "000",
            "65536",
            "99999999999999999999",
            "+1",
            "-1",
            "8a",
        ] {
            assert!(parse_port(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_host_port("http", "h:80").map(|(_, p)| p), Ok(None));
        assert_eq!(parse_host_port("https", "h:443").map(|(_, p)| p), Ok(None));
        assert_eq!(
            parse_host_port("http", "h:443").map(|(_, p)| p),
            Ok(Some(443))
        );
        assert!(parse_host_port("s3", "bucket:1").is_err(), "s3 has no port");
    }

    #[test]
    fn hosts_are_checked_and_lowercased() {
        assert_eq!(
            check_host("https", "Hub.Example.COM"),
            Ok("hub.example.com".into())
        );
        assert_eq!(check_host("https", "10.0.0.1"), Ok("10.0.0.1".into()));
        assert_eq!(check_host("https", "my_registry"), Ok("my_registry".into()));
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "-a.b",
            "a-.b",
            "a!b",
            "a%20b",
            "ünï.de",
            "1.2.3.999",
        ] {
            assert!(check_host("https", bad).is_err(), "{bad:?}");
        }
        assert!(
            check_host("https", &"a".repeat(64)).is_err(),
            "label too long"
        );
        assert!(
            check_host("https", &["a"; 127].join(".")).is_ok(),
            "253 bytes"
        );
        assert!(
            check_host("https", &["a"; 128].join(".")).is_err(),
            "255 bytes"
        );
        assert_eq!(
            parse_host_port("https", "[0:0::1]:8443"),
            Ok(("[::1]".to_string(), Some(8443)))
        );
        for bad in ["[::1", "[nope]", "[::1]x", "[::1]:"] {
            assert!(parse_host_port("https", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_lose_dot_segments_and_trailing_slashes_but_keep_double_slashes() {
        assert_eq!(normalize_path("https", "/a//./b/").expect("ok"), "/a//b");
        assert_eq!(normalize_path("https", "/").expect("ok"), "");
        assert_eq!(normalize_path("https", "").expect("ok"), "");
        assert_eq!(normalize_path("s3", "/a/./b//").expect("ok"), "/a/./b");
        for bad in ["/a/../b", "/%2e%2e/x", "/.%2E", "/.."] {
            assert!(normalize_path("https", bad).is_err(), "{bad}");
            assert!(normalize_path("s3", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oci_references_need_a_repository_and_a_valid_tag_or_digest() {
        let digest = format!("/library/llama@sha256:{}", "ab".repeat(32));
        for ok in ["/repo", "/org/repo:v1.0", "/repo:latest", digest.as_str()] {
            assert!(check_oci_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/",
            "/Repo:v1",
            "/org//repo",
            "/repo:",
            "/repo:.x",
            "/repo@sha256:abc",
            "/repo@md5:00",
            "/repo@",
        ] {
            assert!(check_oci_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rendering_redacts_unless_asked_not_to() {
        let url = parse("https", "//u:p4ss@H:443/a;sid=9?token=t0k&x=1&dl=1#frag").expect("valid");
        assert_eq!(
            url.render(true),
            "https://***@h/a;sid=REDACTED?token=REDACTED&x=REDACTED&dl=1#REDACTED"
        );
        assert_eq!(
            url.expose_with_credentials(),
            "https://u:p4ss@h/a;sid=9?token=t0k&x=1&dl=1#frag"
        );
        assert_eq!(url.id_hint(), "a;sid=REDACTED");
    }
}
