//! No 8+ character value of a parameter survives: the fuzzer builds a
//! reference (a prefix, a fuzzed path, then path parameters, a query and a
//! fragment of fuzzed items under fuzzed names) twice, with every secret
//! value (8 to 40 characters, under a name not on the allow-list, or a bare
//! item) replaced by a different value of the same length the second time.
//!
//! Asserted: no secret value appears in `canonical()`, `Display`, `Debug`
//! or `default_id()` (when it parses) or in the error's `Display` and
//! `Debug` (when it does not), unless the other text of the reference
//! spells it too (then it shows for the second build as well); all of them
//! are the same for both builds (nothing shown depends on a secret value);
//! and a parsed reference's canonical form parses to itself.
#![no_main]

use catalog_core::ModelRef;
use libfuzzer_sys::fuzz_target;

/// Reference prefixes whose parameter lists are redacted (local paths show
/// `?`, `#` and `;` as part of the file name, see docs/MODEL_REF.md §4).
const PREFIXES: &[&str] = &[
    "https://h.example.com",
    "http://[::1]:8080",
    "https://u:p@h.example.com",
    "HTTPS://",
    "s3://bucket",
    "oci://r.io",
    "hf:org/repo",
    "hf:org/repo@main",
    "hf:org/repo/",
    "hf:",
    "",
];

/// The allow-list of docs/MODEL_REF.md §4: values under these names are
/// shown, so they are never secret here. If the library shows more names,
/// this target fails.
const SHOWN: &[&str] = &[
    "branch", "dl", "download", "filename", "format", "raw", "ref", "revision",
];

/// Characters of a fuzzed path: anything that shapes a reference except the
/// characters that start or separate parameters (`?`, `#`, `;`, `&`, `=`).
const PATH_CHARS: &[u8] = b"abcXYZ019-._~/@:%[]*+!$', \\hf_gp";
/// Characters of a fuzzed name (no `%`, so no escaped allow-listed name).
const NAME_CHARS: &[u8] = b"abcdefgilmnoprstwxvADRT0189_.~-";
/// Characters of a secret value. None of them separates or escapes.
const VALUE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~-";

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn text(&mut self, alphabet: &[u8], len: usize) -> Vec<usize> {
        (0..len)
            .map(|_| usize::from(self.next()) % alphabet.len())
            .collect()
    }
}

fn spell(alphabet: &[u8], indices: &[usize], shift: usize) -> String {
    indices
        .iter()
        .map(|&i| char::from(alphabet[(i + shift) % alphabet.len()]))
        .collect()
}

/// One item of a parameter list.
enum Item {
    /// `name=value`, secret unless the name is on the allow-list.
    Pair(Vec<usize>, Vec<usize>),
    /// A bare value: always secret.
    Bare(Vec<usize>),
    /// An allow-listed name with a short plain value.
    Shown(usize, Vec<usize>),
    /// Nothing between two separators.
    Empty,
}

fn items(bytes: &mut Bytes) -> Vec<(Item, u8)> {
    let count = usize::from(bytes.next() % 4);
    (0..count)
        .map(|_| {
            let kind = bytes.next() % 8;
            let item = match kind {
                0..=3 => {
                    let name_len = usize::from(bytes.next() % 8);
                    let name = bytes.text(NAME_CHARS, name_len);
                    let value_len = 8 + usize::from(bytes.next() % 33);
                    Item::Pair(name, bytes.text(VALUE_CHARS, value_len))
                }
                4 | 5 => {
                    let value_len = 8 + usize::from(bytes.next() % 33);
                    Item::Bare(bytes.text(VALUE_CHARS, value_len))
                }
                6 => {
                    let name = usize::from(bytes.next()) % SHOWN.len();
                    let value_len = usize::from(bytes.next() % 6);
                    Item::Shown(name, bytes.text(b"abcdef", value_len))
                }
                _ => Item::Empty,
            };
            (item, bytes.next())
        })
        .collect()
}

/// Writes `items` (values shifted by `shift`), collecting the secret values.
fn write_items(items: &[(Item, u8)], shift: usize, out: &mut String, secrets: &mut Vec<String>) {
    for (i, (item, separator)) in items.iter().enumerate() {
        if i > 0 {
            out.push(if separator % 2 == 0 { '&' } else { ';' });
        }
        match item {
            Item::Pair(name, value) => {
                let name = spell(NAME_CHARS, name, 0);
                // A value under an allow-listed name is shown: not a secret,
                // and the same in both builds.
                let secret = !SHOWN.contains(&name.to_ascii_lowercase().as_str());
                let value = spell(VALUE_CHARS, value, if secret { shift } else { 0 });
                if secret {
                    secrets.push(value.clone());
                }
                out.push_str(&name);
                out.push('=');
                out.push_str(&value);
            }
            Item::Bare(value) => {
                let value = spell(VALUE_CHARS, value, shift);
                secrets.push(value.clone());
                out.push_str(&value);
            }
            Item::Shown(name, value) => {
                out.push_str(SHOWN[*name]);
                out.push('=');
                out.push_str(&spell(b"abcdef", value, 0));
            }
            Item::Empty => {}
        }
    }
}

/// Everything shown for `input`, and what it parsed to (`"error"` if it
/// did not).
fn shown(input: &str) -> (Vec<String>, &'static str) {
    match ModelRef::parse(input) {
        Ok(r) => {
            let canonical = r.canonical();
            let again = ModelRef::parse(&canonical).expect("a redacted form parses");
            assert_eq!(again.canonical(), canonical, "canonical is a fixed point");
            (
                vec![canonical, r.to_string(), format!("{r:?}"), r.default_id()],
                r.kind(),
            )
        }
        Err(err) => (vec![err.to_string(), format!("{err:?}")], "error"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let prefix = PREFIXES[usize::from(bytes.next()) % PREFIXES.len()];
    let path_len = usize::from(bytes.next() % 24);
    let path = spell(PATH_CHARS, &bytes.text(PATH_CHARS, path_len), 0);
    let path_params = items(&mut bytes);
    let after_len = usize::from(bytes.next() % 8);
    let after = spell(PATH_CHARS, &bytes.text(PATH_CHARS, after_len), 0);
    let query = items(&mut bytes);
    let fragment = items(&mut bytes);

    let build = |shift: usize, secrets: &mut Vec<String>| {
        let mut input = format!("{prefix}{path}");
        for (mark, list) in [(';', &path_params), ('?', &query), ('#', &fragment)] {
            if !list.is_empty() {
                input.push(mark);
                write_items(list, shift, &mut input, secrets);
            }
            if mark == ';' && !path_params.is_empty() && !after.is_empty() {
                // More path after the parameters: `/a;p=v/b`.
                input.push('/');
                input.push_str(&after);
            }
        }
        input
    };
    let mut secrets = Vec::new();
    let first = build(0, &mut secrets);
    let mut others = Vec::new();
    let second = build(1, &mut others);
    // A bare item that happens to spell an allow-listed name is shown.
    if secrets
        .iter()
        .chain(&others)
        .any(|s| SHOWN.contains(&s.to_ascii_lowercase().as_str()))
    {
        return;
    }

    let (shown_first, parsed) = shown(&first);
    let (shown_second, _) = shown(&second);
    if parsed == "file" {
        // A local path shows `?`, `#` and `;` as part of its file name.
        return;
    }
    for secret in &secrets {
        // The second build has a different value wherever this one was, so
        // the secret shows there only if other text of the reference (or a
        // replacement such as `REDACTED`) happens to spell it.
        let coincidence = shown_second.iter().any(|t| t.contains(secret.as_str()));
        for text in &shown_first {
            assert!(
                coincidence || !text.contains(secret.as_str()),
                "{first:?} shows its secret {secret:?}: {text:?}"
            );
        }
    }
    assert_eq!(
        shown_first, shown_second,
        "what is shown for {first:?} (parsed: {parsed}) depends on its secret values"
    );
});
