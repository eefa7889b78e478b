//! Helpers of the HTTP tests: start the built `kinesis-backup serve` on a
//! temporary root and a free port, talk to it with a blocking client, and
//! check on every answer that it has the Kinesis shape (`status` equal to
//! the HTTP status, and a `message`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;

/// The password of the ROOT user the tests' servers create.
pub const ROOT_PASSWORD: &str = "root-password-for-tests";

/// The `kinesis-backup` binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_kinesis-backup")
}

/// A `kinesis-backup` command for `root`, with `--plugin` when
/// `KINESIS_PLUGIN_WASM` names a plugin under test.
pub fn command(root: &Path) -> Command {
    let mut command = Command::new(binary());
    command.arg("--root").arg(root);
    if let Some(plugin) = std::env::var_os("KINESIS_PLUGIN_WASM").filter(|v| !v.is_empty()) {
        command.arg("--plugin").arg(plugin);
    }
    command
}

/// A running server, stopped (SIGTERM, then kill) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The tenant root it serves.
    pub root: PathBuf,
    /// Its stdout up to the "listening" line (the welcome text).
    pub welcome: String,
    /// Where its log (stderr) goes.
    pub log: PathBuf,
}

impl Server {
    /// Starts a server on `root` with the test ROOT password.
    pub fn start(root: &Path) -> Server {
        Server::start_with(root, &[])
    }

    /// Starts a server on `root` with extra environment variables.
    pub fn start_with(root: &Path, env: &[(&str, &str)]) -> Server {
        Server::launch(root, env, &[], &[])
    }

    /// Starts a server on `root` with extra command-line arguments (such as
    /// `--plugin FILE` or `--liveness 2`).
    pub fn start_with_args(root: &Path, args: &[&str]) -> Server {
        Server::launch(root, &[], args, &[])
    }

    /// Starts a server on `root` with extra environment variables,
    /// command-line arguments, and arguments of `serve` itself.
    pub fn launch(root: &Path, env: &[(&str, &str)], args: &[&str], serve_args: &[&str]) -> Server {
        let log = root.with_file_name(format!(
            "{}-server-{}.log",
            root.file_name().and_then(|n| n.to_str()).unwrap_or("tenant"),
            std::process::id()
        ));
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("server log file");
        let mut command = command(root);
        command
            .args(args)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(serve_args)
            .env("KINESIS_ROOT_PASSWORD", ROOT_PASSWORD)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start kinesis-backup serve");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut welcome = String::new();
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                welcome.push_str(&line);
                welcome.push('\n');
                if !sent && line.contains("listening on http://") {
                    let _ = tx.send(welcome.clone());
                    sent = true;
                }
            }
        });
        let welcome = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(welcome) => welcome,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start; its log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        let addr = welcome
            .lines()
            .find_map(|line| line.split("listening on http://").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("an address in the listening line")
            .to_owned();
        Server { child, base: format!("http://{addr}"), root: root.to_owned(), welcome, log }
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit; how
    /// long it took, or `None` when it was still running (it is then killed).
    pub fn terminate_within(&mut self, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// Stops the server gracefully and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client { base: self.base.clone(), http: http_client(), token: None }
    }

    /// A client without credentials whose connections come from `local`
    /// (another loopback address such as 127.0.0.2 is another client).
    pub fn anonymous_from(&self, local: std::net::IpAddr) -> Client {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .local_address(local)
            .build()
            .expect("an HTTP client");
        Client { base: self.base.clone(), http, token: None }
    }

    /// A browser-like client of the web pages, from `local`.
    pub fn browser_from(&self, local: std::net::IpAddr) -> Browser {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .local_address(local)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Browser { base: self.base.clone(), http, cookies: Vec::new() }
    }

    /// A client signed in as `username`.
    pub fn sign_in(&self, username: &str, password: &str) -> Client {
        let mut client = self.anonymous();
        let answer = client.post("/user/login", &serde_json::json!({"auth_data": username, "password": password}));
        assert_eq!(answer.status, 200, "login of {username}: {}", answer.body);
        client.token = Some(answer.body["token"].as_str().expect("a token").to_owned());
        client
    }

    /// A client signed in as the ROOT user (uid 1).
    pub fn root_client(&self) -> Client {
        self.sign_in("root", ROOT_PASSWORD)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(300)).build().expect("an HTTP client")
}

/// An answer: the status and the JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// A client of one server, with or without a token.
pub struct Client {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    http: reqwest::blocking::Client,
    /// The bearer token sent with each request.
    pub token: Option<String>,
}

impl Client {
    /// The same server with another (or no) token.
    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client { base: self.base.clone(), http: self.http.clone(), token: token.map(str::to_owned) }
    }

    /// GET `path_and_query`.
    pub fn get(&self, path_and_query: &str) -> Answer {
        self.send(self.http.get(self.url(path_and_query)))
    }

    /// DELETE `path_and_query`.
    pub fn delete(&self, path_and_query: &str) -> Answer {
        self.send(self.http.delete(self.url(path_and_query)))
    }

    /// POST a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(body))
    }

    /// PATCH a JSON body.
    pub fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.patch(self.url(path)).json(body))
    }

    /// Any request, for raw bodies and headers.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a prepared request and checks the Kinesis shape.
    pub fn send_raw(&self, builder: reqwest::blocking::RequestBuilder) -> Answer {
        self.send_with_headers(builder).0
    }

    /// As [`Client::send_raw`], with the answer's headers.
    pub fn send_with_headers(&self, builder: reqwest::blocking::RequestBuilder) -> (Answer, HeaderMap) {
        let response = builder.send().expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().expect("a body");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        assert_eq!(body["status"], status, "the body's status differs from the HTTP status: {body}");
        assert!(body["message"].is_string(), "no message: {body}");
        (Answer { status, body }, headers)
    }

    fn send(&self, builder: reqwest::blocking::RequestBuilder) -> Answer {
        let builder = match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        };
        self.send_raw(builder)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a backup (asserting success) and returns its record.
    pub fn create_backup(&self, description: &str) -> Value {
        let answer =
            self.post("/backup/create", &serde_json::json!({"uid": 1, "backup": {"description": description}}));
        assert_eq!(answer.status, 200, "create backup: {}", answer.body);
        answer.body["backup"].clone()
    }

    /// The ids of every backup, newest first.
    pub fn backup_ids(&self) -> Vec<u64> {
        let answer = self.get("/backup/fetch?uid=1&limit=1000&offset=0");
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["backups"].as_array().expect("backups").iter().map(|b| b["id"].as_u64().expect("an id")).collect()
    }

    /// Stores a record of the data API for user `uid`.
    pub fn put_record(&self, uid: u64, collection: &str, key: &str, value: Value) -> Answer {
        self.post(
            "/data/create",
            &serde_json::json!({"uid": uid, "collection": collection, "key": key, "value": value}),
        )
    }

    /// The records of a collection as (key, value) pairs.
    pub fn records(&self, uid: u64, collection: &str) -> Vec<(String, Value)> {
        let answer = self.get(&format!("/data/fetch?uid={uid}&collection={collection}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| (r["key"].as_str().expect("a key").to_owned(), r["value"].clone()))
            .collect()
    }
}

/// The names of the files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A page as a browser receives it.
#[derive(Debug)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Page {
    /// Where a redirect goes, if it is one.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|value| value.to_str().ok())
    }

    /// The CSRF token a signed-in page embeds.
    pub fn csrf(&self) -> String {
        self.text
            .split(r#"<meta name="kinesis-csrf" content=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no CSRF token in the page: {}", self.text))
            .to_owned()
    }
}

/// A client of the web pages that keeps its cookies and does not follow
/// redirects, like one browser.
pub struct Browser {
    base: String,
    http: reqwest::blocking::Client,
    /// `name=value` of every cookie held.
    pub cookies: Vec<String>,
}

impl Browser {
    /// GET `path`.
    pub fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request)
    }

    /// POST a form to `path`.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.send(request)
    }

    /// Calls the JSON API with the session cookie and `csrf` as `X-CSRF-Token`.
    pub fn api_get(&mut self, path: &str, csrf: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base)).header("x-csrf-token", csrf);
        self.send(request)
    }

    /// Fills in and sends the sign-in form; the answer to the form.
    pub fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/web/login");
        let nonce = form
            .text
            .split(r#"name="nonce" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a nonce in the sign-in form")
            .to_owned();
        self.post_form("/web/login", &[("username", username), ("password", password), ("nonce", &nonce)])
    }

    /// The value of cookie `name`, if held.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// Holds cookie `name=value` (replacing one of that name).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|pair| !pair.starts_with(&format!("{name}=")));
        self.cookies.push(format!("{name}={value}"));
    }

    fn send(&mut self, request: reqwest::blocking::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() { request } else { request.header("cookie", self.cookies.join("; ")) };
        let response = request.send().expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().trim();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|held| !held.starts_with(&format!("{name}=")));
                let removed = value.is_empty() || set.contains("Max-Age=0");
                if !removed {
                    self.cookies.push(pair.to_owned());
                }
            }
        }
        let text = response.text().expect("a body");
        Page { status, headers, text }
    }
}
