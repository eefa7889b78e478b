//! Both contract versions side by side, through the command line: the
//! default plugin built against 1.0.0 (one instance per operation) and the
//! embedded 1.1.0 plugin (a create, restore or verify split over several
//! instances). An archive written by either restores, byte for byte, and
//! verifies with the other, at one and at several instances. And a 1.0.0
//! component committed as a fixture (`tests/fixtures/`) still loads and
//! passes `plugin check`, so later hosts keep running plugins built long ago.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{Tenant, assert_same_tree};

/// The 1.0.0 build of the default plugin.
const V1_0_0: &str = env!("KINESIS_PLUGIN_V1_0_0_WASM");

/// The committed 1.0.0 component: the default plugin built with the
/// feature `contract-1-0`, without debug information.
const FIXTURE_V1_0_0: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/plugin-v1.0.0.wasm");

/// Runs the binary on `root` with `args` (and `--plugin`, when given),
/// expecting success and JSON.
fn kb_json(root: &Path, plugin: Option<&str>, args: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"));
    cmd.args(args).arg("--json").arg("--root").arg(root);
    if let Some(plugin) = plugin {
        cmd.arg("--plugin").arg(plugin);
    }
    cmd.env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg")).env_remove("RUST_LOG");
    let out: Output = cmd.output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON: {e}"))
}

#[test]
fn plugin_info_names_the_version_each_build_targets() {
    let tenant = Tenant::new();
    let old = kb_json(tenant.root(), None, &["plugin", "info", V1_0_0]);
    assert_eq!(old["plugin"]["contract"], "1.0.0", "{old}");
    let new = kb_json(tenant.root(), None, &["plugin", "info"]);
    assert_eq!(new["plugin"]["contract"], "1.1.0", "{new}");
    let exports = new["plugin"]["exports"].to_string();
    assert!(exports.contains("kinesis:backup/parts@1.1.0"), "{exports}");
}

#[test]
fn archives_of_either_version_restore_and_verify_with_the_other() {
    let tenant = Tenant::new();
    tenant.fill(41);
    let root = tenant.root();
    let before = tenant.snapshot();

    let by_old = kb_json(root, Some(V1_0_0), &["backup", "create", "--description", "by 1.0.0"]);
    let by_new = kb_json(root, None, &["--jobs", "3", "backup", "create", "--description", "by 1.1.0"]);
    let ids = [by_old["backup"]["id"].as_u64().unwrap(), by_new["backup"]["id"].as_u64().unwrap()];
    assert_ne!(ids[0], ids[1]);

    // Every archive with every plugin, at one and at three instances.
    let plugins: [(Option<&str>, &str); 3] = [(Some(V1_0_0), "1"), (None, "1"), (None, "3")];
    for id in ids {
        for (plugin, jobs) in plugins {
            std::fs::write(tenant.dirs.data.join("nested/file-00.bin"), b"changed").unwrap();
            std::fs::write(tenant.dirs.public.join("added-later.txt"), b"must go").unwrap();
            std::fs::write(&tenant.dirs.env_file, "SECRET=changed\n").unwrap();
            let id_text = id.to_string();
            let report = kb_json(root, plugin, &["--jobs", jobs, "backup", "restore", &id_text]);
            assert_eq!(report["restore"]["id"].as_u64(), Some(id), "{report}");
            assert_same_tree(&before, &tenant.snapshot());
            let verified = kb_json(root, plugin, &["--jobs", jobs, "backup", "verify", &id_text]);
            assert_eq!(verified["verify"]["ok"], true, "backup {id} with {plugin:?} at {jobs} jobs: {verified}");
        }
    }
}

#[test]
fn the_committed_1_0_0_fixture_loads_and_passes_plugin_check() {
    let tenant = Tenant::new();
    let info = kb_json(tenant.root(), None, &["plugin", "info", FIXTURE_V1_0_0]);
    assert_eq!(info["plugin"]["contract"], "1.0.0", "{info}");
    let checked = kb_json(tenant.root(), None, &["plugin", "check", FIXTURE_V1_0_0]);
    assert_eq!(checked["check"]["contract"], "1.0.0", "{checked}");
    let cases = checked["check"]["cases"].as_array().expect("the cases");
    assert!(!cases.is_empty() && cases.iter().all(|c| c["passed"] == true), "{checked}");
}
