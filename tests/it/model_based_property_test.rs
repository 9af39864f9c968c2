//! Matrix row 13: random operations against a `BTreeMap` model, with random
//! reopen points, compactions, and crash points (power loss, with and
//! without a write in flight). After every step the catalog equals the
//! model; after a crash it equals the model at a point between the last
//! acknowledged and the last issued operation.

use crate::support::mem_fs::{Call, CrashMode, MemFs};
use catalog_core::{
    AutoCompact, Catalog, EntrySpec, Lifecycle, Options, TrustState, Verification, VerifyResult,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::sync::Arc;

const ROOT: &str = "/mem/catalog";

#[derive(Clone, Debug)]
enum Step {
    Put {
        id: u8,
        size: u64,
    },
    Retire {
        id: u8,
    },
    Activate {
        id: u8,
    },
    Verify {
        id: u8,
        pass: bool,
    },
    Delete {
        id: u8,
    },
    Compact,
    Reopen,
    Crash {
        seed: u64,
    },
    /// A put whose fsync fails, then a power loss.
    CrashDuringPut {
        id: u8,
        size: u64,
        seed: u64,
        fail: Call,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0..12u8, 0..1_000_000u64).prop_map(|(id, size)| Step::Put { id, size }),
        3 => (0..12u8).prop_map(|id| Step::Retire { id }),
        2 => (0..12u8).prop_map(|id| Step::Activate { id }),
        3 => (0..12u8, any::<bool>()).prop_map(|(id, pass)| Step::Verify { id, pass }),
        3 => (0..12u8).prop_map(|id| Step::Delete { id }),
        1 => Just(Step::Compact),
        2 => Just(Step::Reopen),
        1 => any::<u64>().prop_map(|seed| Step::Crash { seed }),
        1 => (0..12u8, 0..1_000_000u64, any::<u64>(), prop_oneof![Just(Call::Sync), Just(Call::Write)])
            .prop_map(|(id, size, seed, fail)| Step::CrashDuringPut { id, size, seed, fail }),
    ]
}

/// What the model tracks of an entry.
type Model = BTreeMap<String, (u64, Lifecycle, TrustState)>;

fn observed(catalog: &Catalog) -> Model {
    catalog
        .list()
        .into_iter()
        .map(|e| (e.id, (e.size_bytes, e.lifecycle, e.trust)))
        .collect()
}

fn name(id: u8) -> String {
    format!("m{id}")
}

fn opts(fs: &MemFs) -> Options {
    Options::default()
        .fs(Arc::new(fs.clone()))
        .max_segment_bytes(1024)
        .auto_compact(Some(AutoCompact {
            min_journal_bytes: 2048,
            ratio: 2,
        }))
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let fs = MemFs::new();
    let mut catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    let mut model = Model::new();
    for (i, step) in steps.into_iter().enumerate() {
        match step {
            Step::Put { id, size } => {
                catalog
                    .put(EntrySpec::new(name(id), "hf:o/r", "blobs/x").size_bytes(size))
                    .unwrap();
                model.insert(name(id), (size, Lifecycle::Active, TrustState::Unverified));
            }
            Step::Retire { id } | Step::Activate { id } => {
                let to = if matches!(step, Step::Retire { .. }) {
                    Lifecycle::Retired
                } else {
                    Lifecycle::Active
                };
                let got = catalog.set_state(&name(id), to);
                match model.get_mut(&name(id)) {
                    Some(e) => {
                        got.unwrap();
                        e.1 = to;
                    }
                    None => {
                        let not_found = matches!(got, Err(catalog_core::Error::NotFound { .. }));
                        prop_assert!(not_found, "set_state of a missing id");
                    }
                }
            }
            Step::Verify { id, pass } => {
                let outcome = Verification {
                    result: if pass {
                        VerifyResult::Pass
                    } else {
                        VerifyResult::Fail
                    },
                    reason: if pass {
                        "ok".into()
                    } else {
                        "digest mismatch".into()
                    },
                    actual: None,
                    bytes: 1,
                    duration_ms: 0,
                    files: vec![],
                };
                let got = catalog.record_verification(&name(id), outcome);
                match model.get_mut(&name(id)) {
                    Some(e) => {
                        got.unwrap();
                        e.2 = if pass {
                            TrustState::Verified
                        } else {
                            TrustState::Failed
                        };
                    }
                    None => prop_assert!(got.is_err()),
                }
            }
            Step::Delete { id } => {
                let got = catalog.delete(&name(id)).unwrap();
                prop_assert_eq!(got, model.remove(&name(id)).is_some());
            }
            Step::Compact => {
                catalog.compact().unwrap();
            }
            Step::Reopen => {
                drop(catalog);
                let reader = Catalog::open_read_only_with(ROOT, opts(&fs)).unwrap();
                prop_assert_eq!(
                    observed(&reader),
                    model.clone(),
                    "read-only view at step {}",
                    i
                );
                catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
            }
            Step::Crash { seed } => {
                drop(catalog);
                fs.crash(CrashMode::Scramble { seed });
                catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
            }
            Step::CrashDuringPut {
                id,
                size,
                seed,
                fail,
            } => {
                fs.fail_nth(fail, 1, ErrorKind::Other);
                let spec = EntrySpec::new(name(id), "hf:o/r", "blobs/x").size_bytes(size);
                let got = catalog.put(spec);
                drop(catalog);
                fs.crash(CrashMode::Scramble { seed });
                catalog = Catalog::open_with(ROOT, opts(&fs)).unwrap();
                let mut with_put = model.clone();
                with_put.insert(name(id), (size, Lifecycle::Active, TrustState::Unverified));
                let now = observed(&catalog);
                if got.is_ok() {
                    // The fault hit something else (e.g. a rotation's sync
                    // came first and the put was durable before it).
                    prop_assert_eq!(&now, &with_put);
                } else {
                    prop_assert!(
                        now == model || now == with_put,
                        "step {}: neither before nor after the put",
                        i
                    );
                }
                model = now;
            }
        }
        prop_assert_eq!(observed(&catalog), model.clone(), "after step {}", i);
    }
    drop(catalog);
    fs.crash(CrashMode::DropUnsynced);
    let last = Catalog::open_with(ROOT, opts(&fs)).unwrap();
    prop_assert_eq!(observed(&last), model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_catalog_behaves_like_a_map_across_reopens_and_crashes(steps in prop::collection::vec(step(), 1..120)) {
        run(steps)?;
    }
}
