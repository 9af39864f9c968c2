//! Hashing a file, a stream or a copy gives the reference SHA-256 of the same
//! bytes (known vectors and `Digest::of_bytes`), at every size around the
//! read-buffer boundary, in parallel as well as alone, and progress deltas
//! add up to the size.

use catalog_core::{
    Digest, DigestCheck, Error, FileDigest, HASH_BUFFER_SIZE, VerifyResult, copy_and_hash,
    hash_file, hash_files, hash_reader, verify_digest,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const MILLION_A: &str = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

/// Deterministic pseudo-random bytes (splitmix64), different per `seed`.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd1b5_4a32_d192_ed03;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Hashes `path` with `hash_file`, checking that progress deltas are
/// non-zero, at most one buffer each, and add up to the byte count.
fn hash_file_checked(path: &Path) -> FileDigest {
    let mut deltas = Vec::new();
    let got = hash_file(path, &mut |n| deltas.push(n))
        .unwrap_or_else(|e| panic!("hash_file {}: {e}", path.display()));
    assert_eq!(
        deltas.iter().sum::<u64>(),
        got.bytes,
        "{}: progress deltas add up to the bytes hashed",
        path.display()
    );
    assert!(
        deltas
            .iter()
            .all(|&d| d > 0 && d <= HASH_BUFFER_SIZE as u64),
        "{}: every delta is non-zero and at most one buffer: {deltas:?}",
        path.display()
    );
    got
}

#[test]
fn known_vectors_match_for_reader_file_and_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let million_a = vec![b'a'; 1_000_000];
    for (name, input, hex) in [
        ("empty", &b""[..], EMPTY),
        ("abc", &b"abc"[..], ABC),
        ("million-a", &million_a[..], MILLION_A),
    ] {
        let len = input.len() as u64;

        let mut seen = 0;
        let from_reader = hash_reader(&mut &input[..], &mut |n| seen += n).expect("hash_reader");
        assert_eq!(from_reader.digest.hex(), hex, "{name}: hash_reader digest");
        assert_eq!(from_reader.bytes, len, "{name}: hash_reader byte count");
        assert_eq!(seen, len, "{name}: hash_reader progress");

        let from_file = hash_file_checked(&write(dir.path(), name, input));
        assert_eq!(from_file.digest.hex(), hex, "{name}: hash_file digest");
        assert_eq!(from_file.bytes, len, "{name}: hash_file byte count");

        let mut copy = Vec::new();
        let copied = copy_and_hash(&mut &input[..], &mut copy, &mut |_| {}).expect("copy");
        assert_eq!(copied.digest.hex(), hex, "{name}: copy_and_hash digest");
        assert_eq!(copy, input, "{name}: copy_and_hash copied the bytes");

        assert_eq!(
            Digest::of_bytes(input).hex(),
            hex,
            "{name}: the in-memory reference agrees"
        );
    }
}

#[test]
fn hash_file_matches_of_bytes_at_every_size_around_the_buffer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = HASH_BUFFER_SIZE;
    let sizes = [
        0,
        1,
        b - 1,
        b,
        b + 1,
        2 * b - 1,
        2 * b,
        2 * b + 1,
        5 * 1024 * 1024 + 12_345,
    ];
    for (i, &size) in sizes.iter().enumerate() {
        let bytes = random_bytes(size, i as u64);
        let path = write(dir.path(), &format!("f{size}"), &bytes);
        let got = hash_file_checked(&path);
        assert_eq!(
            got,
            FileDigest {
                digest: Digest::of_bytes(&bytes),
                bytes: size as u64
            },
            "size {size}"
        );
    }
}

#[test]
fn different_contents_of_the_same_size_give_different_digests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = random_bytes(HASH_BUFFER_SIZE + 1, 7);
    let before = hash_file_checked(&write(dir.path(), "a", &bytes));
    // Flip one bit in the byte that lands in the second read.
    bytes[HASH_BUFFER_SIZE] ^= 1;
    let after = hash_file_checked(&write(dir.path(), "b", &bytes));
    assert_ne!(
        before.digest, after.digest,
        "a bit flip after the first buffer changes the digest"
    );
    assert_eq!(
        after.digest,
        Digest::of_bytes(&bytes),
        "and still matches the reference"
    );
}

#[test]
fn copy_and_hash_writes_identical_bytes_and_returns_the_same_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, size) in [0, 1, HASH_BUFFER_SIZE + 1, 3 * 1024 * 1024 + 7]
        .into_iter()
        .enumerate()
    {
        let bytes = random_bytes(size, 100 + i as u64);
        let src_path = write(dir.path(), &format!("src{i}"), &bytes);
        let dst_path = dir.path().join(format!("dst{i}"));

        let mut src = std::fs::File::open(&src_path).expect("open src");
        let mut dst = std::fs::File::create(&dst_path).expect("create dst");
        let mut seen = 0;
        let copied = copy_and_hash(&mut src, &mut dst, &mut |n| seen += n).expect("copy");
        drop(dst);

        let written = std::fs::read(&dst_path).expect("read dst");
        assert!(written == bytes, "size {size}: the copy is byte-identical");
        assert_eq!(
            copied.digest,
            Digest::of_bytes(&bytes),
            "size {size}: digest"
        );
        assert_eq!(copied.bytes, size as u64, "size {size}: byte count");
        assert_eq!(seen, size as u64, "size {size}: progress adds up");
        assert_eq!(
            copied,
            hash_file_checked(&dst_path),
            "size {size}: hashing the written file gives the same answer"
        );
    }
}

#[test]
fn hash_files_matches_hash_file_in_order_with_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Sizes deliberately not sorted, with ties and an empty file.
    let sizes = [
        17,
        3 * 1024 * 1024 + 1,
        0,
        HASH_BUFFER_SIZE,
        900_000,
        17,
        2 * 1024 * 1024,
        1,
        HASH_BUFFER_SIZE + 1,
        5000,
        1_500_000,
        64 * 1024,
    ];
    let paths: Vec<PathBuf> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            write(
                dir.path(),
                &format!("m{i:02}"),
                &random_bytes(size, 1000 + i as u64),
            )
        })
        .collect();
    let expected: Vec<FileDigest> = paths.iter().map(|p| hash_file_checked(p)).collect();
    let total: u64 = sizes.iter().map(|&s| s as u64).sum();

    for threads in [1, 2, 0, 64] {
        let seen = AtomicU64::new(0);
        let results = hash_files(&paths, threads, &|n| {
            seen.fetch_add(n, Ordering::Relaxed);
        });
        assert_eq!(
            results.len(),
            paths.len(),
            "threads {threads}: one result per path"
        );
        for (i, (result, want)) in results.iter().zip(&expected).enumerate() {
            match result {
                Ok(got) => assert_eq!(got, want, "threads {threads}: file {i} (in order)"),
                Err(e) => panic!("threads {threads}: file {i} failed: {e}"),
            }
        }
        assert_eq!(
            seen.load(Ordering::Relaxed),
            total,
            "threads {threads}: progress from all threads adds up"
        );
    }
}

#[test]
fn hash_files_reports_a_missing_file_at_its_position_and_hashes_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = random_bytes(HASH_BUFFER_SIZE * 3 + 5, 1);
    let c = random_bytes(10, 3);
    let missing = dir.path().join("not-there");
    let paths = vec![
        write(dir.path(), "a", &a),
        missing.clone(),
        write(dir.path(), "c", &c),
    ];
    for threads in [1, 2, 0] {
        let results = hash_files(&paths, threads, &|_| {});
        assert_eq!(results.len(), 3, "threads {threads}: one result per path");
        assert!(
            matches!(&results[0], Ok(d) if d.digest == Digest::of_bytes(&a)),
            "threads {threads}: first file hashed: {:?}",
            results[0]
        );
        match &results[1] {
            Err(Error::Io { path, source }) => {
                assert_eq!(
                    path, &missing,
                    "threads {threads}: the error names the missing path"
                );
                assert_eq!(
                    source.kind(),
                    std::io::ErrorKind::NotFound,
                    "threads {threads}: not found"
                );
            }
            other => {
                panic!("threads {threads}: expected Error::Io for the missing file, got {other:?}")
            }
        }
        assert!(
            matches!(&results[2], Ok(d) if d.digest == Digest::of_bytes(&c) && d.bytes == 10),
            "threads {threads}: third file hashed: {:?}",
            results[2]
        );
    }
}

#[test]
fn hash_file_on_a_missing_path_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.gguf");
    let err = hash_file(&missing, &mut |_| {}).expect_err("missing file");
    assert!(
        matches!(&err, Error::Io { path, source } if path == &missing
            && source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("nope.gguf"),
        "the message names the file: {err}"
    );
}

#[test]
fn verify_digest_passes_warns_and_fails_with_reasons() {
    let actual = Digest::of_bytes(b"weights");
    let other = Digest::of_bytes(b"other weights");

    let pass = verify_digest(&actual, Some(&actual));
    assert_eq!(pass, DigestCheck::Pass, "equal digests pass");
    assert_eq!(pass.result(), VerifyResult::Pass, "pass result");
    assert_eq!(pass.reason(), "digest matches", "pass reason");

    let same_value = Digest::sha256(*actual.as_bytes());
    assert_eq!(
        verify_digest(&actual, Some(&same_value)),
        DigestCheck::Pass,
        "equality is by value"
    );

    let warn = verify_digest(&actual, None);
    assert_eq!(warn.result(), VerifyResult::Warn, "no expectation warns");
    assert_eq!(warn.reason(), "no expected digest", "warn reason");
    assert!(matches!(warn, DigestCheck::Warn { .. }), "{warn:?}");

    let fail = verify_digest(&actual, Some(&other));
    assert_eq!(fail.result(), VerifyResult::Fail, "a mismatch fails");
    assert_eq!(
        fail.reason(),
        format!("digest mismatch: expected {other}, got {actual}"),
        "fail reason names expected, then actual"
    );
    assert!(
        fail.reason().contains(&other.hex()) && fail.reason().contains(&actual.hex()),
        "{fail:?}"
    );
}

#[test]
fn hash_files_takes_the_largest_file_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = HASH_BUFFER_SIZE;
    let paths = vec![
        write(dir.path(), "small", &random_bytes(10, 1)),
        write(dir.path(), "large", &random_bytes(2 * b + 3, 2)),
        write(dir.path(), "medium", &random_bytes(1000, 3)),
    ];
    // One thread: the order of the progress deltas is the order of work.
    let deltas = std::sync::Mutex::new(Vec::new());
    let results = hash_files(&paths, 1, &|n| deltas.lock().expect("not poisoned").push(n));
    assert!(results.iter().all(Result::is_ok), "all hashed: {results:?}");
    let deltas = deltas.into_inner().expect("not poisoned");
    assert_eq!(
        deltas,
        vec![b as u64, b as u64, 3, 1000, 10],
        "large, then medium, then small"
    );
}

#[test]
fn hash_files_really_uses_several_threads() {
    use std::collections::HashSet;
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = (0..4)
        .map(|i| {
            write(
                dir.path(),
                &format!("p{i}"),
                &random_bytes(1000 + i, i as u64),
            )
        })
        .collect();
    // The first thread to report progress waits (up to a generous timeout)
    // until another thread reports too; with one thread that never happens.
    let seen = Mutex::new(HashSet::new());
    let more_than_one = Condvar::new();
    let results = hash_files(&paths, 2, &|_| {
        let mut ids = seen.lock().expect("not poisoned");
        ids.insert(std::thread::current().id());
        if ids.len() > 1 {
            more_than_one.notify_all();
        } else {
            let _ = more_than_one
                .wait_timeout_while(ids, Duration::from_secs(20), |ids| ids.len() < 2)
                .expect("not poisoned");
        }
    });
    assert!(results.iter().all(Result::is_ok), "all hashed: {results:?}");
    assert_eq!(
        seen.into_inner().expect("not poisoned").len(),
        2,
        "two threads hashed files"
    );
}
