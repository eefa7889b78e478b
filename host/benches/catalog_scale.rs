//! Benchmark of the backup catalog at scale, over HTTP on loopback: p50 and
//! p99 of a list (first page of 50), a search, a get and an update with 100,
//! 1,000 and 10,000 backups in one tenant, beside the target of 5 ms.
//!
//! The tenant is seeded through the public surface: three real backups made
//! with the CLI, then copies of their archive under further archive names
//! (hard links, one hour apart), which the plugin adopts as it must adopt
//! any archive put into `backups/`. Every tenth backup then gets the
//! description "nightly run" through the API, so the search matches a tenth
//! of the catalog. The server runs for each size only after the first change
//! has adopted the new archives, so the figures are those of a catalog in
//! use, not of the one-off adoption.
//!
//! Beside each HTTP figure the same call is timed on a runtime in this
//! process (`Runtime::list`, `get`, `update`: a fresh instance and the
//! plugin's work, without HTTP, sign-in checks and JSON), and once the cost
//! of an instantiation that calls nothing, so that the plugin's share of a
//! call can be told from the host's.
//!
//! Run with `cargo bench -p kinesis-backup --bench catalog_scale`.
//! `KINESIS_BENCH_SAMPLES` sets the calls measured per operation (default 300).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kinesis_backup_core::model::ExpiryChange;
use kinesis_backup_core::runtime::{Invocation, PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::TenantDirs;
use serde_json::{Value, json};

const PASSWORD: &str = "benchmark-root-password";
const SIZES: [u64; 3] = [100, 1_000, 10_000];
const TARGET_MS: f64 = 5.0;
/// 2024-01-01T00:00:00Z; seeded backup N is named N hours later.
const SEED_EPOCH: i64 = 1_704_067_200;

fn main() {
    let samples: usize = std::env::var("KINESIS_BENCH_SAMPLES").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kinesis-backup"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/catalog-scale");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("the tenant folder");

    // Three real backups of a small tenant.
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("data/notes.txt"), "a small tenant for the catalog benchmark\n".repeat(50)).unwrap();
    for description in ["first", "second", "third"] {
        let out = Command::new(&bin)
            .arg("--root")
            .arg(&root)
            .args(["--json", "backup", "create", "--description", description])
            .env("KINESIS_ROOT_PASSWORD", PASSWORD)
            .output()
            .expect("the CLI runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let template = archives(&root).into_iter().next().expect("an archive");

    let runtime = Runtime::load(PluginSource::Embedded, RuntimeOptions::default()).expect("the plugin loads");
    let invocation = Invocation::new(TenantDirs::for_root(&root));
    let mut instantiations: Vec<Duration> =
        (0..1000).map(|_| runtime.time_instantiation(&invocation).expect("instantiates")).collect();
    instantiations.drain(..100);
    println!("catalog at scale: p50 / p99 over HTTP, {samples} calls each (target p99 <= {TARGET_MS} ms)");
    println!(
        "one instantiation that calls nothing: p50 {:.3} ms, p99 {:.3} ms",
        pct(&instantiations, 50),
        pct(&instantiations, 99)
    );
    let mut seeded = archives(&root).len() as u64;
    for size in SIZES {
        let before = seeded;
        // Archives copied in under new names, one hour apart.
        for id in seeded + 1..=size {
            let name = archive_name(id, SEED_EPOCH + id as i64 * 3600);
            std::fs::hard_link(&template, root.join("backups").join(name)).expect("link an archive");
        }
        let server = Server::start(&bin, &root);
        let token = server.login();
        // The first change adopts the new archives; then a tenth of them get
        // a description the search finds.
        let started = Instant::now();
        server.update(&token, size, "nightly run");
        let adopted = started.elapsed();
        for id in (seeded + 1..=size).filter(|id| id.is_multiple_of(10)) {
            server.update(&token, id, "nightly run");
        }
        seeded = size;
        let (_, page) = server.get(&token, "/backup/fetch?uid=1&limit=50&offset=0");
        assert_eq!(page["amount"].as_u64(), Some(size), "{page}");

        // Each HTTP call is followed by the same call on a runtime in this
        // process, so that both see the same load.
        let (list, plugin_list) = measure_pairs(
            samples,
            |_| {
                let (status, body) = server.get(&token, "/backup/fetch?uid=1&limit=50&offset=0");
                assert_eq!((status, body["backups"].as_array().map(Vec::len)), (200, Some(50)));
            },
            |_| {
                let page = runtime.list(&invocation, None, 50, 0).expect("list");
                assert_eq!((page.backups.len(), page.amount), (50, size));
            },
        );
        let (search, plugin_search) = measure_pairs(
            samples,
            |_| {
                let (status, body) = server.get(&token, "/backup/fetch?uid=1&limit=50&offset=0&filter=nightly");
                assert_eq!((status, body["amount"].as_u64()), (200, Some(size / 10)), "{body}");
            },
            |_| {
                let page = runtime.list(&invocation, Some("nightly"), 50, 0).expect("search");
                assert_eq!(page.amount, size / 10);
            },
        );
        let (get, plugin_get) = measure_pairs(
            samples,
            |i| {
                let id = spread(i, size);
                let (status, body) = server.get(&token, &format!("/backup/fetch/one?uid=1&id={id}"));
                assert_eq!((status, body["backup"]["id"].as_u64()), (200, Some(id)), "{body}");
            },
            |i| {
                let id = spread(i + samples, size);
                assert_eq!(runtime.get(&invocation, id).expect("get").id, id);
            },
        );
        let (update, plugin_update) = measure_pairs(
            samples,
            |i| {
                let id = spread(i, size);
                server.update(&token, id, if id.is_multiple_of(10) { "nightly run" } else { "checked" });
            },
            |i| {
                let id = spread(i + samples, size);
                let description = if id.is_multiple_of(10) { "nightly run" } else { "checked" };
                runtime.update(&invocation, id, Some(description), ExpiryChange::Keep).expect("update");
            },
        );
        println!("{size:>6} backups (first change adopting {} archives took {:.0} ms):", size - before, ms(adopted));
        let rows = [
            ("list", &list, &plugin_list),
            ("search", &search, &plugin_search),
            ("get", &get, &plugin_get),
            ("update", &update, &plugin_update),
        ];
        for (what, times, plugin) in rows {
            let (p50, p99) = (pct(times, 50), pct(times, 99));
            let verdict = if p99 <= TARGET_MS { "meets" } else { "misses" };
            println!(
                "  {what:<7} p50 {p50:>6.2} ms  p99 {p99:>6.2} ms  max {:>6.2} ms  ({verdict} the {TARGET_MS} ms \
                 target); plugin call alone p50 {:>5.2} ms  p99 {:>5.2} ms  max {:>6.2} ms",
                pct(times, 100),
                pct(plugin, 50),
                pct(plugin, 99),
                pct(plugin, 100)
            );
        }
    }
}

/// The archive name of backup `id` made at `created_at` (UTC).
fn archive_name(id: u64, created_at: i64) -> String {
    let time = chrono::DateTime::from_timestamp(created_at, 0).expect("a valid time");
    format!("backup-{}_{id}.tar.gz", time.format("%Y%m%d_%H%M"))
}

/// The archives in the tenant's `backups/`.
fn archives(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("backups"))
        .expect("backups/")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "gz"))
        .collect();
    found.sort();
    found
}

/// Ids spread over the whole catalog, the same in every run.
fn spread(i: usize, size: u64) -> u64 {
    (i as u64).wrapping_mul(7919) % size + 1
}

/// Runs `first` then `second`, `samples` times each after a few unmeasured
/// calls, and times each.
fn measure_pairs(
    samples: usize,
    mut first: impl FnMut(usize),
    mut second: impl FnMut(usize),
) -> (Vec<Duration>, Vec<Duration>) {
    for i in 0..5 {
        first(i);
        second(i);
    }
    let time = |call: &mut dyn FnMut(usize), i: usize| {
        let started = Instant::now();
        call(i);
        started.elapsed()
    };
    (0..samples).map(|i| (time(&mut first, i + 5), time(&mut second, i + 5))).unzip()
}

/// A single-tenant `serve` process.
struct Server {
    child: Child,
    addr: String,
    client: reqwest::blocking::Client,
}

impl Server {
    fn start(bin: &Path, root: &Path) -> Server {
        let mut child = Command::new(bin)
            .arg("--root")
            .arg(root)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("KINESIS_ROOT_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.split("listening on http://").nth(1).map(str::to_owned))
            .and_then(|rest| rest.split_whitespace().next().map(str::to_owned))
            .expect("the listening line");
        // Keep reading what the server prints so that it never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
        Server { child, addr, client }
    }

    fn call(&self, method: reqwest::Method, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("http://{}{path}", self.addr)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().expect("the server answers");
        (response.status().as_u16(), response.json().unwrap_or(Value::Null))
    }

    fn login(&self) -> String {
        let body = json!({"auth_data": "root", "password": PASSWORD});
        let (status, body) = self.call(reqwest::Method::POST, "", "/user/login", Some(body));
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, token, path, None)
    }

    fn update(&self, token: &str, id: u64, description: &str) {
        let body = json!({"uid": 1, "id": id, "description": description});
        let (status, body) = self.call(reqwest::Method::PATCH, token, "/backup/update/description", Some(body));
        assert_eq!(status, 200, "{body}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn pct(samples: &[Duration], p: usize) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1))).map_or(0.0, |d| ms(*d))
}
