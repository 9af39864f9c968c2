//! `delete` of a present id removes it durably; of an absent id it returns
//! `Ok(false)` and writes nothing. Other typed errors for bad input.

use crate::support::spec;
use catalog_core::{Catalog, EntrySpec, Error, Lifecycle};

#[test]
fn delete_removes_durably_and_missing_ids_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    catalog.put(spec(1)).unwrap();
    catalog.put(spec(2)).unwrap();
    let head = catalog.head().seq;

    assert!(!catalog.delete("no-such-model").unwrap());
    assert_eq!(
        catalog.head().seq,
        head,
        "deleting a missing id writes no record"
    );

    assert!(catalog.delete("model-0001").unwrap());
    assert_eq!(catalog.head().seq, head + 1);
    assert!(!catalog.exists("model-0001"));
    assert!(matches!(catalog.get("model-0001"), Err(Error::NotFound { id }) if id == "model-0001"));
    assert!(
        !catalog.delete("model-0001").unwrap(),
        "second delete finds nothing"
    );
    drop(catalog);

    let catalog = Catalog::open(dir.path()).unwrap();
    assert!(!catalog.exists("model-0001"), "delete survived reopen");
    assert!(catalog.exists("model-0002"));
    assert_eq!(catalog.len(), 1);
}

#[test]
fn operations_on_missing_ids_are_not_found_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let err = catalog.set_state("ghost", Lifecycle::Retired).unwrap_err();
    assert!(
        matches!(err, Error::NotFound { ref id } if id == "ghost"),
        "{err}"
    );
    assert!(err.to_string().contains("ghost"));
    assert_eq!(catalog.head().seq, 0);
}

#[test]
fn invalid_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let bad = [
        EntrySpec::new("", "hf:o/r", "blobs/x"),
        EntrySpec::new(" padded", "hf:o/r", "blobs/x"),
        EntrySpec::new("a\nb", "hf:o/r", "blobs/x"),
        EntrySpec::new("x".repeat(257), "hf:o/r", "blobs/x"),
        EntrySpec::new("m", "", "blobs/x"),
        EntrySpec::new("m", "hf:o/r", "../escape"),
        EntrySpec::new("m", "hf:o/r", "/etc/passwd"),
        EntrySpec::new("m", "hf:o/r", "a//b"),
    ];
    for spec in bad {
        let err = catalog.put(spec.clone()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{spec:?}: {err}");
    }
    assert_eq!(catalog.head().seq, 0, "no record was written");
    assert!(catalog.is_empty());
}
