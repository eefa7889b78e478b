//! Shared helpers of the black-box tests: temporary tenants, a movable
//! clock, a reproducible file tree generator, byte-for-byte tree
//! comparison, and the plugin under test.
//!
//! `plugin_source()` honours `KINESIS_PLUGIN_WASM`: point it at any
//! component file to run the conformance suite against a third-party plugin.

#![allow(dead_code)]

pub mod http;
pub mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, TimeZone, Utc};
use kinesis_backup_core::runtime::{Clock, Invocation, PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::TenantDirs;

/// The plugin under test: the file named by `KINESIS_PLUGIN_WASM`, else the
/// embedded default plugin. `KINESIS_TEST_JOBS` sets how many instances a
/// create, restore or verify runs on (the runtime's default otherwise).
pub fn plugin_source() -> PluginSource {
    match std::env::var_os("KINESIS_PLUGIN_WASM").filter(|v| !v.is_empty()) {
        Some(path) => PluginSource::File(PathBuf::from(path)),
        None => PluginSource::Embedded,
    }
}

/// Runtime options for tests: defaults, with the precompiled-plugin cache
/// in the build's temporary folder so tests never touch `~/.cache`.
pub fn test_options() -> RuntimeOptions {
    let defaults = RuntimeOptions::default();
    let jobs = std::env::var("KINESIS_TEST_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(defaults.jobs);
    RuntimeOptions { cache_dir: Some(test_cache_dir()), jobs, ..defaults }
}

/// The default plugin built against contract 1.0.0.
pub fn plugin_v1_0_0() -> PluginSource {
    PluginSource::File(PathBuf::from(env!("KINESIS_PLUGIN_V1_0_0_WASM")))
}

/// The cache folder tests share.
pub fn test_cache_dir() -> PathBuf {
    std::env::temp_dir().join("kinesis-backup-test-cache")
}

/// One runtime of the plugin under test, shared by the tests of a binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::load(plugin_source(), test_options())
            .unwrap_or_else(|e| panic!("the plugin under test does not load: {e}"))
    })
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    /// A clock showing `start`.
    pub fn at(start: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(start)))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// `YYYY-MM-DD hh:mm:ss` in UTC.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("a valid test time")
}

/// A temporary tenant folder with the standard layout, removed on drop.
pub struct Tenant {
    dir: tempfile::TempDir,
    /// Its folders.
    pub dirs: TenantDirs,
}

impl Tenant {
    /// A new, empty tenant (the four folders exist, `.env` does not).
    pub fn new() -> Tenant {
        let dir = tempfile::Builder::new().prefix("kinesis-tenant-").tempdir().expect("a temporary folder");
        let dirs = TenantDirs::for_root(dir.path().join("tenant"));
        dirs.ensure_exist().expect("tenant folders");
        Tenant { dir, dirs }
    }

    /// The tenant's root folder.
    pub fn root(&self) -> &Path {
        &self.dirs.root
    }

    /// An invocation with the system clock.
    pub fn invocation(&self) -> Invocation {
        Invocation::new(self.dirs.clone())
    }

    /// An invocation with `clock`.
    pub fn invocation_with(&self, clock: Arc<dyn Clock>) -> Invocation {
        Invocation { clock, ..Invocation::new(self.dirs.clone()) }
    }

    /// A scratch folder beside the tenant (not inside it).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("scratch folder");
        path
    }

    /// Fills the tenant with a reproducible tree (see [`generate_tree`]) and
    /// a `.env`.
    pub fn fill(&self, seed: u64) {
        for (name, dir) in
            [("data", &self.dirs.data), ("public", &self.dirs.public), ("translations", &self.dirs.translations)]
        {
            generate_tree(dir, seed ^ name.len() as u64, name == "data");
        }
        std::fs::write(&self.dirs.env_file, format!("SECRET=seed-{seed}\nPORT=8080\n")).expect(".env");
    }

    /// Everything a backup covers: `.env` and the three data folders.
    pub fn snapshot(&self) -> BTreeMap<String, Entry> {
        let mut all = BTreeMap::new();
        if let Ok(env) = std::fs::read(&self.dirs.env_file) {
            all.insert(".env".to_string(), Entry::File(env));
        }
        for (name, dir) in
            [("data", &self.dirs.data), ("public", &self.dirs.public), ("translations", &self.dirs.translations)]
        {
            for (path, entry) in snapshot_tree(dir) {
                all.insert(format!("{name}/{path}"), entry);
            }
        }
        all
    }
}

/// A small deterministic pseudo-random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    /// Seeded generator; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// Writes a reproducible tree under `root`: nested folders, empty files,
/// empty folders, Unicode names, text, and (when `big`) about 3 MiB of
/// pseudo-random bytes.
pub fn generate_tree(root: &Path, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(&path, bytes).expect("a file");
    };
    write(root.join("empty.txt"), b"");
    std::fs::create_dir_all(root.join("empty-folder")).expect("an empty folder");
    std::fs::create_dir_all(root.join("nested/deeper/empty")).expect("an empty nested folder");
    write(root.join("Grüße/日本語 ファイル.txt"), "こんにちは, Grüße, émoji 🎉\n".as_bytes());
    write(root.join("nested/deeper/notes.md"), format!("# notes {seed}\n").repeat(200).as_bytes());
    for i in 0..12 {
        let len = (rng.next() % 20_000) as usize;
        write(root.join(format!("nested/file-{i:02}.bin")), &rng.bytes(len));
    }
    if big {
        write(root.join("big/random.bin"), &rng.bytes(3 * 1024 * 1024 + 17));
    }
}

/// A file or folder in a tree snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A folder.
    Dir,
    /// A regular file and its bytes.
    File(Vec<u8>),
    /// A symbolic link and its target.
    Link(PathBuf),
}

/// Every entry under `root`, by relative path (with `/`), without following
/// links. Comparing two snapshots compares trees byte for byte.
pub fn snapshot_tree(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let entry = entry.expect("a folder entry");
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            let kind = entry.file_type().expect("a file type");
            if kind.is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&path).expect("a link")));
            } else if kind.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(root, &path, out);
            } else {
                out.insert(rel, Entry::File(std::fs::read(&path).expect("a file")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Asserts two snapshots are equal, naming the first differences.
pub fn assert_same_tree(expected: &BTreeMap<String, Entry>, actual: &BTreeMap<String, Entry>) {
    let missing: Vec<&String> = expected.keys().filter(|k| !actual.contains_key(*k)).collect();
    let extra: Vec<&String> = actual.keys().filter(|k| !expected.contains_key(*k)).collect();
    let changed: Vec<&String> =
        expected.iter().filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v)).map(|(k, _)| k).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && changed.is_empty(),
        "trees differ: missing {missing:?}, unexpected {extra:?}, changed {changed:?}"
    );
}

/// Flips bits of the byte in the middle of `file` (a damaged archive or
/// cache file).
pub fn flip_middle_byte(file: &Path) {
    let mut bytes = std::fs::read(file).expect("the file to damage");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x41;
    std::fs::write(file, &bytes).expect("the damaged file");
}
