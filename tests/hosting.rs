//! Many tenants in one process (`serve --tenants DIR`), over real HTTP with
//! `Host` headers: the isolation matrix (one tenant's token, cookie and ids
//! on another's host), a create and restore on one tenant leaving the others
//! byte-identical, a hostile tenant beside healthy ones, quotas, and tenants
//! created, changed and deleted while the server runs.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::Entry;

const PASSWORD: &str = "tenant-root-password";

fn kb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .args(args)
        .env("KINESIS_ROOT_PASSWORD", PASSWORD)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .output()
        .expect("the binary runs")
}

fn create_tenant(dir: &Path, name: &str, extra: &[&str]) {
    let mut args = vec!["tenant", "create", name, "--tenants", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = kb(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `serve --tenants DIR` on a free port, killed when dropped.
struct Hosting {
    child: Child,
    addr: String,
}

impl Hosting {
    fn start(dir: &Path, extra: &[&str]) -> Hosting {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
            .args(["serve", "--addr", "127.0.0.1:0", "--idle-seconds", "1", "--tenants"])
            .arg(dir)
            .args(extra)
            .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.split("listening on http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_owned();
        Hosting { child, addr }
    }

    fn client(&self, tenant: &str) -> TenantClient {
        TenantClient {
            addr: self.addr.clone(),
            host: format!("{tenant}.localhost"),
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            token: None,
        }
    }

    fn signed_in(&self, tenant: &str) -> TenantClient {
        let mut client = self.client(tenant);
        let (status, body) =
            client.call(Method::POST, "/user/login", Some(json!({"auth_data": "root", "password": PASSWORD})));
        assert_eq!(status, 200, "sign-in at {tenant}: {body}");
        client.token = body["token"].as_str().map(str::to_owned);
        client
    }
}

impl Drop for Hosting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of one tenant's host.
struct TenantClient {
    addr: String,
    host: String,
    http: reqwest::blocking::Client,
    token: Option<String>,
}

impl TenantClient {
    fn with_token(&self, token: Option<&str>) -> TenantClient {
        TenantClient {
            addr: self.addr.clone(),
            host: self.host.clone(),
            http: self.http.clone(),
            token: token.map(str::to_owned),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
        let builder = self.http.request(method, format!("http://{}{path}", self.addr)).header("Host", &self.host);
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body))
    }
}

/// Every endpoint that needs a token, as (method, path, body) for backup
/// or schedule `id`.
fn every_endpoint(id: u64) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::POST, "/backup/create".into(), Some(json!({"uid": 1, "backup": {}}))),
        (Method::GET, "/backup/fetch?uid=1&limit=10&offset=0".into(), None),
        (Method::GET, format!("/backup/fetch/one?uid=1&id={id}"), None),
        (Method::PATCH, "/backup/update/description".into(), Some(json!({"uid": 1, "id": id, "description": "x"}))),
        (Method::PATCH, "/backup/update/expiry".into(), Some(json!({"uid": 1, "id": id, "expiry": null}))),
        (Method::GET, format!("/backup/restore?uid=1&id={id}"), None),
        (Method::GET, format!("/backup/download?uid=1&id={id}"), None),
        (Method::GET, format!("/backup/verify?uid=1&id={id}"), None),
        (Method::POST, "/backup/delete/bulk".into(), Some(json!({"uid": 1, "ids": [id]}))),
        (Method::POST, format!("/backup/upload?uid=1&name=backup-20300101_0000_{id}.tar.gz"), Some(json!({}))),
        (Method::POST, "/backup/offsite/retry".into(), Some(json!({"uid": 1, "id": id}))),
        (Method::GET, "/backup/activity?uid=1".into(), None),
        (Method::DELETE, format!("/backup/delete?uid=1&id={id}"), None),
        (
            Method::POST,
            "/backup/schedule/create".into(),
            Some(json!({"uid": 1, "schedule": {"name": "s", "cron": "0 1 * * *", "enabled": true}})),
        ),
        (Method::GET, "/backup/schedule/fetch?uid=1&limit=10&offset=0".into(), None),
        (
            Method::PATCH,
            "/backup/schedule/update".into(),
            Some(json!({"uid": 1, "id": id, "schedule": {"enabled": false}})),
        ),
        (Method::DELETE, format!("/backup/schedule/delete?uid=1&id={id}"), None),
        (
            Method::POST,
            "/user/create".into(),
            Some(json!({"uid": 1, "user": {"username": "u", "password": "pppppppp", "role": "VIEWER"}})),
        ),
        (Method::POST, "/data/create".into(), Some(json!({"uid": 1, "collection": "c", "key": "k", "value": 1}))),
        (Method::GET, "/data/fetch?uid=1&collection=c".into(), None),
        (Method::DELETE, "/data/delete?uid=1&collection=c&key=k".into(), None),
    ]
}

/// A tenant's files, without its lock file (which records who holds it).
fn tenant_tree(dir: &Path) -> BTreeMap<String, Entry> {
    let mut tree = support::snapshot_tree(dir);
    tree.retain(|path, _| path != ".kinesis.lock");
    tree
}

fn tenants_dir() -> (tempfile::TempDir, PathBuf) {
    let holder = tempfile::Builder::new().prefix("kinesis-hosting-").tempdir().unwrap();
    let dir = holder.path().join("tenants");
    (holder, dir)
}

#[test]
fn tenants_are_isolated_by_host_token_cookie_and_id() {
    let (_holder, dir) = tenants_dir();
    for name in ["acme", "beta", "gamma"] {
        create_tenant(&dir, name, &[]);
    }
    std::fs::write(dir.join("acme/public/only-acme.txt"), "acme's file").unwrap();
    let server = Hosting::start(&dir, &[]);
    let acme = server.signed_in("acme");
    let beta = server.signed_in("beta");

    // beta has backups 1 and 2; acme has backup 1 only.
    for _ in 0..2 {
        assert_eq!(beta.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 200);
    }
    assert_eq!(acme.post("/backup/create", json!({"uid": 1, "backup": {"description": "acme"}})).0, 200);

    // beta's token on acme's host: 401 everywhere; acme's own token on
    // beta's ids: 404.
    let beta_token_at_acme = acme.with_token(beta.token.as_deref());
    for (method, path, body) in every_endpoint(2) {
        let (status, answer) = beta_token_at_acme.call(method.clone(), &path, body.clone());
        assert_eq!(status, 401, "{method} {path} with beta's token at acme: {answer}");
    }
    for (method, path) in [(Method::GET, "/backup/fetch/one?uid=1&id=2"), (Method::GET, "/backup/verify?uid=1&id=2")] {
        assert_eq!(acme.call(method, path, None).0, 404, "{path}: beta's id 2 at acme");
    }
    assert_eq!(acme.get("/backup/fetch?uid=1&limit=10&offset=0").1["amount"], 1);
    assert_eq!(beta.get("/backup/fetch?uid=1&limit=10&offset=0").1["amount"], 2);
    assert_eq!(beta.get("/public/only-acme.txt").0, 404, "acme's files are not served at beta");
    assert_eq!(server.client("nosuchtenant").get("/backup/fetch?uid=1&limit=1&offset=0").0, 404);
    assert_eq!(server.client("ACME").get("/public/only-acme.txt").0, 404);
    for host in ["acme.localhost.evil", "x.acme.localhost", "localhost", "..localhost"] {
        let client = TenantClient { host: host.to_owned(), ..acme.with_token(acme.token.as_deref()) };
        assert_eq!(client.get("/public/only-acme.txt").0, 404, "host {host}");
    }

    // A web session of acme does not sign anyone in at beta.
    let login_page = acme.request(Method::GET, "/web/login").send().unwrap();
    let nonce_cookie =
        login_page.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = login_page.text().unwrap();
    let nonce = page.split("name=\"nonce\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let signed_in = acme
        .with_token(None)
        .request(Method::POST, "/web/login")
        .header("Cookie", &nonce_cookie)
        .form(&[("username", "root"), ("password", PASSWORD), ("nonce", nonce.as_str())])
        .send()
        .unwrap();
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kinesis_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let at_acme = acme.with_token(None).request(Method::GET, "/web/backups").header("Cookie", &session).send().unwrap();
    assert_eq!(at_acme.status().as_u16(), 200);
    let at_beta = beta.with_token(None).request(Method::GET, "/web/backups").header("Cookie", &session).send().unwrap();
    assert!(at_beta.status().is_redirection(), "acme's session opened beta's page: {}", at_beta.status());

    // A create, restore and delete on acme leave beta and gamma byte-identical.
    let beta_before = tenant_tree(&dir.join("beta"));
    let gamma_before = tenant_tree(&dir.join("gamma"));
    let made = acme.post("/backup/create", json!({"uid": 1, "backup": {}}));
    let id = made.1["backup"]["id"].as_u64().unwrap();
    assert_eq!(acme.get(&format!("/backup/restore?uid=1&id={id}")).0, 200);
    assert_eq!(acme.call(Method::DELETE, &format!("/backup/delete?uid=1&id={id}"), None).0, 200);
    support::assert_same_tree(&beta_before, &tenant_tree(&dir.join("beta")));
    support::assert_same_tree(&gamma_before, &tenant_tree(&dir.join("gamma")));

    // Sign-in throttling is per tenant: acme's root locked at this address
    // leaves beta's root free to sign in from it.
    let guesser = server.client("acme");
    let statuses: Vec<u16> = (0..6)
        .map(|_| guesser.post("/user/login", json!({"auth_data": "root", "password": "a wrong guess"})).0)
        .collect();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    assert_eq!(server.client("beta").post("/user/login", json!({"auth_data": "root", "password": PASSWORD})).0, 200);
}

#[test]
fn a_hostile_tenant_does_not_slow_the_others_and_quotas_hold() {
    let (_holder, dir) = tenants_dir();
    create_tenant(&dir, "healthy", &["--quota-backups", "2"]);
    let hostile = env!("KINESIS_HOSTILE_PLUGIN_WASM");
    create_tenant(&dir, "hostile", &["--plugin", hostile, "--liveness-seconds", "4"]);
    let server = Hosting::start(&dir, &["--max-running", "2"]);
    let healthy = server.signed_in("healthy");
    let bad = server.signed_in("hostile");

    let spinning = {
        let bad = bad.with_token(bad.token.as_deref());
        std::thread::spawn(move || bad.post("/backup/create", json!({"uid": 1, "backup": {"description": "spin"}})))
    };
    let flooding = {
        let bad = bad.with_token(bad.token.as_deref());
        std::thread::spawn(move || bad.get("/backup/fetch?uid=1&limit=10&offset=0&filter=log-flood"))
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut slowest = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let started = Instant::now();
        assert_eq!(healthy.get("/backup/fetch?uid=1&limit=10&offset=0").0, 200);
        slowest = slowest.max(started.elapsed());
    }
    eprintln!("the healthy tenant's slowest list beside a spinning, flooding tenant: {slowest:?}");
    assert!(slowest < Duration::from_millis(500), "a list waited {slowest:?} behind another tenant");
    assert_eq!(healthy.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 200, "a create runs beside it");

    let (status, body) = spinning.join().unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(body["message"].as_str().unwrap().contains("reported no progress for 4 s"), "{body}");
    assert_eq!(flooding.join().unwrap().0, 200);

    // The quota of two backups: the third create is 507, saying why.
    assert_eq!(healthy.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 200);
    let (status, body) = healthy.post("/backup/create", json!({"uid": 1, "backup": {}}));
    assert_eq!(status, 507, "{body}");
    assert!(body["message"].as_str().unwrap().contains("its quota allows 2"), "{body}");

    // An upload is a new backup too: refused by the same quota, nothing kept.
    let list = healthy.get("/backup/fetch?uid=1&limit=10&offset=0").1;
    let oldest = list["backups"][1]["id"].as_u64().unwrap();
    let name = list["backups"][1]["name"].as_str().unwrap().to_owned();
    let archive = healthy.request(Method::GET, &format!("/backup/download?uid=1&id={oldest}")).send().unwrap();
    let archive = archive.bytes().unwrap().to_vec();
    let deleted = healthy.call(Method::DELETE, &format!("/backup/delete?uid=1&id={oldest}"), None);
    assert_eq!(deleted.0, 200, "{}", deleted.1);
    assert_eq!(healthy.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 200);
    let upload =
        healthy.request(Method::POST, &format!("/backup/upload?uid=1&name={name}")).body(archive).send().unwrap();
    assert_eq!(upload.status().as_u16(), 507);
    assert!(upload.text().unwrap().contains("its quota allows 2"));
    let names = support::http::file_names(&dir.join("healthy/backups"));
    assert!(!names.contains(&name), "the refused upload was kept: {names:?}");
    assert_eq!(healthy.get("/backup/fetch?uid=1&limit=10&offset=0").1["amount"], 2);
}

#[test]
fn tenants_created_changed_and_deleted_while_serving_are_picked_up() {
    let (_holder, dir) = tenants_dir();
    create_tenant(&dir, "first", &[]);
    let server = Hosting::start(&dir, &[]);
    assert_eq!(server.client("later").get("/backup/fetch?uid=1&limit=1&offset=0").0, 404);

    create_tenant(&dir, "later", &[]);
    let later = server.signed_in("later");
    assert_eq!(later.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 200);

    // A quota set while the tenant is open applies once it was idle.
    let out = kb(&["tenant", "update", "later", "--tenants", dir.to_str().unwrap(), "--quota-backups", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(later.post("/backup/create", json!({"uid": 1, "backup": {}})).0, 507);

    // Deleting an open tenant is refused; once idle it goes, and its host 404s.
    let delete = || kb(&["tenant", "delete", "later", "--tenants", dir.to_str().unwrap()]);
    let refused = delete();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in use"));
    std::thread::sleep(Duration::from_millis(2500));
    let deleted = delete();
    assert_eq!(deleted.status.code(), Some(0), "{}", String::from_utf8_lossy(&deleted.stderr));
    assert_eq!(later.get("/backup/fetch?uid=1&limit=1&offset=0").0, 404);
    assert!(!dir.join("later").exists());

    let listed = kb(&["--json", "tenant", "list", "--tenants", dir.to_str().unwrap()]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["tenants"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["tenants"][0]["name"], "first");
}

/// An archive sent slowly: nothing for `pause`, then the bytes.
struct SlowArchive {
    bytes: std::io::Cursor<Vec<u8>>,
    pause: Option<Duration>,
}

impl std::io::Read for SlowArchive {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(pause) = self.pause.take() {
            std::thread::sleep(pause);
        }
        self.bytes.read(buf)
    }
}

#[test]
fn uploads_are_received_one_at_a_time_and_bounded_by_the_byte_quota() {
    let (_holder, dir) = tenants_dir();
    create_tenant(&dir, "acme", &[]);
    std::fs::write(dir.join("acme/public/page.html"), "<p>acme</p>".repeat(2000)).unwrap();
    let server = Hosting::start(&dir, &[]);
    let acme = server.signed_in("acme");
    let made = acme.post("/backup/create", json!({"uid": 1, "backup": {}}));
    let (id, name) = (made.1["backup"]["id"].as_u64().unwrap(), made.1["backup"]["name"].as_str().unwrap().to_owned());
    let archive = acme.request(Method::GET, &format!("/backup/download?uid=1&id={id}")).send().unwrap();
    let archive = archive.bytes().unwrap().to_vec();
    let delete = || acme.call(Method::DELETE, &format!("/backup/delete?uid=1&id={id}"), None).0;
    assert_eq!(delete(), 200);
    let upload_path = format!("/backup/upload?uid=1&name={name}");

    // A slow upload holds the tenant's upload slot: another one meanwhile is
    // 409 and changes nothing; the slow one then lands.
    let slow = {
        let request = acme.request(Method::POST, &upload_path);
        let body = SlowArchive { bytes: std::io::Cursor::new(archive.clone()), pause: Some(Duration::from_secs(2)) };
        std::thread::spawn(move || request.body(reqwest::blocking::Body::new(body)).send().unwrap().status().as_u16())
    };
    std::thread::sleep(Duration::from_millis(700));
    let second = acme.request(Method::POST, &upload_path).body(archive.clone()).send().unwrap();
    assert_eq!(second.status().as_u16(), 409);
    assert!(second.text().unwrap().contains("another upload to this tenant"));
    assert_eq!(slow.join().unwrap(), 200, "the slow upload lands");
    assert_eq!(delete(), 200);

    // A byte quota below the archive's size: the upload is refused (507)
    // however it announces itself, and nothing is kept.
    let room = (archive.len() - 1).to_string();
    let out = kb(&["tenant", "update", "acme", "--tenants", dir.to_str().unwrap(), "--quota-bytes", &room]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(2500));
    let announced = acme.request(Method::POST, &upload_path).body(archive.clone()).send().unwrap();
    let streamed = acme
        .request(Method::POST, &upload_path)
        .body(reqwest::blocking::Body::new(SlowArchive { bytes: std::io::Cursor::new(archive.clone()), pause: None }))
        .send()
        .unwrap();
    for refused in [announced, streamed] {
        assert_eq!(refused.status().as_u16(), 507);
        assert!(refused.text().unwrap().contains("may still take under its quota"));
    }
    let names = support::http::file_names(&dir.join("acme/backups"));
    assert!(!names.contains(&name), "a refused upload was kept: {names:?}");
    assert_eq!(acme.get("/backup/fetch?uid=1&limit=10&offset=0").1["amount"], 0);
}
