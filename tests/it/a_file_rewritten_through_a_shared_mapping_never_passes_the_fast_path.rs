//! Issue 19, attacked after the fix. The fast path of `verify --fast`
//! trusts a file whose (size, ctime, inode) are those recorded when its
//! bytes were hashed: "the kernel sets ctime on every write". Not on a
//! write through a shared mapping to a page that is already dirty: the
//! kernel updates the times when a clean page is first written (its write
//! fault), and the page stays dirty, and writable without a fault, until
//! writeback (up to `dirty_expire_centisecs`, 30 s by default). The owner
//! of a model registered in place dirties its file's pages through a
//! mapping before the model is adopted, and writes other bytes through the
//! same mapping afterwards: the ctime does not move.
//!
//! A `verify --fast` of the model must never pass or warn about bytes that
//! are not the ones registered: it must re-hash and fail.
//!
//! Failed before the fix (the attack of 2026-12-07): the fast path says "unchanged ... not
//! re-hashed". With the `catalog` binary as root and the file `nobody`'s,
//! `verify --fast` said `warn` (exit 0) for a plain directory and `pass`,
//! trust `verified`, for a Hugging Face cache blob adopted in place, while
//! a full `verify` failed. (A `write(2)` right after the fingerprint always
//! moved the ctime on this kernel, 6.18: fine-grained once queried.) It
//! can pass only if writeback cleans the page between the two writes.

use catalog_core::{AdoptOptions, Catalog, VerifyOptions, VerifyResult};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};
use std::fs::OpenOptions;

const LEN: usize = 1 << 20;

/// A shared, writable mapping of a whole file.
struct Shared {
    ptr: *mut std::ffi::c_void,
    len: usize,
}

impl Shared {
    fn new(file: &std::fs::File, len: usize) -> Shared {
        // SAFETY: a fresh mapping the kernel places; `len` bytes of `file`,
        // which is at least that long, and only this value touches it.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                file,
                0,
            )
        }
        .unwrap();
        Shared { ptr, len }
    }

    fn fill(&mut self, byte: u8) {
        // SAFETY: `ptr` maps `len` writable bytes until `drop`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }.fill(byte);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `new`, once.
        let _ = unsafe { munmap(self.ptr, self.len) };
    }
}

#[test]
fn a_model_rewritten_through_a_mapping_after_it_was_hashed_is_re_hashed_and_fails() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    std::fs::write(dir.join("w.bin"), vec![0u8; LEN]).unwrap();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("w.bin"))
        .unwrap();
    let mut map = Shared::new(&file, LEN);
    map.fill(b'A'); // dirties every page: the times move now, once
    let catalog = Catalog::open(base.path().join("root")).unwrap();
    let report = catalog
        .adopt(&dir, AdoptOptions::default().in_place(true), &|_| {})
        .unwrap();
    let id = report.models[0].id.clone();
    let ctime = || std::fs::metadata(dir.join("w.bin")).unwrap();
    let before = ctime();

    map.fill(b'B'); // the same pages, still dirty: no fault
    drop(map);
    assert_eq!(
        std::fs::read(dir.join("w.bin")).unwrap(),
        vec![b'B'; LEN],
        "the file holds other bytes now"
    );
    let after = ctime();
    let unchanged = {
        use std::os::unix::fs::MetadataExt;
        (before.ctime(), before.ctime_nsec()) == (after.ctime(), after.ctime_nsec())
    };
    let fast = catalog
        .verify(&id, VerifyOptions::default().fast_path(true), &|_| {})
        .unwrap();
    assert_eq!(
        fast.outcome.result,
        VerifyResult::Fail,
        "verify --fast about bytes that are not the ones registered (ctime unchanged by the \
         rewrite: {unchanged}; fast path used: {}): {}",
        fast.fast_path_used,
        fast.outcome.reason
    );
}
