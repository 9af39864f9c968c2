//! Whatever kind of record is last in the journal, a reopen shows exactly
//! the state the handle had.

use crate::support::{as_map, spec};
use catalog_core::{Catalog, Digest, Lifecycle, Verification, VerifyResult};

type Step = fn(&Catalog);

#[test]
fn reopen_after_each_record_kind_yields_the_same_state() {
    let steps: [(&str, Step); 4] = [
        ("put", |c| {
            c.put(spec(9)).unwrap();
        }),
        ("set_state", |c| {
            c.set_state("model-0001", Lifecycle::Retired).unwrap();
        }),
        ("verify", |c| {
            c.record_verification(
                "model-0001",
                Verification {
                    result: VerifyResult::Warn,
                    reason: "no expected digest".into(),
                    actual: Some(Digest::of_bytes(b"w")),
                    bytes: 1,
                    duration_ms: 1,
                    files: vec![],
                },
            )
            .unwrap();
        }),
        ("delete", |c| {
            assert!(c.delete("model-0001").unwrap());
        }),
    ];
    for (name, step) in steps {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(dir.path()).unwrap();
        catalog.put(spec(1)).unwrap();
        catalog.put(spec(2)).unwrap();
        step(&catalog);
        let expected = as_map(catalog.list());
        let head = catalog.head();
        drop(catalog);
        let reopened = Catalog::open(dir.path()).unwrap();
        assert_eq!(
            as_map(reopened.list()),
            expected,
            "after a final {name} record"
        );
        assert_eq!(reopened.head(), head, "after a final {name} record");
        assert!(reopened.recovery_report().torn_tail.is_none());
        // And a read-only handle sees the same.
        let reader = Catalog::open_read_only(dir.path()).unwrap();
        assert_eq!(as_map(reader.list()), expected, "read-only, after {name}");
    }
}
