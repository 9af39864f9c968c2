//! The actor a command stores with the records it writes:
//! `<$USER> via catalog <command>`, or `catalog <command>` without a user.
//!
//! `$USER` is whatever the environment holds, so it is fitted, never a
//! reason to refuse a write: bytes that are not UTF-8 are converted (as
//! U+FFFD), control characters become `?`, and a name too long for
//! [`MAX_CONTEXT_LEN`] is cut at a character boundary and marked with `…`.
//! (An explicit `--correlation-id` is the caller's input, and is refused
//! instead.)

use catalog_core::MAX_CONTEXT_LEN;
use std::ffi::OsStr;

/// Marks a user name that was cut.
const CUT: char = '…';

/// The actor for `command` run by `user` (the value of `$USER`, if set).
pub fn actor(user: Option<&OsStr>, command: &str) -> String {
    let tail = format!("catalog {command}");
    let user: String = user
        .map(|u| u.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if user.is_empty() {
        return tail;
    }
    let room = MAX_CONTEXT_LEN.saturating_sub(" via ".len() + tail.len());
    format!("{} via {tail}", fit(&user, room))
}

/// `s` if it has at most `max` bytes; else its longest prefix that ends on
/// a character boundary and leaves room for [`CUT`], followed by it.
fn fit(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(CUT.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_short_name_is_kept_and_no_name_leaves_the_command() {
        assert_eq!(actor(Some(OsStr::new("ana")), "add"), "ana via catalog add");
        assert_eq!(actor(None, "add"), "catalog add");
        assert_eq!(actor(Some(OsStr::new("")), "gc"), "catalog gc");
    }

    #[test]
    fn an_odd_name_is_cleaned_and_cut_to_fit() {
        assert_eq!(
            actor(Some(OsStr::from_bytes(b"a\x1bb\xffc")), "gc"),
            "a?b\u{FFFD}c via catalog gc"
        );
        for user in [
            "x".repeat(300),
            "€".repeat(100),
            format!("a{}", "é".repeat(200)),
        ] {
            let a = actor(Some(OsStr::new(&user)), "retire");
            assert!(a.len() <= MAX_CONTEXT_LEN, "{} bytes: {a}", a.len());
            assert!(
                a.len() > MAX_CONTEXT_LEN - 4,
                "cut no shorter than needed: {a}"
            );
            assert!(a.ends_with("… via catalog retire"), "{a}");
            let kept = a.trim_end_matches("… via catalog retire");
            assert!(user.starts_with(kept), "a prefix of the name: {a}");
        }
        let exact = "x".repeat(MAX_CONTEXT_LEN - " via catalog gc".len());
        assert_eq!(
            actor(Some(OsStr::new(&exact)), "gc").len(),
            MAX_CONTEXT_LEN,
            "a name that just fits is not cut"
        );
    }
}
