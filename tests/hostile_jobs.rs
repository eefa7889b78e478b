//! A plugin of contract 1.1.0 that misuses the `parts` interface
//! (`tests/components/hostile-parts`), run by the real runtime on two
//! instances: each misuse is refused or stopped with a readable reason, the
//! plugin is asked to abandon the job, the host's limits hold, and the next
//! call works.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kinesis_backup_core::runtime::{CallError, PluginSource, Runtime, RuntimeOptions};
use support::Tenant;

fn runtime() -> Runtime {
    let options = RuntimeOptions {
        quick_deadline: Duration::from_secs(2),
        liveness: Duration::from_secs(1),
        jobs: 2,
        ..support::test_options()
    };
    let plugin = PluginSource::File(PathBuf::from(env!("KINESIS_HOSTILE_PARTS_PLUGIN_WASM")));
    Runtime::load(plugin, options).expect("the component implements contract 1.1.0")
}

/// Creates with `description`, expects it refused, and answers the error.
fn refused(runtime: &Runtime, tenant: &Tenant, description: &str) -> CallError {
    let started = Instant::now();
    let err = runtime.create(&tenant.invocation(), description, None).expect_err(description);
    assert!(started.elapsed() < Duration::from_secs(15), "{description} took {:?}", started.elapsed());
    let page = runtime.list(&tenant.invocation(), None, 10, 0).expect("the next call works");
    assert_eq!(page.amount, 0);
    err
}

fn violation(err: CallError) -> String {
    match err {
        CallError::Violation { rule, .. } => rule,
        other => panic!("expected a broken rule, got {other:?}"),
    }
}

fn abandoned(tenant: &Tenant, id: u64) -> bool {
    tenant.dirs.backups.join(format!("abandoned-{id}")).exists()
}

#[test]
fn the_runtime_runs_a_plain_job_in_parts_in_order() {
    let runtime = runtime();
    assert_eq!(runtime.contract_version(), "1.1.0");
    assert_eq!(runtime.instances_per_job(), 2);
    let tenant = Tenant::new();
    let backup = runtime.create(&tenant.invocation(), "plain", None).expect("a plain job finishes");
    assert_eq!(backup.id, 1);
    assert!(!abandoned(&tenant, 1), "a finished job is not abandoned");
}

#[test]
fn answers_that_break_the_job_rules_are_refused_and_the_job_abandoned() {
    let runtime = runtime();
    let tenant = Tenant::new();
    let rule = violation(refused(&runtime, &tenant, "too-many-parts"));
    assert!(rule.contains("100000 parts; a job has 1 to 256"), "{rule}");

    let rule = violation(refused(&runtime, &tenant, "huge-state"));
    assert!(rule.contains("bytes of job state"), "{rule}");

    let rule = violation(refused(&runtime, &tenant, "huge-outcomes"));
    assert!(rule.contains("outcomes add up to more than the 64 MiB"), "{rule}");
    assert!(abandoned(&tenant, 1), "the job of oversized outcomes was not abandoned");

    let rule = violation(refused(&runtime, &tenant, "wrong-id"));
    assert!(rule.contains("asked about backup 7, it answered about backup 8"), "{rule}");
    assert!(abandoned(&tenant, 7));
}

#[test]
fn a_part_that_stalls_or_crashes_is_stopped_and_a_hanging_abandon_is_cut_short() {
    let runtime = runtime();
    let tenant = Tenant::new();
    match refused(&runtime, &tenant, "stall-part") {
        CallError::Stalled { operation, .. } => assert_eq!(operation, "run-part"),
        other => panic!("expected the stalled part to be stopped, got {other:?}"),
    }
    assert!(abandoned(&tenant, 1));
    std::fs::remove_file(tenant.dirs.backups.join("abandoned-1")).unwrap();

    match refused(&runtime, &tenant, "trap-part") {
        CallError::Trapped { operation, message } => {
            assert_eq!(operation, "run-part");
            assert!(message.contains("part 1 gave up"), "{message}");
        }
        other => panic!("expected the crash to be reported, got {other:?}"),
    }
    assert!(abandoned(&tenant, 1));

    // The part's own failure is what the caller hears; the abandon that
    // never returns is stopped by the quick deadline.
    match refused(&runtime, &tenant, "slow-abandon") {
        CallError::Storage(message) => assert!(message.contains("failed on purpose"), "{message}"),
        other => panic!("expected the part's failure, got {other:?}"),
    }
}
