//! The plugin conformance suite: the cases of `kinesis-backup plugin check`
//! (`host/src/conformance/`), run through the same public [`check`] against
//! the embedded default plugin or any component named by
//! `KINESIS_PLUGIN_WASM`, so the suite and the command cannot drift apart;
//! and the command itself on components that fail it, in bounded time.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kinesis_backup::conformance::{CASES, Case, CheckOptions, Ctx, check};
use kinesis_backup_core::runtime::{Invocation, PluginSource};
use serde_json::Value;

/// Check options for tests: the compiled plugins cached in the tests'
/// folder, and the instances per job `KINESIS_TEST_JOBS` asks for.
fn options() -> CheckOptions {
    let mut options = CheckOptions::new(Some(support::test_cache_dir()));
    options.runtime.jobs = support::test_jobs().unwrap_or(options.runtime.jobs);
    options
}

/// Runs `kinesis-backup --json plugin check ARGS`.
fn plugin_check(args: &[&str]) -> (Option<i32>, Value, String, Duration) {
    let started = Instant::now();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .args(["--json", "plugin", "check"])
        .args(args)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed())
}

#[test]
fn the_plugin_under_test_passes_every_case() {
    let report = check(&support::plugin_source(), &options(), CASES, |case| {
        eprintln!("{} {} ({} ms) {}", if case.passed { "passed" } else { "FAILED" }, case.name, case.millis, {
            case.reason.as_deref().unwrap_or("")
        });
    })
    .unwrap_or_else(|e| panic!("the plugin under test does not load: {e}"));
    assert_eq!(report.cases.len(), CASES.len());
    let failures: Vec<String> =
        report.failures().map(|c| format!("{}: {}", c.name, c.reason.as_deref().unwrap_or("?"))).collect();
    assert!(failures.is_empty(), "{} fails:\n{}", report.plugin, failures.join("\n"));
}

#[test]
fn case_names_are_unique_and_every_case_says_what_it_checks() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "duplicate case names");
    assert!(CASES.iter().all(|c| !c.checks.is_empty() && !c.name.contains(' ')));
}

/// Asks the misbehaving component to loop forever in a quick call with a
/// long deadline.
fn loop_forever(ctx: &Ctx) -> kinesis_backup::conformance::Outcome {
    let inv = Invocation::new(ctx.scratch.dirs.clone());
    ctx.runtime.list(&inv, Some("loop"), 10, 0).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn a_case_that_overruns_its_deadline_fails_and_its_call_is_stopped() {
    let mut options = options();
    options.runtime.quick_deadline = Duration::from_secs(600);
    options.case_deadline = Duration::from_secs(2);
    let source = PluginSource::File(env!("KINESIS_MISBEHAVING_PLUGIN_WASM").into());
    let case = Case { name: "loops", checks: "loops forever", run: loop_forever };
    let started = Instant::now();
    let report = check(&source, &options, &[case], |_| {}).expect("the misbehaving component loads");
    let outcome = &report.cases[0];
    assert!(!outcome.passed);
    let reason = outcome.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("did not finish within 2 s") && reason.contains("was stopped"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// `plugin check` on a component that breaks the contract: exit 1, a
/// reason for every failed case, the version it targets, bounded time.
fn assert_fails_with_reasons(file: &str, what: &str) {
    let (code, json, stderr, took) = plugin_check(&[file]);
    assert_eq!(code, Some(1), "{what}: plugin check must exit 1: {json} {stderr}");
    let cases = json["check"]["cases"].as_array().unwrap_or_else(|| panic!("{what}: no cases in {json}"));
    assert_eq!(cases.len(), CASES.len());
    assert_eq!(json["check"]["contract"], "1.0.0", "{what}: {json}");
    let failed: Vec<&Value> = cases.iter().filter(|c| c["passed"] == false).collect();
    assert!(!failed.is_empty(), "{what}: some case must fail");
    for case in failed {
        let reason = case["reason"].as_str().unwrap_or_default();
        assert!(!reason.trim().is_empty(), "{what}: case {} failed without a reason", case["name"]);
        eprintln!("{what}: {}: {reason}", case["name"]);
    }
    assert!(took < Duration::from_secs(240), "{what}: plugin check took {took:?}");
}

#[test]
fn plugin_check_fails_the_misbehaving_component_with_a_reason_per_case() {
    assert_fails_with_reasons(env!("KINESIS_MISBEHAVING_PLUGIN_WASM"), "the misbehaving component");
}

#[test]
fn plugin_check_fails_the_hostile_component_with_a_reason_per_case() {
    assert_fails_with_reasons(env!("KINESIS_HOSTILE_PLUGIN_WASM"), "the hostile component");
}

#[test]
fn plugin_check_exits_2_for_a_file_that_is_no_component() {
    let tenant = support::Tenant::new();
    let plugins = tenant.scratch("plugins");
    let text = plugins.join("notes.wasm");
    std::fs::write(&text, "this is not WebAssembly at all\n").unwrap();
    let (code, _, stderr, _) = plugin_check(&[text.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("WebAssembly magic bytes"), "{stderr}");
    let missing = plugins.join("nowhere").join("plugin.wasm");
    let (code, _, stderr, _) = plugin_check(&[missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the plugin file"), "{stderr}");
}
