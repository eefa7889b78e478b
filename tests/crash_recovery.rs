//! Crashes at every step of a restore and inside a create, through the
//! built binary: the test build aborts the process where
//! `KINESIS_CRASH_AT` says (see `core/src/crash.rs`). Whatever opens the
//! tenant next (a CLI command or the server) finds it exactly as before the
//! restore or exactly as the backup, `.env` included, never a mix; nothing
//! partial is listed; no working files are left after the next command; ids
//! stay unique.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{Entry, Tenant, assert_same_tree};

fn kb(root: &Path, crash_at: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"));
    command.arg("--root").arg(root).args(args).env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"));
    if let Some(plugin) = std::env::var_os("KINESIS_PLUGIN_WASM").filter(|v| !v.is_empty()) {
        command.arg("--plugin").arg(plugin);
    }
    match crash_at {
        Some(step) => command.env("KINESIS_CRASH_AT", step),
        None => command.env_remove("KINESIS_CRASH_AT"),
    };
    command.output().expect("the binary runs")
}

fn json(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = kb(root, None, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `args` with a crash at `step` and expects the process to die of it.
fn crash(root: &Path, step: &str, args: &[&str]) {
    let out = kb(root, Some(step), args);
    assert_eq!(out.status.code(), None, "{args:?} did not crash at {step}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The host's working folders and the plugin's temporary files.
fn working_files(tenant: &Tenant) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(tenant.root().join(".kinesis"))
        .map(|dir| dir.flatten().map(|e| format!(".kinesis/{}", e.file_name().to_string_lossy())).collect())
        .unwrap_or_default();
    found.extend(
        std::fs::read_dir(&tenant.dirs.backups)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.') || name.ends_with(".tmp")),
    );
    found
}

/// A tenant with one backup of state A, then changed to state B (a file
/// added, one removed, one changed, `.env` changed); returns the backup's
/// id and both states.
fn tenant_with_a_backup() -> (Tenant, u64, BTreeMap<String, Entry>, BTreeMap<String, Entry>) {
    let tenant = Tenant::new();
    tenant.fill(11);
    let backup_state = tenant.snapshot();
    let id = json(tenant.root(), &["backup", "create"])["backup"]["id"].as_u64().unwrap();
    std::fs::write(tenant.dirs.public.join("added.txt"), "after the backup").unwrap();
    std::fs::remove_file(tenant.dirs.translations.join("empty.txt")).unwrap();
    std::fs::write(tenant.dirs.data.join("nested/deeper/notes.md"), "changed").unwrap();
    std::fs::write(&tenant.dirs.env_file, "SECRET=changed\n").unwrap();
    let before = tenant.snapshot();
    (tenant, id, backup_state, before)
}

#[test]
fn a_crash_at_any_step_of_a_restore_leaves_the_tenant_before_or_as_the_backup() {
    let steps = [
        ("plugin-progress:2", false),
        ("job-begun", false),
        ("job-parts-done", false),
        ("staged", false),
        ("swap-start", false),
        ("swap-part-aside:1", false),
        ("swap-part-done:1", false),
        ("swap-part-aside:2", false),
        ("swap-part-done:2", false),
        ("swap-part-aside:3", false),
        ("swap-part-done:3", false),
        ("swap-part-aside:4", false),
        ("swap-part-done:4", false),
        ("committed", true),
    ];
    for (step, settles_as_backup) in steps {
        let (tenant, id, backup_state, before) = tenant_with_a_backup();
        crash(tenant.root(), step, &["--jobs", "2", "backup", "restore", &id.to_string()]);

        // The next command, a reader, settles the interrupted restore.
        assert_eq!(json(tenant.root(), &["backup", "list"])["amount"], 1, "after a crash at {step}");
        let expected = if settles_as_backup { &backup_state } else { &before };
        assert_same_tree(expected, &tenant.snapshot());
        assert_eq!(working_files(&tenant), Vec::<String>::new(), "after a crash at {step}");

        // And the restore works afterwards.
        json(tenant.root(), &["backup", "restore", &id.to_string()]);
        assert_same_tree(&backup_state, &tenant.snapshot());
    }
}

#[test]
fn a_crash_during_a_swap_is_settled_by_the_next_server_start() {
    let (tenant, id, _, before) = tenant_with_a_backup();
    crash(tenant.root(), "swap-part-done:2", &["backup", "restore", &id.to_string()]);
    let server = support::http::Server::start(tenant.root());
    let env_after = std::fs::read(&tenant.dirs.env_file).unwrap();
    drop(server);
    let mut expected = before;
    // The server's first start adds its settings to .env and creates its
    // database; everything else is exactly as before the restore.
    expected.insert(".env".into(), Entry::File(env_after));
    let mut now = tenant.snapshot();
    now.retain(|path, _| !path.starts_with("data/kinesis.redb"));
    assert_same_tree(&expected, &now);
    assert!(!tenant.root().join(".kinesis/restore").exists());
}

#[test]
fn a_crash_inside_a_create_lists_nothing_partial_and_leaves_nothing_after_the_next_change() {
    let tenant = Tenant::new();
    tenant.fill(12);
    let first = json(tenant.root(), &["backup", "create"])["backup"]["id"].as_u64().unwrap();
    for step in ["plugin-progress:1", "plugin-progress:2", "job-begun", "job-parts-done"] {
        crash(tenant.root(), step, &["--jobs", "2", "backup", "create"]);
        let listed = json(tenant.root(), &["backup", "list"]);
        assert_eq!(listed["amount"], 1, "a crashed create was listed: {listed}");
    }
    let next = json(tenant.root(), &["backup", "create"])["backup"]["id"].as_u64().unwrap();
    assert!(next > first, "ids repeat: {first} then {next}");
    assert_eq!(working_files(&tenant), Vec::<String>::new());
    let verified = json(tenant.root(), &["backup", "verify", &next.to_string()]);
    assert_eq!(verified["verify"]["ok"], true);
}
