//! Benchmark of multi-tenant hosting (`serve --tenants`), over HTTP on
//! loopback:
//!
//! 1. `KINESIS_BENCH_TENANTS` tenants (default 1,000; made once with
//!    `tenant create` and copied), then a sign-in and a list at each: total
//!    time, list p50/p99, and the server's RSS afterwards;
//! 2. the cost of one plugin instantiation with the pooling allocator (a
//!    fresh store, the four preopens, the instance);
//! 3. tenant B's list p99 while tenant A makes a backup of the ~500 MiB data
//!    set (`KINESIS_BENCH_SCALE` scales it, as in `backup_vs_tar`).
//!
//! Run with `cargo bench -p kinesis-backup --bench hosting`.

#[path = "support/data_set.rs"]
mod data_set;
#[path = "support/proc_status.rs"]
mod proc_status;
use proc_status::status_mib;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use data_set::{MIB, ensure_data_set};
use kinesis_backup_core::runtime::{Invocation, PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::TenantDirs;
use serde_json::{Value, json};

const PASSWORD: &str = "benchmark-root-password";

fn main() {
    let tenants: usize = std::env::var("KINESIS_BENCH_TENANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let scale: f64 = std::env::var("KINESIS_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kinesis-backup"));
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    let dir = work.join(format!("tenants-{tenants}"));
    make_tenants(&bin, &dir, tenants);
    let names: Vec<String> = (0..tenants).map(name).collect();

    // 1. Sign in and list at every tenant.
    let server = Server::start(&bin, &dir);
    let started = Instant::now();
    let lists = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for chunk in names.chunks(names.len().div_ceil(2)) {
            let (server, lists) = (&server, &lists);
            s.spawn(move || {
                for name in chunk {
                    let token = server.login(name);
                    let t = Instant::now();
                    let (status, _) = server.get(name, &token, "/backup/fetch?uid=1&limit=50&offset=0");
                    assert_eq!(status, 200);
                    lists.lock().unwrap().push(t.elapsed());
                }
            });
        }
    });
    let total = started.elapsed();
    let lists = lists.into_inner().unwrap();
    let (rss, peak) = server.rss_mib();
    println!("{tenants} tenants: sign-in and list at each in {:.1} s", total.as_secs_f64());
    println!("  list p50 {:.2} ms, p99 {:.2} ms", pct(&lists, 50), pct(&lists, 99));
    println!("  server RSS afterwards {rss:.0} MiB (peak {peak:.0} MiB; target <= 256 MiB)");

    // 2. One instantiation with the pooling allocator.
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dirs = TenantDirs::for_root(scratch.path());
    dirs.ensure_exist().expect("scratch tenant folders");
    let runtime = Runtime::load(PluginSource::Embedded, RuntimeOptions::default()).expect("the plugin loads");
    let invocation = Invocation::new(dirs);
    let mut times: Vec<Duration> =
        (0..2000).map(|_| runtime.time_instantiation(&invocation).expect("instantiates")).collect();
    times.drain(..200);
    println!(
        "one instantiation (store, preopens, instance): p50 {:.1} µs, p99 {:.1} µs (target <= 50 µs)",
        pct_us(&times, 50),
        pct_us(&times, 99)
    );

    // 3. Tenant B lists while tenant A backs up the data set.
    let source = work.join(format!("source-{scale}"));
    let data = ensure_data_set(&source, scale);
    let a = &names[0];
    let a_root = dir.join(a);
    for part in ["public", "translations"] {
        let _ = std::fs::remove_dir_all(a_root.join(part));
        let status = Command::new("cp").arg("-al").arg(source.join(part)).arg(a_root.join(part)).status().unwrap();
        assert!(status.success());
    }
    for entry in std::fs::read_dir(source.join("data")).unwrap().flatten() {
        let _ = std::fs::hard_link(entry.path(), a_root.join("data").join(entry.file_name()));
    }
    let (a_token, b) = (server.login(a), &names[1]);
    let b_token = server.login(b);
    let creating = {
        let (server, a, a_token) = (Arc::clone(&server.shared), a.clone(), a_token.clone());
        std::thread::spawn(move || {
            let t = Instant::now();
            let answer = server.call("POST", &a, &a_token, "/backup/create", Some(json!({"uid": 1, "backup": {}})));
            (answer, t.elapsed())
        })
    };
    let mut during = Vec::new();
    while !creating.is_finished() {
        let t = Instant::now();
        assert_eq!(server.get(b, &b_token, "/backup/fetch?uid=1&limit=50&offset=0").0, 200);
        during.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    let ((status, body), took) = creating.join().unwrap();
    assert_eq!(status, 200, "{body}");
    println!(
        "tenant B's list while tenant A backs up {:.0} MiB ({:.1} s): p50 {:.2} ms, p99 {:.2} ms over {} lists (target <= 50 ms)",
        data.bytes as f64 / MIB as f64,
        took.as_secs_f64(),
        pct(&during, 50),
        pct(&during, 99),
        during.len()
    );
    let backup = &body["backup"];
    let id = backup["id"].as_u64().unwrap();
    server.call("DELETE", a, &a_token, &format!("/backup/delete?uid=1&id={id}"), None);
}

fn name(i: usize) -> String {
    format!("t{i:04}")
}

/// Makes `count` tenants in `dir` unless they are there: one with `tenant
/// create`, the others copies of it (same users and password).
fn make_tenants(bin: &Path, dir: &Path, count: usize) {
    if dir.join(name(count - 1)).join(".env").is_file() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let made = Command::new(bin)
        .args(["tenant", "create", &name(0), "--tenants"])
        .arg(dir)
        .env("KINESIS_ROOT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    for i in 1..count {
        let status = Command::new("cp").arg("-a").arg(dir.join(name(0))).arg(dir.join(name(i))).status().unwrap();
        assert!(status.success());
    }
}

/// A `serve --tenants` process.
struct Server {
    child: Child,
    shared: Arc<Http>,
}

/// What the client threads share.
struct Http {
    addr: String,
    client: reqwest::blocking::Client,
}

impl Http {
    fn call(&self, method: &str, tenant: &str, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addr))
            .header("Host", format!("{tenant}.localhost"))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        (response.status().as_u16(), response.json().unwrap_or(Value::Null))
    }
}

impl Server {
    fn start(bin: &Path, dir: &Path) -> Server {
        let mut child = Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0", "--idle-seconds", "3600", "--tenants"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.split("listening on http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_owned();
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
        Server { child, shared: Arc::new(Http { addr, client }) }
    }

    fn login(&self, tenant: &str) -> String {
        let (status, body) = self.shared.call(
            "POST",
            tenant,
            "",
            "/user/login",
            Some(json!({"auth_data": "root", "password": PASSWORD})),
        );
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    fn get(&self, tenant: &str, token: &str, path: &str) -> (u16, Value) {
        self.shared.call("GET", tenant, token, path, None)
    }

    fn call(&self, method: &str, tenant: &str, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.shared.call(method, tenant, token, path, body)
    }

    /// The server's resident and peak resident memory, in MiB.
    fn rss_mib(&self) -> (f64, f64) {
        let pid = self.child.id();
        (status_mib(pid, "VmRSS:"), status_mib(pid, "VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pct(samples: &[Duration], p: usize) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn pct_us(samples: &[Duration], p: usize) -> f64 {
    pct(samples, p) * 1000.0
}
