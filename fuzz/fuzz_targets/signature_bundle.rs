//! Arbitrary bytes as an OpenSSF Model Signing bundle, and as the statement
//! it signs: parsing never panics, a parsed bundle is checked against a key
//! policy and a certificate policy without panicking (and verifies only a
//! payload the fixtures' real signer signed: the fuzzer cannot forge a
//! signature), and a statement that parses has a root equal to the SHA-256
//! of its resource digests. Seeds: `tests/fixtures/oms/*.sig`.
#![no_main]

use catalog_core::signature::{Bundle, SignaturePolicy, Statement, check};
use libfuzzer_sys::fuzz_target;
use sha2::Digest as _;
use std::sync::OnceLock;

const KEY: &str = include_str!("../../tests/fixtures/oms/keys/p256.pub.pem");
const ROOTS: &[u8] = include_bytes!("../../tests/fixtures/oms/certs/ca.pem");
/// The bundles the real signer made with that key or under that root: the
/// only payloads that may verify.
const SIGNED: [&[u8]; 7] = [
    include_bytes!("../../tests/fixtures/oms/p256.sig"),
    include_bytes!("../../tests/fixtures/oms/hf.sig"),
    include_bytes!("../../tests/fixtures/oms/shard.sig"),
    include_bytes!("../../tests/fixtures/oms/blake3.sig"),
    include_bytes!("../../tests/fixtures/oms/blake2.sig"),
    include_bytes!("../../tests/fixtures/oms/cert.sig"),
    include_bytes!("../../tests/fixtures/oms/cert-expired.sig"),
];

fn signed_payloads() -> &'static Vec<Vec<u8>> {
    static P: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    P.get_or_init(|| {
        SIGNED
            .iter()
            .map(|b| Bundle::parse(b).expect("a fixture bundle").payload)
            .collect()
    })
}

fn policies() -> &'static [SignaturePolicy; 2] {
    static P: OnceLock<[SignaturePolicy; 2]> = OnceLock::new();
    P.get_or_init(|| {
        [
            SignaturePolicy::key_pem(KEY).expect("the fixture key"),
            SignaturePolicy::cert_chain_pem(ROOTS).expect("the fixture roots"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::parse(data) {
        let _ = b.pae();
        for p in policies() {
            if check(data, p).statement.is_ok() {
                assert!(
                    signed_payloads().contains(&b.payload),
                    "a payload nobody signed verified: {data:?}"
                );
            }
        }
    }
    if let Ok(s) = Statement::parse(data) {
        let mut h = sha2::Sha256::new();
        for r in &s.resources {
            h.update(&r.digest);
        }
        assert_eq!(&<[u8; 32]>::from(h.finalize()), s.root.as_bytes());
    }
});
