//! The sandbox as a hostile plugin sees it (`tests/components/hostile`): a
//! component that tries to read and write outside what the contract grants,
//! to see the environment, the arguments and the network, to write `.env`
//! outside restore, and to escape through a symlink. Every attempt must be
//! refused and leave the tenant, and everything around it, as it was (the
//! network probe meets the always-deny `wasi:sockets` the host links). A
//! `--plugin` file that is no component is refused at start, by the CLI and
//! by `serve`, with a message that names the problem; so is a component that
//! imports an interface the host does not grant, naming the import.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kinesis_backup_core::runtime::{PluginSource, Runtime};
use support::{Tenant, assert_same_tree, snapshot_tree};

/// The hostile component's file.
fn hostile_wasm() -> PathBuf {
    PathBuf::from(env!("KINESIS_HOSTILE_PLUGIN_WASM"))
}

/// Every probe the component runs in `list("probe")`.
const PROBES: [&str; 10] = [
    "read-outside-dotdot",
    "read-absolute",
    "write-data",
    "write-public",
    "write-backups",
    "env-vars",
    "args",
    "network",
    "write-env",
    "symlink-escape",
];

/// Probes whose forbidden thing is in fact allowed: the plugin owns `backups/`.
const ALLOWED: [&str; 1] = ["write-backups"];

/// The probes' outcomes by name: (`ok` or `refused`, detail).
fn run_probes(runtime: &Runtime, tenant: &Tenant) -> BTreeMap<String, (String, String)> {
    let page = runtime
        .list(&tenant.invocation(), Some("probe"), 100, 0)
        .unwrap_or_else(|e| panic!("list(\"probe\") of the hostile component failed: {e}"));
    assert_eq!(page.amount, page.backups.len() as u64, "one record per probe");
    let mut outcomes = BTreeMap::new();
    for backup in &page.backups {
        let mut parts = backup.description.splitn(4, ':');
        let (Some("probe"), Some(name), Some(verdict), Some(detail)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("a probe record is described probe:<name>:<ok|refused>:<detail>, not {:?}", backup.description);
        };
        let earlier = outcomes.insert(name.to_string(), (verdict.to_string(), detail.to_string()));
        assert!(earlier.is_none(), "probe {name} answered twice");
    }
    outcomes
}

#[test]
fn a_hostile_plugin_finds_no_hole_in_the_sandbox() {
    let runtime = Runtime::load(PluginSource::File(hostile_wasm()), support::test_options())
        .unwrap_or_else(|e| panic!("the hostile component implements the contract: {e}"));
    let tenant = Tenant::new();
    tenant.fill(7);
    // Something beside the tenant that a `..` or a link could reach.
    let outside = tenant.scratch("outside");
    std::fs::write(outside.join("secret.txt"), b"not the plugin's business\n").unwrap();
    let around = tenant.root().parent().expect("the tenant lies in a temporary folder").to_path_buf();
    let tenant_before = tenant.snapshot();
    let around_before = snapshot_tree(&around);

    let outcomes = run_probes(&runtime, &tenant);

    let mut names: Vec<&str> = outcomes.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = PROBES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "the component ran every probe once");
    let mut holes = Vec::new();
    for (name, (verdict, detail)) in &outcomes {
        eprintln!("probe {name}: {verdict}: {detail}");
        let want = if ALLOWED.contains(&name.as_str()) { "ok" } else { "refused" };
        match verdict.as_str() {
            "ok" | "refused" => {}
            other => panic!("probe {name} answered {other:?}, neither ok nor refused: {detail}"),
        }
        if verdict != want {
            holes.push(format!("{name}: expected {want}, got {verdict} ({detail})"));
        }
    }
    assert!(holes.is_empty(), "the sandbox let a hostile plugin through:\n{}", holes.join("\n"));

    assert_same_tree(&tenant_before, &tenant.snapshot());
    assert_same_tree(&around_before, &snapshot_tree(&around));

    // And the same component still answers normally afterwards.
    let page = runtime.list(&tenant.invocation(), None, 10, 0).expect("the next call works");
    assert_eq!(page.amount, 0);
}

// ---------------------------------------------------------------------------
// Bad `--plugin` files at start

/// How long a refused start may take at most.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// What a finished process left.
struct Finished {
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

/// Runs the binary with `args` (after `--root root --plugin plugin`), its
/// output in files, and kills it when it has not exited after
/// [`START_DEADLINE`] (then the test fails).
fn run_with_plugin(root: &Path, plugin: &Path, args: &[&str], logs: &Path) -> Finished {
    let stdout_file = logs.join("stdout.txt");
    let stderr_file = logs.join("stderr.txt");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .arg("--root")
        .arg(root)
        .arg("--plugin")
        .arg(plugin)
        .args(args)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_file).unwrap())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .spawn()
        .expect("the binary starts");
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break status;
        }
        if started.elapsed() > START_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{args:?} with the plugin {} was still running after {START_DEADLINE:?}; stdout: {} stderr: {}",
                plugin.display(),
                std::fs::read_to_string(&stdout_file).unwrap_or_default(),
                std::fs::read_to_string(&stderr_file).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        code: status.code(),
        stderr: std::fs::read_to_string(&stderr_file).unwrap_or_default(),
        took: started.elapsed(),
    }
}

/// A bad plugin file and what its refusal must say.
struct BadPlugin {
    what: &'static str,
    file: PathBuf,
    says: Vec<String>,
}

/// A text file, the first 1000 bytes of a real component, and a path that
/// does not exist.
fn bad_plugins(dir: &Path) -> Vec<BadPlugin> {
    let text = dir.join("notes.wasm");
    std::fs::write(&text, "this is not WebAssembly at all\n").unwrap();
    let truncated = dir.join("truncated.wasm");
    let real = std::fs::read(hostile_wasm()).expect("the hostile component was built");
    std::fs::write(&truncated, &real[..1000]).unwrap();
    let missing = dir.join("nowhere").join("plugin.wasm");
    vec![
        BadPlugin {
            what: "a text file",
            file: text,
            says: vec!["not start with the WebAssembly magic bytes".to_string()],
        },
        BadPlugin {
            what: "a truncated component",
            file: truncated,
            says: vec!["not a valid WebAssembly component".to_string()],
        },
        BadPlugin {
            what: "a missing file",
            file: missing.clone(),
            says: vec!["cannot read the plugin file".to_string(), missing.display().to_string()],
        },
    ]
}

/// Runs `args` with each bad plugin and expects a quick refusal naming it.
fn assert_each_bad_plugin_is_refused(args: &[&str]) {
    let tenant = Tenant::new();
    let plugins = tenant.scratch("plugins");
    for bad in bad_plugins(&plugins) {
        let logs = tenant.scratch(&format!("logs-{}", bad.what.replace(' ', "-")));
        let done = run_with_plugin(tenant.root(), &bad.file, args, &logs);
        assert!(
            matches!(done.code, Some(code) if code != 0),
            "{args:?} with {} must fail, exited {:?}; stderr: {}",
            bad.what,
            done.code,
            done.stderr
        );
        assert!(
            done.took < Duration::from_secs(10),
            "{args:?} with {} is refused at once, took {:?}",
            bad.what,
            done.took
        );
        for words in &bad.says {
            assert!(
                done.stderr.contains(words.as_str()),
                "{args:?} with {}: stderr names the problem ({words:?}): {}",
                bad.what,
                done.stderr
            );
        }
    }
}

#[test]
fn the_cli_refuses_a_bad_plugin_file_with_a_readable_message() {
    assert_each_bad_plugin_is_refused(&["backup", "list"]);
}

#[test]
fn serve_refuses_a_bad_plugin_file_at_start() {
    assert_each_bad_plugin_is_refused(&["serve", "--addr", "127.0.0.1:0"]);
}

// ---------------------------------------------------------------------------
// Imports the host does not grant

/// The smallest component that imports `wasi:http/types@0.2.0` (an
/// instance of no functions) and exports nothing, written byte by byte.
fn component_importing_wasi_http() -> Vec<u8> {
    let name = b"wasi:http/types@0.2.0";
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    // Type section: one instance type with no declarations.
    bytes.extend_from_slice(&[0x07, 0x03, 0x01, 0x42, 0x00]);
    // Import section: that instance type under the name.
    let mut import = vec![0x01, 0x00, name.len() as u8];
    import.extend_from_slice(name);
    import.extend_from_slice(&[0x05, 0x00]);
    bytes.extend_from_slice(&[0x0a, import.len() as u8]);
    bytes.extend_from_slice(&import);
    bytes
}

#[test]
fn a_component_importing_what_the_host_does_not_grant_is_refused_naming_the_import() {
    let tenant = Tenant::new();
    let file = tenant.scratch("plugins").join("imports-http.wasm");
    std::fs::write(&file, component_importing_wasi_http()).unwrap();
    let logs = tenant.scratch("logs");
    let done = run_with_plugin(tenant.root(), &file, &["backup", "list"], &logs);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("it imports wasi:http/types@0.2.0, which this host does not provide"),
        "the refusal names the import: {}",
        done.stderr
    );
    let info = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .args(["--json", "plugin", "info"])
        .arg(&file)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .output()
        .expect("the binary runs");
    assert_eq!(info.status.code(), Some(1));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
    assert_eq!(info["plugin"]["imports"][0]["name"], "wasi:http/types@0.2.0", "{info}");
    assert_eq!(info["plugin"]["imports"][0]["grant"], "refused", "{info}");
}
