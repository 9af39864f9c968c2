//! Every file carries magic and a format version; a newer version is
//! refused with `UnsupportedVersion { expected, got }`, never read.

use crate::support::{segment, snapshot, spec};
use catalog_core::{Catalog, Error};
use std::path::Path;

const VERSION_OFFSET: usize = 8;

/// Writes the version after the newest this build knows; returns (known, written).
fn bump_version(file: &Path) -> (u32, u32) {
    let mut bytes = std::fs::read(file).unwrap();
    let known = u32::from_le_bytes(
        bytes[VERSION_OFFSET..VERSION_OFFSET + 4]
            .try_into()
            .unwrap(),
    );
    bytes[VERSION_OFFSET..VERSION_OFFSET + 4].copy_from_slice(&(known + 1).to_le_bytes());
    std::fs::write(file, bytes).unwrap();
    (known, known + 1)
}

fn compacted_catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    catalog.put(spec(1)).unwrap();
    catalog.compact().unwrap();
    catalog.put(spec(2)).unwrap();
    dir
}

#[test]
fn a_newer_version_in_any_file_is_refused_by_writers_and_readers() {
    type PathOf = fn(&Path) -> std::path::PathBuf;
    let files: [(&str, PathOf); 4] = [
        ("identity", |r| r.join("catalog/IDENTITY")),
        ("sealed segment", |r| segment(r, 1)),
        ("newest segment", |r| segment(r, 2)),
        ("snapshot", |r| snapshot(r, 1)),
    ];
    for (what, path) in files {
        let dir = compacted_catalog();
        let file = path(dir.path());
        let (known, newer) = bump_version(&file);
        let before = std::fs::read(&file).unwrap();
        for result in [
            Catalog::open(dir.path()),
            Catalog::open_read_only(dir.path()),
        ] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, Error::UnsupportedVersion { file: f, expected, got } if *f == file && *expected == known && *got == newer),
                "{what}: {err}"
            );
            assert!(
                err.to_string().contains("upgrade"),
                "{what}: message says what to do: {err}"
            );
        }
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{what}: the file is untouched"
        );
    }
}

#[test]
fn a_wrong_magic_is_corruption_not_a_version() {
    let dir = compacted_catalog();
    let seg = segment(dir.path(), 2);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&seg, bytes).unwrap();
    let err = Catalog::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { file, offset: 0, .. } if *file == seg),
        "{err}"
    );
}
