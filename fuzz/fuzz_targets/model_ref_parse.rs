//! Arbitrary strings as model references: parsing never panics; whatever
//! parses has a canonical form without control characters that parses
//! again to the same canonical form, and a usable default id.
#![no_main]

use catalog_core::ModelRef;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    for parsed in [ModelRef::parse(&input), ModelRef::parse_with_base(&input, Path::new("/base/dir"))] {
        if let Ok(r) = parsed {
            let canonical = r.canonical();
            assert!(!canonical.chars().any(char::is_control), "{canonical:?}");
            assert!(canonical.len() <= 4096);
            let again = ModelRef::parse(&canonical).expect("a canonical form parses");
            assert_eq!(again.canonical(), canonical, "canonical is a fixed point");
            assert!(!r.default_id().is_empty());
            let _ = format!("{r:?} {r}");
        }
    }
});
