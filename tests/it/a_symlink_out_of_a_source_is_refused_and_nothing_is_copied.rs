//! Issue 19, finding N4. The catalog runs as root and imports model
//! directories other users own. A symlink inside such a directory that
//! leads out of it (`tokenizer.json -> /home/alice/.ssh/id_ed25519`, or
//! `-> ../outside/secret`) must never bring the file it leads to into the
//! store, where it would be kept world-readable (`0444`) and served through
//! `views/<hex>/tokenizer.json`: the import (`Catalog::import`, `catalog
//! add`) and the adoption (`Catalog::adopt`) of such a directory are refused
//! with `Error::UnsafeSource`, nothing is registered, and no file under the
//! catalog root holds the linked file's bytes. A symlink that stays inside
//! the directory (`alias.json -> config.json`) is still followed.
//!
//! And the store never makes a file more readable than its source: a
//! `0600` file imported by copy is stored without group or other read bits.

use catalog_core::{AdoptOptions, Catalog, Digest, Error, ImportOptions, ModelRef};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// The bytes of another user's private file: distinctive enough that no
/// catalog file holds them by chance.
fn secret() -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    let mut out = b"-----BEGIN OPENSSH PRIVATE KEY----- not for the store ".to_vec();
    out.extend((0..4096).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x >> 24) as u8
    }));
    out
}

const CONFIG: &[u8] = b"{\"architectures\":[\"LlamaForCausalLM\"]}";
const WEIGHTS: &[u8] = b"safetensors weights of the model itself";

/// `base/model/` (a model directory with two regular files) beside
/// `base/outside/secret` (mode 0600), and an empty catalog root.
struct World {
    base: tempfile::TempDir,
    root: PathBuf,
    model: PathBuf,
    secret: PathBuf,
}

impl World {
    fn new() -> World {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root");
        let model = base.path().join("model");
        let secret = base.path().join("outside/secret");
        std::fs::create_dir_all(&model).unwrap();
        std::fs::create_dir_all(secret.parent().unwrap()).unwrap();
        std::fs::write(model.join("config.json"), CONFIG).unwrap();
        std::fs::write(model.join("model.safetensors"), WEIGHTS).unwrap();
        std::fs::write(&secret, self::secret()).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        World {
            root,
            model,
            secret,
            base,
        }
    }
}

fn file_ref(path: &Path) -> ModelRef {
    ModelRef::parse(&format!("file:{}", path.display())).unwrap()
}

/// Every regular file under `dir` (symlinks are not followed) whose bytes
/// contain `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(files_holding(&path, needle));
        } else if meta.is_file()
            && std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

fn assert_secret_not_under_root(world: &World, what: &str) {
    let holders = files_holding(&world.root, &secret());
    assert!(
        holders.is_empty(),
        "{what}: no file under the catalog root may hold the bytes of {} (the symlink's \
         target, another user's file), but these do: {holders:?}",
        world.secret.display()
    );
}

#[test]
fn an_import_through_an_absolute_symlink_out_of_the_directory_is_refused() {
    let world = World::new();
    symlink(&world.secret, world.model.join("tokenizer.json")).unwrap();
    let catalog = Catalog::open(&world.root).unwrap();

    let imported = catalog.import(
        &file_ref(&world.model),
        ImportOptions::default().id("escaping"),
    );
    assert!(
        matches!(imported, Err(Error::UnsafeSource { .. })),
        "a directory whose tokenizer.json is a symlink to {} (outside it) must be refused \
         with Error::UnsafeSource, got {imported:?}",
        world.secret.display()
    );
    assert!(
        catalog.list().is_empty(),
        "nothing is registered by a refused import: {:?}",
        catalog.list()
    );
    assert_secret_not_under_root(&world, "absolute symlink out");
}

#[test]
fn relative_symlinks_are_followed_inside_the_directory_and_refused_out_of_it() {
    let world = World::new();
    // Inside: two links that stay in the model directory.
    std::fs::create_dir_all(world.model.join("sub")).unwrap();
    symlink("config.json", world.model.join("alias.json")).unwrap();
    symlink("../config.json", world.model.join("sub/x.json")).unwrap();
    let catalog = Catalog::open(&world.root).unwrap();
    let report = catalog
        .import(
            &file_ref(&world.model),
            ImportOptions::default().id("inside"),
        )
        .unwrap_or_else(|e| {
            panic!("symlinks that stay inside the model directory are followed, but: {e}")
        });
    let view = catalog.model_path("inside").unwrap();
    for rel in ["alias.json", "sub/x.json"] {
        assert_eq!(
            std::fs::read(view.join(rel)).ok().as_deref(),
            Some(CONFIG),
            "{rel}, a link to config.json inside the directory, is imported with \
             config.json's bytes"
        );
    }
    assert_eq!(report.files, 4, "config, weights and the two links");

    // Out: `../outside/secret`, relative, leaves the directory.
    let escaping = world.base.path().join("escaping");
    std::fs::create_dir_all(&escaping).unwrap();
    std::fs::write(escaping.join("config.json"), CONFIG).unwrap();
    symlink("../outside/secret", escaping.join("tokenizer.json")).unwrap();
    assert_eq!(
        std::fs::read(escaping.join("tokenizer.json")).unwrap(),
        secret(),
        "the test's relative link leads to the secret"
    );
    let seq = catalog.head().seq;
    let imported = catalog.import(
        &file_ref(&escaping),
        ImportOptions::default().id("escaping"),
    );
    assert!(
        matches!(imported, Err(Error::UnsafeSource { .. })),
        "a directory whose tokenizer.json is a relative symlink `../outside/secret` must be \
         refused with Error::UnsafeSource, got {imported:?}"
    );
    assert!(
        !catalog.exists("escaping"),
        "nothing is registered by a refused import"
    );
    assert_eq!(catalog.head().seq, seq, "a refused import writes no record");
    assert_secret_not_under_root(&world, "relative symlink out");
}

#[test]
fn a_private_source_file_is_never_stored_more_readable_than_it_was() {
    let world = World::new();
    let private = b"weights only their owner may read".to_vec();
    let single = world.base.path().join("private.gguf");
    std::fs::write(&single, &private).unwrap();
    std::fs::set_permissions(&single, std::fs::Permissions::from_mode(0o600)).unwrap();
    let in_dir = world.model.join("private.bin");
    let private_in_dir = b"a private shard of a directory model".to_vec();
    std::fs::write(&in_dir, &private_in_dir).unwrap();
    std::fs::set_permissions(&in_dir, std::fs::Permissions::from_mode(0o600)).unwrap();
    let catalog = Catalog::open(&world.root).unwrap();

    catalog
        .import(&file_ref(&single), ImportOptions::default().id("single"))
        .unwrap();
    catalog
        .import(&file_ref(&world.model), ImportOptions::default().id("dir"))
        .unwrap();
    for (what, bytes) in [("private.gguf", &private), ("private.bin", &private_in_dir)] {
        let blob = world
            .root
            .join("blobs/sha256")
            .join(Digest::of_bytes(bytes).hex());
        let mode = std::fs::metadata(&blob)
            .unwrap_or_else(|e| panic!("{what}: its blob {} exists: {e}", blob.display()))
            .permissions()
            .mode();
        assert!(
            mode & 0o077 == 0,
            "{what} has mode 0600; its copy in the store ({}) has mode {:o} and may not be \
             readable by group or others",
            blob.display(),
            mode & 0o7777
        );
    }
}

#[test]
fn an_adoption_through_a_symlink_out_of_the_directory_is_refused() {
    let world = World::new();
    symlink(&world.secret, world.model.join("tokenizer.json")).unwrap();
    let catalog = Catalog::open(&world.root).unwrap();
    let seq = catalog.head().seq;

    let adopted = catalog.adopt(&world.model, AdoptOptions::default(), &|_| {});
    assert!(
        matches!(adopted, Err(Error::UnsafeSource { .. })),
        "adopting a plain directory whose tokenizer.json is a symlink to {} (outside it) must \
         be refused with Error::UnsafeSource, got {adopted:?}",
        world.secret.display()
    );
    assert_eq!(
        catalog.head().seq,
        seq,
        "a refused adoption writes no record: {:?}",
        catalog.list()
    );
    assert_secret_not_under_root(&world, "adopt");
}

#[cfg(feature = "cli")]
#[test]
fn catalog_add_of_a_directory_with_a_symlink_out_is_refused() {
    use crate::cli_support::Cli;
    let world = World::new();
    symlink(&world.secret, world.model.join("tokenizer.json")).unwrap();
    let cli = Cli::new();
    let out = cli
        .cmd(&["add", world.model.to_str().unwrap(), "--id", "escaping"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "`catalog add` of a directory with a symlink to {} must fail, but it exited {:?}\n\
         stdout:\n{}",
        world.secret.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    let holders = files_holding(cli.root(), &secret());
    assert!(
        holders.is_empty(),
        "no file under the catalog root holds the secret after a refused `add`: {holders:?}"
    );
    match Catalog::open_read_only(cli.root()) {
        Ok(catalog) => assert!(
            catalog.list().is_empty(),
            "nothing is registered by a refused `add`: {:?}",
            catalog.list()
        ),
        Err(Error::NoCatalog { .. }) => {}
        Err(e) => panic!("the root after a refused `add` opens read-only: {e}"),
    }
}
