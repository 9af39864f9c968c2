//! The `catalog` command end to end on a temporary root: add (file and
//! directory), list with filters, show, retire/activate, verify, compact,
//! history across the compaction, head, delete, demo, and where the root
//! comes from.

use crate::cli_support::{Cli, bytes, digest_of, segment};
use serde_json::Value;

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn add_registers_files_and_directories_and_list_and_show_describe_them() {
    let cli = Cli::new();
    let weights = bytes(64 * 1024, 1);
    cli.write_src("a.gguf", &weights);
    cli.write_src("repo/config.json", b"{\"arch\":\"llama\"}");
    cli.write_src("repo/shards/model-1.safetensors", &bytes(3000, 2));
    let moved = cli.write_src("moved.gguf", &bytes(2048, 3));

    // A relative path is resolved against the working directory.
    let out = cli.ok(&["add", "a.gguf"]);
    assert!(out.contains("added a.gguf"), "{out}");
    assert!(out.contains("trust warned"), "no digest given: {out}");

    let right = digest_of(&weights);
    let e = cli.json(&["add", "a.gguf", "--id", "a-checked", "--digest", &right]);
    assert_eq!(e["id"], "a-checked");
    assert_eq!(e["trust"], "verified", "the given digest matched: {e}");
    assert_eq!(e["digest"], right);
    assert_eq!(e["size_bytes"], 64 * 1024);
    assert_eq!(e["lifecycle"], "active");
    let src = std::fs::canonicalize(cli.src.path()).unwrap();
    assert_eq!(
        e["ref"],
        format!("file:{}", src.join("a.gguf").display()),
        "the reference is the absolute path"
    );
    assert_eq!(
        e["import"]["bytes_deduplicated"],
        64 * 1024,
        "the same bytes were already stored: {e}"
    );

    let dir = cli.json(&["add", "./repo", "--id", "dir-model"]);
    assert_eq!(dir["files"].as_array().unwrap().len(), 2, "{dir}");
    assert_eq!(dir["size_bytes"], 3000 + 16);
    assert_eq!(dir["trust"], "warned");
    assert!(dir["digest"].as_str().unwrap().starts_with("sha256:"));

    let m = cli.json(&["add", "moved.gguf", "--link", "move"]);
    assert_eq!(m["id"], "moved.gguf");
    assert!(
        !moved.exists(),
        "--link move moves the source into the store"
    );

    let list = cli.json(&["list"]);
    assert_eq!(
        ids(&list),
        ["a-checked", "a.gguf", "dir-model", "moved.gguf"],
        "sorted by id"
    );
    for e in list.as_array().unwrap() {
        for field in [
            "id",
            "ref",
            "lifecycle",
            "trust",
            "digest",
            "size_bytes",
            "path",
        ] {
            assert!(e.get(field).is_some(), "{field} missing in {e}");
        }
    }
    let table = cli.ok(&["list"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID"), "{table}");
    assert!(
        header.contains("TRUST") && header.contains("SIZE"),
        "{table}"
    );
    assert!(table.contains("64.0 KiB"), "human sizes: {table}");
    assert_eq!(table.lines().count(), 5, "header and four rows: {table}");

    // `show` gives the path an engine loads.
    let shown = cli.json(&["show", "dir-model"]);
    let path = std::path::PathBuf::from(shown["model_path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(path.join("config.json")).unwrap(),
        b"{\"arch\":\"llama\"}",
        "the directory view holds the files"
    );
    let file = cli.json(&["show", "a.gguf"]);
    let blob = std::fs::read(file["model_path"].as_str().unwrap()).unwrap();
    assert_eq!(blob, weights, "the stored blob is the model");
    let human = cli.ok(&["show", "a.gguf"]);
    assert!(human.contains("model path"), "{human}");
    assert!(human.contains(&right), "{human}");
    assert!(human.contains("64.0 KiB (65536 bytes)"), "{human}");
}

#[test]
fn lifecycle_verify_and_history_survive_a_compaction() {
    let cli = Cli::new();
    let weights = bytes(10_000, 4);
    cli.write_src("m.gguf", &weights);
    cli.write_src("small.gguf", b"tiny");
    let d = digest_of(&weights);
    cli.ok(&["add", "m.gguf", "--id", "m", "--digest", &d]);
    cli.ok(&["add", "small.gguf", "--id", "small"]);

    let out = cli.ok(&["retire", "m"]);
    assert_eq!(out.trim(), "m is retired");
    assert_eq!(ids(&cli.json(&["list", "--state", "retired"])), ["m"]);
    assert_eq!(ids(&cli.json(&["list", "--state", "active"])), ["small"]);
    assert_eq!(ids(&cli.json(&["list", "--trust", "warned"])), ["small"]);
    assert_eq!(ids(&cli.json(&["list", "--trust", "verified"])), ["m"]);
    assert_eq!(
        ids(&cli.json(&["list", "--sort", "size"])),
        ["m", "small"],
        "largest first"
    );

    let verified = cli.ok(&["verify", "m"]);
    assert!(verified.contains("pass"), "{verified}");
    let compacted = cli.json(&["compact"]);
    let snapshot = compacted["snapshot"].as_str().unwrap();
    assert!(std::path::Path::new(snapshot).exists(), "{compacted}");
    assert!(
        segment(cli.root(), 2).exists(),
        "compaction sealed segment 1, so the history below spans two segments"
    );
    let e = cli.json(&["activate", "m"]);
    assert_eq!(e["lifecycle"], "active");
    let fast = cli.json(&["verify", "m", "--fast"]);
    assert_eq!(fast[0]["fast_path_used"], true, "{fast}");
    assert_eq!(fast[0]["trust"], "verified");
    cli.ok(&["--correlation-id", "req-9", "retire", "m"]);

    let history = cli.json_lines(&["history", "m"]);
    let kinds: Vec<&str> = history
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "put",
            "verify",
            "set_state",
            "verify",
            "set_state",
            "verify",
            "set_state"
        ],
        "every event of m, before and after the compaction"
    );
    let seqs: Vec<u64> = history.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );
    assert!(history.iter().all(|e| e["id"] == "m"));
    assert_eq!(history[0]["digest"], d, "put shows the digest");
    assert_eq!(history[0]["size_bytes"], 10_000);
    assert_eq!(history[2]["lifecycle"], "retired");
    assert_eq!(history[3]["result"], "pass");
    let last = &history[6];
    assert_eq!(last["lifecycle"], "retired");
    assert_eq!(last["correlation_id"], "req-9");
    assert!(
        last["actor"].as_str().unwrap().contains("catalog retire"),
        "{last}"
    );
    let time = history[0]["time"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "UTC ISO-8601: {time}"
    );

    let table = cli.ok(&["history", "m"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("SEQ") && lines[0].contains("CONTEXT"),
        "{table}"
    );
    assert_eq!(lines.len(), 1 + 7, "{table}");
    assert!(table.contains("lifecycle -> retired"), "{table}");
    assert!(table.contains("corr=req-9"), "{table}");

    // `head` is the last record, with its time.
    let head = cli.json(&["head"]);
    let events = cli.json_lines(&["events"]);
    let newest = events.last().unwrap();
    assert_eq!(head["seq"], newest["seq"]);
    assert_eq!(head["chain"], newest["chain"]);
    assert_eq!(head["time"], newest["time"]);
    let human = cli.ok(&["head"]);
    assert!(
        human.contains(&format!("time    {}", newest["time"].as_str().unwrap())),
        "{human}"
    );
}

#[test]
fn delete_removes_the_model_but_not_its_history() {
    let cli = Cli::new();
    cli.write_src("x.gguf", b"some weights");
    cli.ok(&["add", "x.gguf", "--id", "x"]);
    assert_eq!(cli.ok(&["delete", "x"]).trim(), "deleted x");
    assert!(cli.listed("x").is_none());
    let again = cli.ok(&["delete", "x"]);
    assert!(again.contains("nothing written"), "{again}");
    let history = cli.json_lines(&["history", "x"]);
    assert_eq!(history.last().unwrap()["kind"], "delete");
    assert_eq!(cli.json(&["delete", "x"])["deleted"], false);
}

#[test]
fn demo_runs_the_main_job_and_the_state_survives_the_reopen() {
    let cli = Cli::new();
    let out = cli.json(&["demo"]);
    assert_eq!(out["reopen_matches"], true, "{out}");
    assert_eq!(out["entry"]["trust"], "verified");
}

#[test]
fn the_root_is_root_flag_else_catalog_root_else_home_cache_models() {
    let cli = Cli::new();
    cli.write_src("a.gguf", b"weights a");
    let default = cli.home.path().join(".cache/models");

    let out = cli.bare().args(["add", "a.gguf"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        default.join("catalog").is_dir(),
        "with neither --root nor CATALOG_ROOT the root is $HOME/.cache/models"
    );
    assert!(cli.root_is_empty());

    let out = cli
        .bare()
        .env("CATALOG_ROOT", cli.root())
        .args(["add", "a.gguf", "--id", "via-env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(cli.root().join("catalog").is_dir(), "CATALOG_ROOT is used");

    // --root wins over CATALOG_ROOT.
    let out = cli
        .bare()
        .env("CATALOG_ROOT", cli.root())
        .arg("--root")
        .arg(&default)
        .args(["--json", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&list), ["a.gguf"]);
    assert_eq!(ids(&cli.json(&["list"])), ["via-env"]);
}
