//! Every field of every entry survives a reopen, with and without a snapshot.

use crate::support::{as_map, spec};
use catalog_core::{
    Catalog, CatalogStore, Digest, Lifecycle, OpContext, TrustState, Verification, VerifyResult,
};

#[test]
fn every_field_survives_reopen_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    for i in 0..12 {
        let put = catalog.put(spec(i)).unwrap();
        let s = spec(i);
        assert_eq!(put.id, s.id);
        assert_eq!(put.model_ref, s.model_ref);
        assert_eq!(put.local_path, s.local_path);
        assert_eq!(put.lifecycle, s.lifecycle);
        assert_eq!(put.digest, s.digest);
        assert_eq!(put.size_bytes, s.size_bytes);
        assert_eq!(put.files, s.files);
        assert_eq!(put.trust, TrustState::Unverified);
        assert!(put.registered_at_ms > 0);
        assert_eq!(put.last_verified_at_ms, None);
    }
    catalog.set_state("model-0001", Lifecycle::Retired).unwrap();
    let outcome = Verification {
        result: VerifyResult::Fail,
        reason: "digest mismatch".into(),
        actual: Some(Digest::of_bytes(b"other")),
        bytes: 4096,
        duration_ms: 3,
        files: vec![],
    };
    let verified = catalog
        .record_verification("model-0002", outcome.clone())
        .unwrap();
    assert_eq!(
        verified.trust,
        TrustState::Failed,
        "a failed verification is visible"
    );
    assert_eq!(verified.last_verification.as_deref(), Some(&outcome));
    assert!(verified.last_verified_at_ms.is_some());
    let ctx = OpContext::new().correlation_id("req-1").actor("test");
    catalog
        .with_context(ctx)
        .set_state("model-0003", Lifecycle::Active)
        .unwrap();

    let before = as_map(catalog.list());
    let head = catalog.head();
    drop(catalog);

    let reopened = Catalog::open(dir.path()).unwrap();
    assert_eq!(as_map(reopened.list()), before, "state after reopen");
    assert_eq!(reopened.head(), head, "journal head after reopen");
    let report = reopened.compact().unwrap();
    assert_eq!(report.seq, head.seq);
    assert_eq!(report.entries, 12);
    // The compaction bound its snapshot with a checkpoint record.
    let head = reopened.head();
    drop(reopened);

    let compacted = Catalog::open(dir.path()).unwrap();
    assert_eq!(compacted.recovery_report().snapshot_seq, Some(head.seq - 1));
    assert_eq!(compacted.recovery_report().records_replayed, 1);
    assert_eq!(
        as_map(compacted.list()),
        before,
        "state after compaction and reopen"
    );
    assert_eq!(compacted.head(), head);
}

#[test]
fn replacing_an_entry_keeps_its_registration_time_and_resets_trust() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let first = catalog.put(spec(1)).unwrap();
    catalog
        .record_verification(
            &first.id,
            Verification {
                result: VerifyResult::Pass,
                reason: "digest matches".into(),
                actual: first.digest,
                bytes: 1,
                duration_ms: 0,
                files: vec![],
            },
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let replaced = catalog.put(spec(1).size_bytes(5)).unwrap();
    assert_eq!(replaced.registered_at_ms, first.registered_at_ms);
    assert!(replaced.updated_at_ms >= first.updated_at_ms);
    assert!(replaced.updated_seq > first.updated_seq);
    assert_eq!(replaced.trust, TrustState::Unverified);
    assert_eq!(replaced.size_bytes, 5);
    assert_eq!(CatalogStore::get(&catalog, &first.id).unwrap(), replaced);
}
