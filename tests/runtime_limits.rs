//! The runtime's limits, with a component that misbehaves on purpose
//! (`tests/components/misbehaving`): a guest that loops is stopped by its
//! deadline, one that eats memory by the memory limit, a panic is reported
//! as a crash, and after each the next call works. Plugins that are not
//! components or do not implement the contract are refused at load with a
//! clear message, and the precompiled artifact is cached.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kinesis_backup_core::runtime::{ArtifactOrigin, CallError, LoadError, PluginSource, Runtime, RuntimeOptions};
use support::{Tenant, TestClock, utc};

fn misbehaving() -> PluginSource {
    PluginSource::File(PathBuf::from(env!("KINESIS_MISBEHAVING_PLUGIN_WASM")))
}

/// A runtime of the misbehaving component with tight limits.
fn tight_runtime() -> Runtime {
    let options = RuntimeOptions {
        memory_limit_bytes: 32 * 1024 * 1024,
        quick_deadline: Duration::from_millis(300),
        long_deadline: Duration::from_secs(2),
        liveness: Duration::from_secs(60),
        cache_dir: Some(support::test_cache_dir()),
        max_instances: 16,
        jobs: 1,
    };
    Runtime::load(misbehaving(), options).expect("the misbehaving component implements the contract")
}

/// The call that must work after each failure.
fn assert_next_call_works(runtime: &Runtime, tenant: &Tenant) {
    let page = runtime.list(&tenant.invocation(), None, 10, 0).expect("the next call works");
    assert_eq!(page.amount, 0);
}

#[test]
fn a_guest_that_loops_forever_is_stopped_by_its_deadline() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    let started = Instant::now();
    let err = runtime.list(&tenant.invocation(), Some("loop"), 10, 0).unwrap_err();
    assert!(matches!(err, CallError::DeadlineExceeded { ref operation, .. } if operation == "list"), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped near its 300 ms deadline, took {:?}",
        started.elapsed()
    );
    assert_next_call_works(&runtime, &tenant);
}

#[test]
fn a_guest_that_eats_memory_is_stopped_at_the_limit() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    let err = runtime.list(&tenant.invocation(), Some("oom"), 10, 0).unwrap_err();
    assert_eq!(err, CallError::OutOfMemory { operation: "list".into(), limit_mib: 32 });
    assert!(err.to_string().contains("32 MiB"), "{err}");
    assert_next_call_works(&runtime, &tenant);
}

#[test]
fn a_guest_that_panics_is_reported_with_its_message() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    let err = runtime.list(&tenant.invocation(), Some("trap"), 10, 0).unwrap_err();
    let CallError::Trapped { operation, message } = &err else { panic!("expected a trap, got {err:?}") };
    assert_eq!(operation, "list");
    assert!(message.contains("asked to trap"), "the panic message is reported: {message}");
    assert_next_call_works(&runtime, &tenant);
}

#[test]
fn contract_errors_come_back_as_their_case() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    let err = runtime.get(&tenant.invocation(), 42).unwrap_err();
    assert_eq!(err, CallError::NotFound("no backup has the id 42".into()));
}

#[test]
fn the_guest_reads_the_invocations_clock() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    let when = utc(2031, 3, 4, 5, 6, 7);
    let page = runtime.list(&tenant.invocation_with(TestClock::at(when)), Some("now"), 10, 0).unwrap();
    assert_eq!(page.backups[0].created_at, when);
}

#[test]
fn a_missing_tenant_folder_is_named() {
    let runtime = tight_runtime();
    let tenant = Tenant::new();
    std::fs::remove_dir(&tenant.dirs.translations).unwrap();
    let err = runtime.list(&tenant.invocation(), None, 10, 0).unwrap_err();
    let CallError::Host(message) = &err else { panic!("expected a host error, got {err:?}") };
    assert!(message.contains("has no translations/ folder"), "{message}");
}

fn load_bytes(name: &str, bytes: &[u8]) -> LoadError {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let options = RuntimeOptions { cache_dir: None, ..RuntimeOptions::default() };
    match Runtime::load(PluginSource::File(file), options) {
        Ok(_) => panic!("{name} must be refused"),
        Err(e) => e,
    }
}

#[test]
fn a_file_that_is_not_webassembly_is_refused() {
    let err = load_bytes("notes.wasm", b"just some text");
    assert!(matches!(err, LoadError::NotAComponent(_)), "{err:?}");
    assert!(err.to_string().contains("magic bytes"), "{err}");
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    // The smallest valid core module: magic and version 1.
    let err = load_bytes("core.wasm", b"\0asm\x01\0\0\0");
    assert!(matches!(err, LoadError::NotAComponent(_)), "{err:?}");
    assert!(err.to_string().contains("core WebAssembly module, not a component"), "{err}");
}

#[test]
fn a_component_that_exports_nothing_is_refused_naming_the_missing_export() {
    // The smallest valid component: magic, version 0x0d, layer 1.
    let err = load_bytes("empty.wasm", b"\0asm\x0d\0\x01\0");
    assert!(matches!(err, LoadError::ContractMismatch(_)), "{err:?}");
    assert!(err.to_string().contains("does not export kinesis:backup/plugin@1.0.0"), "{err}");
}

#[test]
fn a_missing_plugin_file_is_named() {
    let err =
        Runtime::load(PluginSource::File("/nonexistent/plugin.wasm".into()), RuntimeOptions::default()).err().unwrap();
    assert!(matches!(err, LoadError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/plugin.wasm"), "{err}");
}

#[test]
fn the_precompiled_artifact_is_cached_and_a_damaged_cache_is_rewritten() {
    let cache = tempfile::tempdir().unwrap();
    let options = RuntimeOptions { cache_dir: Some(cache.path().join("cache")), ..RuntimeOptions::default() };
    let first = Runtime::load(misbehaving(), options.clone()).unwrap();
    assert_eq!(first.artifact_origin(), ArtifactOrigin::Compiled);
    let file = first.cache_file().expect("a cache file").to_path_buf();
    assert!(file.exists(), "{} was written", file.display());

    let second = Runtime::load(misbehaving(), options.clone()).unwrap();
    assert_eq!(second.artifact_origin(), ArtifactOrigin::Cache);
    assert_next_call_works(&second, &Tenant::new());

    support::flip_middle_byte(&file);
    let third = Runtime::load(misbehaving(), options.clone()).unwrap();
    assert_eq!(third.artifact_origin(), ArtifactOrigin::Compiled, "a damaged artifact is not trusted");
    assert_next_call_works(&third, &Tenant::new());
    assert_eq!(
        Runtime::load(misbehaving(), options).unwrap().artifact_origin(),
        ArtifactOrigin::Cache,
        "and it was rewritten"
    );
}
