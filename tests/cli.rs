//! The `kinesis-backup` command line, driven as a user would: exit codes,
//! human output, `--json` shapes (the HTTP API's objects), the backup round
//! trip, schedules, and the tenant lock that refuses a second writer.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use kinesis_backup_core::tenant::TenantLock;
use serde_json::Value;
use support::{Tenant, assert_same_tree};

/// Runs the binary on `root` with `args`.
fn kb(root: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"));
    cmd.args(args).arg("--root").arg(root);
    if let Some(plugin) = std::env::var_os("KINESIS_PLUGIN_WASM").filter(|v| !v.is_empty()) {
        cmd.arg("--plugin").arg(plugin);
    }
    // The precompiled plugin is cached where the other tests cache it.
    cmd.env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg")).env_remove("RUST_LOG");
    cmd.output().expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs and expects exit code 0 and JSON on stdout.
fn kb_json(root: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = kb(root, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?} failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", stdout(&out)))
}

/// Runs and expects `code`, returning stderr.
fn kb_fails(root: &Path, args: &[&str], code: i32) -> String {
    let out = kb(root, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: stdout {} stderr {}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error"), "{args:?}: errors go to stderr as 'error: …': {err}");
    err
}

/// A backup's record and, as the faces show it, its offsite state.
const BACKUP_FIELDS: [&str; 11] = [
    "id",
    "name",
    "created_at",
    "description",
    "expiry",
    "size",
    "sha256",
    "schedule_id",
    "offsite",
    "offsite_reason",
    "local",
];

fn assert_backup_shape(backup: &Value) {
    let object = backup.as_object().expect("a backup is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = BACKUP_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
}

#[test]
fn backup_commands_round_trip_a_tree_with_json_output() {
    let tenant = Tenant::new();
    tenant.fill(30);
    let root = tenant.root();
    let before = tenant.snapshot();

    let created = kb_json(root, &["backup", "create", "--description", "nightly", "--expiry", "2999-01-01T00:00:00Z"]);
    assert_backup_shape(&created["backup"]);
    let id = created["backup"]["id"].as_u64().unwrap();
    assert_eq!(created["backup"]["description"], "nightly");
    assert_eq!(created["backup"]["expiry"], "2999-01-01T00:00:00Z");

    let list = kb_json(root, &["backup", "list", "--filter", "NIGHT", "--limit", "10"]);
    assert_eq!(list["amount"], 1);
    assert_eq!(list["backups"][0]["id"], id);
    assert_backup_shape(&list["backups"][0]);
    assert_eq!(kb_json(root, &["backup", "list", "--filter", "weekly"])["amount"], 0);

    let got = kb_json(root, &["backup", "get", &id.to_string()]);
    assert_eq!(got["backup"], created["backup"]);

    let updated = kb_json(root, &["backup", "update", &id.to_string(), "--description", "renamed", "--no-expiry"]);
    assert_eq!(
        (updated["backup"]["description"].as_str(), updated["backup"]["expiry"].is_null()),
        (Some("renamed"), true)
    );

    let verified = kb_json(root, &["backup", "verify", &id.to_string()]);
    assert_eq!(verified["verify"]["ok"], true);

    std::fs::write(tenant.dirs.data.join("added-later.txt"), b"new").unwrap();
    std::fs::remove_file(tenant.dirs.data.join("empty.txt")).unwrap();
    std::fs::write(&tenant.dirs.env_file, "CHANGED=1\n").unwrap();
    let restored = kb_json(root, &["backup", "restore", &id.to_string()]);
    assert_eq!(restored["restore"]["id"], id);
    assert_same_tree(&before, &tenant.snapshot());

    let deleted = kb_json(root, &["backup", "delete", &id.to_string()]);
    assert!(deleted["message"].as_str().unwrap().contains("Deleted backup"));
    assert_eq!(kb_json(root, &["backup", "list"])["amount"], 0);
}

#[test]
fn human_output_is_a_table_and_one_line_confirmations() {
    let tenant = Tenant::new();
    let root = tenant.root();
    let out = kb(root, &["backup", "create", "--description", "first words"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Created backup 1 (backup-"), "{}", stdout(&out));

    let out = kb(root, &["backup", "list"]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID  NAME"), "{text}");
    assert!(lines[0].contains("DESCRIPTION"), "{text}");
    assert!(lines[1].starts_with("1   backup-") && lines[1].ends_with("first words"), "{text}");
    assert_eq!(lines.last(), Some(&"Showing 1-1 of 1 backups."));
}

#[test]
fn missing_tenant_folders_are_created_on_first_use() {
    let tenant = Tenant::new();
    let fresh = tenant.scratch("fresh").join("tenant");
    assert_eq!(kb_json(&fresh, &["backup", "list"])["amount"], 0);
    for dir in ["data", "public", "translations", "backups"] {
        assert!(fresh.join(dir).is_dir(), "{dir}/ was created");
    }
}

#[test]
fn bad_usage_and_bad_input_exit_2_and_failures_exit_1() {
    let tenant = Tenant::new();
    let root = tenant.root();
    kb_fails(root, &["backup", "frobnicate"], 2);
    kb_fails(root, &["backup", "get", "not-a-number"], 2);
    let err = kb_fails(root, &["backup", "create", "--expiry", "next tuesday"], 2);
    assert!(err.contains("RFC 3339"), "{err}");
    let err = kb_fails(root, &["backup", "create", "--expiry", "2001-01-01T00:00:00Z"], 2);
    assert!(err.contains("past"), "{err}");
    kb_fails(root, &["backup", "update", "1", "--expiry", "2999-01-01T00:00:00Z", "--no-expiry"], 2);
    kb_fails(root, &["backup", "update", "1"], 2);
    kb_fails(root, &["schedule", "create", "--name", "x", "--cron", "99 * * * *"], 2);

    let err = kb_fails(root, &["backup", "get", "42"], 1);
    assert!(err.contains("42") && err.contains("hint:"), "{err}");
    kb_fails(root, &["backup", "restore", "42"], 1);
    kb_fails(root, &["backup", "delete", "42"], 1);
    assert_eq!(kb_json(root, &["backup", "list"])["amount"], 0, "nothing was created by the refused commands");
}

#[test]
fn schedules_are_managed_and_ticked_at_a_given_instant() {
    let tenant = Tenant::new();
    let root = tenant.root();
    let created =
        kb_json(root, &["schedule", "create", "--name", "weekly", "--cron", "0 0 * * 0", "--expiry-hours", "24"]);
    let schedule = &created["schedule"];
    let id = schedule["id"].as_u64().unwrap();
    for key in ["id", "name", "cron", "expiry_hours", "enabled", "next_run", "last_run", "last_error"] {
        assert!(schedule.get(key).is_some(), "schedule JSON has {key}: {schedule}");
    }
    let next = chrono::DateTime::parse_from_rfc3339(schedule["next_run"].as_str().unwrap()).unwrap();
    assert_eq!(chrono::Datelike::weekday(&next), chrono::Weekday::Sun);

    let list = kb_json(root, &["schedule", "list"]);
    assert_eq!((list["amount"].as_u64(), list["schedules"][0]["id"].as_u64()), (Some(1), Some(id)));

    // The CLI's clock is the real one: tick just before and at the next run.
    let rfc = |t: chrono::DateTime<chrono::FixedOffset>| {
        t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let early = kb_json(root, &["schedule", "tick", "--at", &rfc(next - chrono::Duration::minutes(1))]);
    assert_eq!(early["tick"]["created"].as_array().map(Vec::len), Some(0), "not due yet: {early}");
    let ran = kb_json(root, &["schedule", "tick", "--at", &rfc(next)]);
    assert_eq!(ran["tick"]["created"].as_array().map(Vec::len), Some(1), "{ran}");
    let made = &ran["tick"]["created"][0];
    assert_eq!(made["schedule_id"], id);
    assert_eq!(made["expiry"].as_str(), Some(rfc(next + chrono::Duration::hours(24)).as_str()));
    let after_next = rfc(next + chrono::Duration::weeks(1));

    let updated = kb_json(root, &["schedule", "update", &id.to_string(), "--disable", "--name", "paused"]);
    assert_eq!(
        (updated["schedule"]["enabled"].as_bool(), updated["schedule"]["next_run"].is_null()),
        (Some(false), true)
    );
    let none = kb_json(root, &["schedule", "tick", "--at", &after_next]);
    assert_eq!(none["tick"]["created"].as_array().map(Vec::len), Some(0));

    kb_json(root, &["schedule", "delete", &id.to_string()]);
    assert_eq!(kb_json(root, &["schedule", "list"])["amount"], 0);
    kb_fails(root, &["schedule", "delete", &id.to_string()], 1);
}

#[test]
fn a_second_writer_is_refused_while_the_tenant_is_locked() {
    let tenant = Tenant::new();
    let root = tenant.root();
    let held = TenantLock::acquire(root).unwrap();
    let err = kb_fails(root, &["backup", "create"], 1);
    assert!(err.contains(&format!("another kinesis-backup process (pid {})", std::process::id())), "{err}");
    assert_eq!(kb_json(root, &["backup", "list"])["amount"], 0, "readers are not locked out, and nothing was made");
    drop(held);
    kb_json(root, &["backup", "create"]);
}

/// A tenant with a real database (one ROOT user) and files in every part.
fn tenant_with_database(seed: u64) -> Tenant {
    let tenant = Tenant::new();
    tenant.fill(seed);
    let db = kinesis_backup::db::Db::create(&tenant.dirs.data).unwrap();
    db.create_user("root", "hash", kinesis_backup::db::Role::Root, chrono::Utc::now()).unwrap();
    db.put_record("notes", "kept", &serde_json::json!(seed)).unwrap();
    tenant
}

#[test]
fn a_restore_whose_database_does_not_open_exits_1_and_changes_nothing() {
    let tenant = tenant_with_database(41);
    let before = tenant.snapshot();

    // A backup, made by the plugin with its manifest, of a tenant whose
    // database file is garbage.
    let broken = Tenant::new();
    broken.fill(42);
    std::fs::write(broken.dirs.data.join(kinesis_backup::db::DB_FILE), support::Rng::new(9).bytes(32 * 1024)).unwrap();
    let made = kb_json(broken.root(), &["backup", "create"]);
    let name = made["backup"]["name"].as_str().unwrap();
    std::fs::copy(broken.dirs.backups.join(name), tenant.dirs.backups.join(name)).unwrap();
    let id = kb_json(tenant.root(), &["backup", "list"])["backups"][0]["id"].as_u64().unwrap();

    let out = kb(tenant.root(), &["backup", "restore", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: backup") && err.contains("database cannot be used") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_same_tree(&before, &tenant.snapshot());
    assert!(!tenant.root().join(".kinesis/restore").exists(), "the staging area was left behind");

    // A good backup of the same tenant still restores over it. Opening the
    // restored database to check it may rewrite its header, so the database
    // is compared by content.
    let good = kb_json(tenant.root(), &["backup", "create"])["backup"]["id"].as_u64().unwrap();
    std::fs::write(tenant.dirs.public.join("added.txt"), "later").unwrap();
    kb_json(tenant.root(), &["backup", "restore", &good.to_string()]);
    let db_file = format!("data/{}", kinesis_backup::db::DB_FILE);
    let without_db = |mut tree: std::collections::BTreeMap<String, support::Entry>| {
        tree.remove(&db_file);
        tree
    };
    assert_same_tree(&without_db(before), &without_db(tenant.snapshot()));
    let db = kinesis_backup::db::Db::open_existing(&tenant.dirs.data).unwrap();
    assert_eq!(db.records("notes").unwrap()[0].value, serde_json::json!(41));
}

#[test]
fn plugin_info_tells_what_a_component_is_and_plugin_wit_writes_the_contract() {
    let tenant = Tenant::new();
    let root = tenant.root();
    let built_in = kb_json(root, &["plugin", "info"]);
    assert_eq!(built_in["plugin"]["contract"], "1.1.0", "{built_in}");
    assert_eq!(built_in["plugin"]["sha256"].as_str().unwrap().len(), 64);
    let imports = built_in["plugin"]["imports"].as_array().unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i["name"].as_str().unwrap().starts_with("kinesis:backup/host@1.1.0") && i["grant"] == "granted")
    );
    assert!(imports.iter().all(|i| i["grant"] != "refused"), "{imports:?}");

    let hostile = env!("KINESIS_HOSTILE_PLUGIN_WASM");
    let out = kb(root, &["--json", "plugin", "info", hostile]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sockets: Vec<&Value> = info["plugin"]["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"].as_str().unwrap().starts_with("wasi:sockets/"))
        .collect();
    assert!(!sockets.is_empty() && sockets.iter().all(|i| i["grant"] == "denied"), "{info}");

    let text = tenant.scratch("plugins").join("notes.wasm");
    std::fs::write(&text, "not a component").unwrap();
    let err = kb_fails(root, &["plugin", "info", text.to_str().unwrap()], 2);
    assert!(err.contains("magic bytes"), "{err}");

    let wit = tenant.scratch("wit-out");
    kb_json(root, &["plugin", "wit", wit.to_str().unwrap()]);
    for version in ["v1.0.0", "v1.1.0"] {
        let written = std::fs::read_to_string(wit.join(version).join("backup.wit")).unwrap();
        let released =
            std::fs::read_to_string(format!("{}/../wit/{version}/backup.wit", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(written, released);
    }
}
