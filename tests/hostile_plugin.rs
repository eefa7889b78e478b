//! A hostile third-party plugin (`tests/components/hostile`) loaded with
//! `--plugin`, driven through the command line and the HTTP API as a user
//! would: for each hostile behaviour, what the host does (refuse, cut,
//! stop), that the message is readable, that output and memory stay
//! bounded, and that the next call works.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Tenant;
use support::http::Server;

fn hostile() -> &'static str {
    env!("KINESIS_HOSTILE_PLUGIN_WASM")
}

/// Runs the CLI with the hostile plugin (liveness 2 s) on `root`.
fn kb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .args(["--root"])
        .arg(root)
        .args(["--plugin", hostile(), "--liveness", "2"])
        .args(args)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .env("RUST_LOG", "info")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs and expects exit 1 with `expected` in the error, and bounded output.
fn refused(root: &Path, args: &[&str], expected: &str) -> String {
    let out = kb(root, args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(expected), "{args:?} should say {expected:?}: {err}");
    assert!(out.stderr.len() < 1 << 20 && out.stdout.len() < 1 << 20, "{args:?} printed too much");
    err
}

/// The next ordinary call works.
fn next_call_works(root: &Path) {
    let out = kb(root, &["--json", "backup", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["amount"], 0);
}

/// Largest resident set of any child this test process has waited for, in
/// bytes.
fn peak_child_rss() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

#[test]
fn hostile_answers_are_refused_or_cut_and_the_next_call_works() {
    let tenant = Tenant::new();
    tenant.fill(5);
    let root = tenant.root();
    let before = tenant.snapshot();

    // A log flood is cut to the call's budget, with one line saying so.
    let started = Instant::now();
    let out = kb(root, &["backup", "list", "--filter", "log-flood"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(out.stderr.len() < 2 << 20, "the log flood reached the terminal: {} bytes", out.stderr.len());
    assert!(
        err.contains("more log lines") && err.contains("were dropped"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    eprintln!("log flood: {} bytes of output in {:?}", out.stderr.len(), started.elapsed());

    // Pages longer than asked, names that are not the record's archive,
    // answers about another id, absurd times.
    refused(root, &["backup", "list", "--filter", "big-page", "--limit", "10"], "more than the 10 allowed");
    refused(root, &["backup", "list", "--filter", "bad-names"], "broke a rule of the host during list");
    let err = refused(root, &["backup", "get", "1"], "must be backup-YYYYMMDD_HHMM_1.tar.gz");
    assert!(err.contains("the plugin file") && err.contains("hostile"), "the message names the plugin: {err}");
    refused(root, &["backup", "get", "2"], "asked about backup 2, it answered about backup 3");
    let out = kb(root, &["backup", "create", "--description", "name-traversal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stdout).contains("Created"), "a record with a path-like name was accepted");
    refused(root, &["backup", "create", "--description", "mismatched-id"], "must be backup-YYYYMMDD_HHMM_5.tar.gz");
    refused(root, &["schedule", "list", "--limit", "5"], "more than the 5 allowed");

    // Huge strings are cut, saying how much.
    let err = refused(root, &["backup", "get", "999"], "more bytes cut by the host");
    assert!(err.len() < 16 * 1024, "a 40 MiB message reached the terminal: {} bytes", err.len());
    let out = kb(root, &["--json", "backup", "list", "--filter", "long-strings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    let description = page["backups"][0]["description"].as_str().unwrap();
    assert!(description.len() < 4200 && description.ends_with("more bytes cut by the host)"), "{}", description.len());
    let out = kb(root, &["--json", "backup", "verify", "10"]);
    assert_eq!(out.status.code(), Some(1), "a damaged report exits 1");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["verify"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1001, "20 000 problems are cut to 1000 and a note");
    assert!(problems[1000].as_str().unwrap().contains("19000 more problems"));

    // A create that spins without progress is stopped after the liveness
    // limit, and what it left is cleaned up.
    let started = Instant::now();
    refused(root, &["backup", "create", "--description", "spin"], "reported no progress for 2 s");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "the spinning create held the tenant for {took:?}");
    eprintln!("a spinning create was stopped after {took:?}");

    // Links planted in a restore, or a database that does not open: refused,
    // nothing changed.
    refused(root, &["backup", "restore", "10"], "not a regular file or folder");
    refused(root, &["backup", "restore", "11"], "database cannot be used");
    support::assert_same_tree(&before, &tenant.snapshot());
    assert!(!root.join(".kinesis/restore").exists());

    next_call_works(root);
    let peak = peak_child_rss();
    eprintln!("peak RSS of the CLI runs: {} MiB", peak >> 20);
    assert!(peak < 150 << 20, "a CLI run used {} MiB", peak >> 20);
}

#[test]
fn over_http_a_second_create_is_409_at_once_and_a_spinning_create_frees_the_tenant() {
    let tenant = Tenant::new();
    let server = Server::start_with_args(tenant.root(), &["--plugin", hostile(), "--liveness", "3"]);
    let root = server.root_client();
    let spinning = {
        let client = root.with_token(root.token.as_deref());
        std::thread::spawn(move || {
            let started = Instant::now();
            let answer = client.post("/backup/create", &json!({"uid": 1, "backup": {"description": "spin"}}));
            (answer, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    let second = root.post("/backup/create", &json!({"uid": 1, "backup": {}}));
    assert_eq!(second.status, 409, "{}", second.body);
    let restore = root.get("/backup/restore?uid=1&id=10");
    assert_eq!(restore.status, 409, "{}", restore.body);
    let list = root.get("/backup/fetch?uid=1&limit=10&offset=0");
    assert_eq!(list.status, 200, "reads go on beside a running create: {}", list.body);
    assert!(started.elapsed() < Duration::from_secs(2), "the 409s and the list waited: {:?}", started.elapsed());

    let (answer, took) = spinning.join().unwrap();
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(answer.body["message"].as_str().unwrap().contains("reported no progress for 3 s"), "{}", answer.body);
    assert!(took < Duration::from_secs(15), "the tenant was held for {took:?}");

    let page = root.get("/backup/fetch?uid=1&limit=10&offset=0&filter=big-page");
    assert_eq!(page.status, 500, "{}", page.body);
    assert!(page.body["message"].as_str().unwrap().contains("more than the 10 allowed"), "{}", page.body);
    let made = root.post("/backup/create", &json!({"uid": 1, "backup": {}}));
    assert_eq!(made.status, 200, "the next create works: {}", made.body);
}

#[test]
fn sigterm_during_a_spinning_call_stops_the_server_within_10_seconds() {
    let tenant = Tenant::new();
    let mut server = Server::start_with_args(tenant.root(), &["--plugin", hostile()]);
    let root = server.root_client();
    let client = root.with_token(root.token.as_deref());
    let spinning = std::thread::spawn(move || {
        client.post("/backup/create", &json!({"uid": 1, "backup": {"description": "spin"}}))
    });
    std::thread::sleep(Duration::from_millis(800));
    let took = server.terminate_within(Duration::from_secs(10));
    let took = took.unwrap_or_else(|| panic!("the server did not exit within 10 s; its log:\n{}", server.log_text()));
    eprintln!("the server exited {took:?} after SIGTERM");
    let answer = spinning.join().unwrap();
    assert!(answer.body["message"].as_str().unwrap_or_default().contains("shutting down"), "{}", answer.body);
    let leftovers: Vec<_> =
        std::fs::read_dir(tenant.root().join(".kinesis")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.is_empty(), "the stopped create left {leftovers:?}");
}
