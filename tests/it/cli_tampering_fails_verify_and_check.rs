//! Damage is reported with exit code 1: `verify` after the stored bytes
//! changed (trust becomes `failed`), and `check` after a byte of an old,
//! sealed journal record flipped (naming the file); a catalog that refuses
//! to open fails every command with 1 until `repair` salvages it.

use crate::cli_support::{Cli, bytes, digest_of, segment};

/// Offset of a byte inside the payload of the first record of a segment:
/// the segment header (84 bytes), the record header (64) and two more.
const FIRST_RECORD_PAYLOAD_BYTE: usize = 84 + 64 + 2;

#[test]
fn verify_after_tampering_exits_1_and_the_model_is_failed() {
    let cli = Cli::new();
    let weights = bytes(20_000, 7);
    cli.write_src("m.gguf", &weights);
    cli.write_src("n.gguf", b"other weights");
    cli.ok(&[
        "add",
        "m.gguf",
        "--id",
        "m",
        "--digest",
        &digest_of(&weights),
    ]);
    cli.ok(&["add", "n.gguf", "--id", "n"]);
    cli.ok(&["verify", "m"]);
    assert_eq!(cli.listed("m").unwrap()["trust"], "verified");

    let blob = cli.json(&["show", "m"])["model_path"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tampered = weights.clone();
    tampered[12_345] ^= 0x01;
    std::fs::write(&blob, &tampered).unwrap();

    let out = cli.expect(1, &["verify", "m"]);
    assert!(out.contains("fail"), "{out}");
    assert!(out.contains("digest mismatch"), "{out}");
    assert_eq!(
        cli.listed("m").unwrap()["trust"],
        "failed",
        "a failed verification is recorded, never shown as unverified"
    );
    assert_eq!(cli.listed("n").unwrap()["trust"], "warned", "n untouched");
    let all = cli.run(&["--json", "verify", "--all"]);
    assert_eq!(all.status.code(), Some(1), "one of two failed");
    let results: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let trusts: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trust"].as_str().unwrap())
        .collect();
    assert_eq!(
        trusts,
        ["failed", "warned"],
        "n matches only the digest computed when it was added (unchanged since import): \
         never `verified`, which is kept for a publisher's digest"
    );
    // A digest the bytes do not have is a failed verification too.
    let zero = format!("sha256:{}", "0".repeat(64));
    cli.expect(1, &["verify", "n", "--expect", &zero]);
    assert_eq!(cli.listed("n").unwrap()["trust"], "failed");
}

#[test]
fn check_is_clean_then_names_the_damaged_sealed_segment() {
    let cli = Cli::new();
    cli.write_src("a.gguf", &bytes(5000, 8));
    cli.write_src("b.gguf", &bytes(5000, 9));
    cli.ok(&["add", "a.gguf", "--id", "a"]);
    cli.ok(&["retire", "a"]);
    cli.ok(&["compact"]); // seals segment 1
    cli.ok(&["add", "b.gguf", "--id", "b"]);
    cli.ok(&["activate", "a"]);

    let out = cli.ok(&["check"]);
    assert!(out.lines().last() == Some("ok"), "{out}");
    let deep = cli.json(&["check", "--deep"]);
    assert_eq!(deep["ok"], true, "{deep}");
    assert_eq!(deep["problems"].as_array().unwrap().len(), 0);
    assert_eq!(deep["blobs_hashed"], 2);
    assert_eq!(deep["last_seq"], cli.json(&["head"])["seq"]);

    let seg1 = segment(cli.root(), 1);
    let mut journal = std::fs::read(&seg1).unwrap();
    journal[FIRST_RECORD_PAYLOAD_BYTE] ^= 0x80;
    std::fs::write(&seg1, &journal).unwrap();

    let out = cli.expect(1, &["check"]);
    assert!(
        out.contains(&seg1.display().to_string()),
        "the problem names the damaged file: {out}"
    );
    assert!(out.contains("problem (journal):"), "{out}");
    let report = cli.run(&["--json", "check"]);
    assert_eq!(report.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let problem = &report["problems"][0];
    assert_eq!(problem["file"], seg1.display().to_string(), "{report}");
    assert_eq!(problem["seq"], 1, "{report}");
    assert_eq!(
        problem["offset"], 84,
        "the damaged record starts after the header"
    );
    assert_eq!(
        std::fs::read(&seg1).unwrap(),
        journal,
        "check changes nothing"
    );

    // The state comes from the snapshot, so the catalog still opens; the
    // history through the damaged record cannot be read, and says where.
    assert_eq!(cli.json(&["list"]).as_array().unwrap().len(), 2);
    let history = cli.run(&["history", "a"]);
    assert_eq!(history.status.code(), Some(1), "{history:?}");
    let stderr = String::from_utf8_lossy(&history.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains(&seg1.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn a_catalog_that_refuses_to_open_exits_1_and_repair_salvages_it() {
    let cli = Cli::new();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        cli.write_src(name, &bytes(1000, 20 + i as u32));
        cli.ok(&["add", name]);
    }
    let seg1 = segment(cli.root(), 1);
    let mut journal = std::fs::read(&seg1).unwrap();
    journal[FIRST_RECORD_PAYLOAD_BYTE] ^= 0x80;
    std::fs::write(&seg1, &journal).unwrap();

    let list = cli.run(&["list"]);
    assert_eq!(
        list.status.code(),
        Some(1),
        "corruption is refused: {list:?}"
    );
    assert!(String::from_utf8_lossy(&list.stderr).contains("corrupt"));
    cli.expect(1, &["check"]);

    let repaired = cli.json(&["repair"]);
    assert_eq!(repaired["damage_found"], true, "{repaired}");
    assert_eq!(repaired["gaps"][0]["lost_seqs"], serde_json::json!([1, 1]));
    assert!(repaired["quarantined_to"].is_string(), "{repaired}");
    // The journal is whole again, but a record was lost: check says so
    // (exit 1), and does not send the operator back to repair.
    let check = cli.run(&["check"]);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("problem (history):") && stdout.contains("1..=1 were lost"),
        "{stdout}"
    );
    assert!(
        !String::from_utf8_lossy(&check.stderr).contains("repair"),
        "{check:?}"
    );
    let ids: Vec<String> = cli
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["b", "c"], "every record but the damaged one is kept");
    let again = cli.ok(&["repair"]);
    assert!(again.contains("no damage found"), "{again}");
}

#[test]
fn a_deep_check_hashes_the_store_and_names_a_changed_blob() {
    let cli = Cli::new();
    let weights = bytes(4096, 10);
    cli.write_src("m.gguf", &weights);
    cli.ok(&["add", "m.gguf", "--id", "m"]);
    let blob = cli.json(&["show", "m"])["model_path"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&blob, b"not the weights").unwrap();
    cli.ok(&["check"]); // the file exists; only hashing shows the change
    let out = cli.expect(1, &["check", "--deep"]);
    assert!(out.contains(&blob), "{out}");
}
