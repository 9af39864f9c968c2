//! Matrix rows 2 and 3: a simulated crash (power loss; the process is gone)
//! before every single file-system call of a workload that appends, rotates
//! segments, compacts, imports, evicts, deletes and collects garbage — and
//! before every call of recovery itself. After each: P1–P4, the stored
//! files of every entry exist, and no temp file survives the next
//! compaction.

use crate::support::mem_fs::{CrashMode, MemFs};
use catalog_core::fs::Fs;
use catalog_core::{
    AutoCompact, Catalog, EntrySpec, GcOptions, ImportOptions, Lifecycle, ModelRef, Options,
    TrustState, VerifyOptions,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = "/mem/catalog";

fn opts(fs: &MemFs) -> Options {
    Options::default()
        .fs(Arc::new(fs.clone()))
        .max_segment_bytes(1024)
        .auto_compact(Some(AutoCompact {
            min_journal_bytes: 3000,
            ratio: 1,
        }))
        .keep_snapshots(1)
        .retain_history(false)
}

/// What the workload does, as effects on (id → lifecycle).
#[derive(Clone, Debug)]
enum Effect {
    Set(String, Lifecycle),
    Remove(String),
    /// Records something (a verification) that the model does not track.
    Keep,
}

type Model = BTreeMap<String, Lifecycle>;

fn apply(model: &mut Model, e: &Effect) {
    match e {
        Effect::Set(id, l) => {
            model.insert(id.clone(), *l);
        }
        Effect::Remove(id) => {
            model.remove(id);
        }
        Effect::Keep => {}
    }
}

fn write_file(fs: &MemFs, path: &str, bytes: &[u8]) {
    let path = Path::new(path);
    fs.create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = fs.create(path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_data().unwrap();
}

/// Source files for the imports, written before anything is counted.
fn setup(fs: &MemFs) {
    write_file(fs, "/src/single.gguf", &vec![7u8; 3000]);
    write_file(fs, "/src/repo/config.json", b"{\"arch\":\"llama\"}");
    write_file(fs, "/src/repo/weights/model.safetensors", &vec![9u8; 5000]);
    fs.sync_dir(Path::new("/src/repo/weights")).unwrap();
    fs.sync_dir(Path::new("/src/repo")).unwrap();
    fs.sync_dir(Path::new("/src")).unwrap();
}

/// Runs the workload until the first failure (the crash); returns the
/// effects of the acknowledged operations and the one in flight, if any.
fn workload(fs: &MemFs) -> (Vec<Effect>, Option<Effect>) {
    let mut acked = Vec::new();
    let Ok(catalog) = Catalog::open_with(ROOT, opts(fs)) else {
        return (acked, None);
    };
    macro_rules! step {
        ($effect:expr, $call:expr) => {{
            let effect = $effect;
            match $call {
                Ok(_) => acked.push(effect),
                Err(_) => return (acked, Some(effect)),
            }
        }};
    }
    macro_rules! quiet {
        ($call:expr) => {
            if $call.is_err() {
                return (acked, None);
            }
        };
    }
    for i in 0..12 {
        let id = format!("m{i}");
        step!(
            Effect::Set(id.clone(), Lifecycle::Active),
            catalog.put(EntrySpec::new(id, "hf:org/repo", "blobs/x").size_bytes(i))
        );
    }
    step!(
        Effect::Set("m1".into(), Lifecycle::Retired),
        catalog.set_state("m1", Lifecycle::Retired)
    );
    step!(Effect::Remove("m2".into()), catalog.delete("m2"));
    quiet!(catalog.compact());
    let single = ModelRef::parse("file:/src/single.gguf").unwrap();
    step!(
        Effect::Set("single".into(), Lifecycle::Active),
        catalog.import(&single, ImportOptions::default().id("single"))
    );
    let repo = ModelRef::parse("file:/src/repo").unwrap();
    step!(
        Effect::Set("repo".into(), Lifecycle::Active),
        catalog.import(&repo, ImportOptions::default().id("repo"))
    );
    step!(
        Effect::Keep,
        catalog.verify("single", VerifyOptions::default(), &|_| {})
    );
    step!(
        Effect::Keep,
        catalog.verify("repo", VerifyOptions::default(), &|_| {})
    );
    for i in 12..18 {
        let id = format!("m{i}");
        step!(
            Effect::Set(id.clone(), Lifecycle::Active),
            catalog.put(EntrySpec::new(id, "hf:org/repo", "blobs/x"))
        );
    }
    step!(
        Effect::Remove("single".into()),
        catalog.evict("single", false)
    );
    step!(Effect::Remove("repo".into()), catalog.delete("repo"));
    quiet!(catalog.gc(
        GcOptions::default().grace(std::time::Duration::ZERO),
        &|_| {}
    ));
    quiet!(catalog.compact());
    (acked, None)
}

fn observed(catalog: &Catalog) -> Model {
    catalog
        .list()
        .into_iter()
        .map(|e| (e.id, e.lifecycle))
        .collect()
}

fn check_after_crash(fs: &MemFs, acked: &[Effect], in_flight: Option<&Effect>, what: &str) {
    let catalog =
        Catalog::open_with(ROOT, opts(fs)).unwrap_or_else(|e| panic!("{what}: open failed: {e}")); // P3
    let mut model = Model::new();
    for e in acked {
        apply(&mut model, e);
    }
    let got = observed(&catalog);
    let mut with_flight = model.clone();
    if let Some(e) = in_flight {
        apply(&mut with_flight, e);
    }
    assert!(
        got == model || got == with_flight,
        "{what}: state {got:?} is neither {model:?} nor {with_flight:?}"
    ); // P1, P2
    // The stored files of every entry exist and every view is complete.
    let report = Catalog::check(ROOT, opts(fs), false).unwrap();
    assert!(report.is_ok(), "{what}: {:?}", report.problems);
    for e in catalog
        .list()
        .iter()
        .filter(|e| e.local_path.starts_with("blobs/sha256") || !e.files.is_empty())
    {
        catalog
            .model_path(&e.id)
            .unwrap_or_else(|err| panic!("{what}: {}: {err}", e.id));
        // The stored bytes are whole: a verification passes (or warns).
        let v = catalog
            .verify(&e.id, VerifyOptions::default(), &|_| {})
            .unwrap();
        assert_ne!(
            v.entry.trust,
            TrustState::Failed,
            "{what}: {} failed verification",
            e.id
        );
    }
    // P4, and no temp file survives the next compaction.
    catalog
        .put(EntrySpec::new("after", "hf:org/repo", "blobs/x"))
        .unwrap();
    catalog.compact().unwrap();
    let temps: Vec<_> = fs
        .files_under(Path::new("/mem/catalog/catalog"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{what}: temp files left: {temps:?}");
    drop(catalog);
    fs.crash(CrashMode::DropUnsynced);
    let again = Catalog::open_with(ROOT, opts(fs)).unwrap();
    assert!(
        again.exists("after"),
        "{what}: an append after recovery was lost"
    );
}

#[test]
fn a_crash_before_any_file_system_call_loses_nothing_acknowledged() {
    // Count the calls of a full run.
    let fs = MemFs::new();
    setup(&fs);
    let start = fs.mutating_ops();
    let (acked, in_flight) = workload(&fs);
    assert!(
        in_flight.is_none() && acked.len() == 26,
        "the workload runs through without a crash: {} acked, in flight {in_flight:?}",
        acked.len()
    );
    let total = fs.mutating_ops();
    let mut crashes = 0;
    for n in start + 1..=total {
        for mode in [CrashMode::DropUnsynced, CrashMode::Scramble { seed: n }] {
            let fs = MemFs::new();
            setup(&fs);
            fs.crash_before_op(n, mode);
            let (acked, in_flight) = workload(&fs);
            assert!(fs.crashed(), "op {n} was reached");
            let what = format!("crash before op {n} ({}) with {mode:?}", fs.op_name(n));
            fs.revive();
            check_after_crash(&fs, &acked, in_flight.as_ref(), &what);
            crashes += 1;
        }
    }
    eprintln!(
        "{crashes} crashes at {} distinct file-system calls, 0 acknowledged operations lost",
        total - start
    );
}

#[test]
fn a_crash_during_recovery_is_harmless_and_recovery_is_idempotent() {
    // A catalog that needs recovery: a torn tail to cut and temp files to remove.
    let base = MemFs::new();
    let catalog = Catalog::open_with(ROOT, opts(&base)).unwrap();
    for i in 0..5 {
        catalog
            .put(EntrySpec::new(format!("m{i}"), "hf:org/repo", "blobs/x"))
            .unwrap();
    }
    drop(catalog);
    let seg = Path::new("/mem/catalog/catalog/journal/00000000000000000001.seg");
    let mut bytes = base.bytes(seg).unwrap();
    bytes.extend_from_slice(&[0xAB; 100]);
    base.set_bytes(seg, &bytes);
    write_file(
        &base,
        "/mem/catalog/catalog/snapshots/00000000000000000009.snap.tmp",
        b"partial",
    );
    let expected = {
        let fs = MemFs::new();
        copy_state(&base, &fs);
        observed(&Catalog::open_with(ROOT, opts(&fs)).unwrap())
    };
    let start = {
        let fs = MemFs::new();
        copy_state(&base, &fs);
        fs.mutating_ops()
    };
    let total = {
        let fs = MemFs::new();
        copy_state(&base, &fs);
        drop(Catalog::open_with(ROOT, opts(&fs)).unwrap());
        fs.mutating_ops()
    };
    assert!(total > start + 3, "recovery does work");
    for n in start + 1..=total {
        for mode in [CrashMode::DropUnsynced, CrashMode::Scramble { seed: n }] {
            let fs = MemFs::new();
            copy_state(&base, &fs);
            fs.crash_before_op(n, mode);
            assert!(
                Catalog::open_with(ROOT, opts(&fs)).is_err(),
                "the crash interrupts recovery"
            );
            fs.revive();
            let catalog = Catalog::open_with(ROOT, opts(&fs))
                .unwrap_or_else(|e| panic!("crash before recovery op {n}: reopen failed: {e}"));
            assert_eq!(
                observed(&catalog),
                expected,
                "crash before recovery op {n} with {mode:?}"
            );
        }
    }
}

/// Copies every durable file of `from` into a fresh `to` (same paths).
fn copy_state(from: &MemFs, to: &MemFs) {
    for path in from.files_under(Path::new("/")) {
        if let Some(bytes) = from.durable_bytes(&path) {
            write_file(to, path.to_str().unwrap(), &bytes);
        }
    }
    for path in from.files_under(Path::new("/")) {
        if let Some(dir) = path.parent() {
            to.sync_dir(dir).unwrap();
        }
    }
}
