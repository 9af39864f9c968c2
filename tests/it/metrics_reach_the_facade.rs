//! With the `metrics` feature, `MetricsFacade` forwards every event to the
//! `metrics` crate's recorder with the documented names and label values.
//! (Run with `cargo test --features metrics --test metrics_reach_the_facade`;
//! CI does.)

use catalog_core::{Catalog, EntrySpec, MetricsFacade, Options, Verification, VerifyResult};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Recorded(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

struct Cell(Arc<AtomicU64>);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

fn render(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for &'static Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = self
            .0
            .lock()
            .unwrap()
            .entry(render(key))
            .or_default()
            .clone();
        Counter::from_arc(Arc::new(Cell(cell)))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn events_reach_the_metrics_facade_with_fixed_labels() {
    let recorded: &'static Recorded = Box::leak(Box::default());
    metrics::set_global_recorder(recorded).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open_with(
        dir.path(),
        Options::default().metrics(Arc::new(MetricsFacade)),
    )
    .unwrap();
    catalog
        .put(EntrySpec::new("m", "hf:org/repo", "blobs/x"))
        .unwrap();
    catalog
        .put(EntrySpec::new("n", "hf:org/repo", "blobs/x"))
        .unwrap();
    catalog
        .record_verification(
            "m",
            Verification::new(VerifyResult::Fail, "digest mismatch"),
        )
        .unwrap();
    let seen: BTreeMap<String, u64> = recorded
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
        .collect();
    assert_eq!(seen.get("catalog_puts_total{}"), Some(&2), "{seen:?}");
    assert_eq!(
        seen.get("catalog_verifications_total{reason=mismatch,result=fail}"),
        Some(&1),
        "{seen:?}"
    );
    assert!(
        seen.keys()
            .all(|k| !k.contains("=m,") && !k.contains("=m}")),
        "no id is a label: {seen:?}"
    );
}
