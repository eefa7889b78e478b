//! Shared helpers of the black-box tests: temporary tenants and the plugin
//! under test; the movable clock, the reproducible file tree generator and
//! the byte-for-byte tree comparison are the conformance suite's.
//!
//! `plugin_source()` honours `KINESIS_PLUGIN_WASM`: point it at any
//! component file to run the conformance suite against a third-party plugin.

#![allow(dead_code)]

pub mod http;
pub mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kinesis_backup_core::runtime::{Clock, Invocation, PluginSource, RuntimeOptions};
use kinesis_backup_core::tenant::TenantDirs;

#[allow(unused_imports)]
pub use kinesis_backup::conformance::clock::{TestClock, utc};
use kinesis_backup::conformance::scratch;
#[allow(unused_imports)]
pub use kinesis_backup::conformance::tree::{Entry, Rng, differences, generate_tree, snapshot_tree};

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
    RuntimeOptions { cache_dir: Some(test_cache_dir()), jobs: test_jobs().unwrap_or(defaults.jobs), ..defaults }
}

/// The instances per create, restore or verify `KINESIS_TEST_JOBS` asks
/// for, if it does.
pub fn test_jobs() -> Option<u32> {
    std::env::var("KINESIS_TEST_JOBS").ok().and_then(|v| v.parse().ok())
}

/// The default plugin built against contract 1.0.0.
pub fn plugin_v1_0_0() -> PluginSource {
    PluginSource::File(PathBuf::from(env!("KINESIS_PLUGIN_V1_0_0_WASM")))
}

/// The cache folder tests share.
pub fn test_cache_dir() -> PathBuf {
    std::env::temp_dir().join("kinesis-backup-test-cache")
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

    /// Fills the tenant with a reproducible tree (see [`generate_tree`];
    /// about 3 MiB more in `data`) and a `.env`.
    pub fn fill(&self, seed: u64) {
        scratch::fill(&self.dirs, seed, true).expect("the generated tree");
    }

    /// Everything a backup covers: `.env` and the three data folders.
    pub fn snapshot(&self) -> BTreeMap<String, Entry> {
        scratch::snapshot(&self.dirs)
    }
}

/// Asserts two snapshots are equal, naming the first differences.
pub fn assert_same_tree(expected: &BTreeMap<String, Entry>, actual: &BTreeMap<String, Entry>) {
    if let Some(diff) = differences(expected, actual) {
        panic!("trees differ: {diff}");
    }
}

/// Flips bits of the byte in the middle of `file` (a damaged archive or
/// cache file).
pub fn flip_middle_byte(file: &Path) {
    let mut bytes = std::fs::read(file).expect("the file to damage");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x41;
    std::fs::write(file, &bytes).expect("the damaged file");
}
