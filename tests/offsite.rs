//! Offsite copies against a real S3-compatible server (`s3s-fs` on
//! loopback, see `tests/support/s3.rs`): copies after a create, a server
//! that is down during a copy and comes back, deletes and expiry reaching
//! the bucket, recovery of an empty tenant folder from the bucket alone,
//! encrypted copies, and uploads of good, hostile, truncated and oversized
//! archives. The time of copies and fetches is measured by the benchmark
//! `host/benches/offsite_copy.rs`, not here.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::http::Server;
use support::s3::S3Server;
use support::{Tenant, assert_same_tree};

/// The prefix in the bucket; tenants' folders are below it.
const PREFIX: &str = "kinesis";
/// Where the tests' tenants (all named `tenant`) are copied.
const FOLDER: &str = "kinesis/tenant";

fn target() -> String {
    format!("s3://{}/{PREFIX}", support::s3::BUCKET)
}

/// Runs the binary on `root` with `--offsite` pointing at `s3` and `args`.
fn kb(root: &Path, s3: &S3Server, extra: &[&str], args: &[&str]) -> Output {
    let mut cmd = support::http::command(root);
    cmd.args(["--offsite", &target()]).args(extra).args(args).arg("--json");
    cmd.env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg")).env_remove("RUST_LOG");
    s3.apply(&mut cmd);
    cmd.output().expect("the binary runs")
}

/// Runs and expects success, returning the JSON it printed.
fn kb_ok(root: &Path, s3: &S3Server, extra: &[&str], args: &[&str]) -> Value {
    let out = kb(root, s3, extra, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stderr}"))
}

/// The archive and record files the bucket holds for the tests' tenant.
fn remote_files(s3: &S3Server) -> Vec<String> {
    s3.files(FOLDER).into_iter().filter(|name| name.starts_with("backup-")).collect()
}

/// A server on `root` copying to `s3`, with quick retries and `serve_args`.
fn serve(root: &Path, s3: &S3Server, serve_args: &[&str]) -> Server {
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let target = target();
    Server::launch(root, &env, &["--offsite", target.as_str(), "--offsite-retry-ms", "300"], serve_args)
}

/// Waits until backup `id` shows offsite state `want`; returns the record.
fn wait_offsite(client: &support::http::Client, id: u64, want: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let answer = client.get(&format!("/backup/fetch/one?uid=1&id={id}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        if answer.body["backup"]["offsite"] == want {
            return answer.body["backup"].clone();
        }
        assert!(Instant::now() < deadline, "backup {id} never became {want}: {}", answer.body);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_create_is_copied_and_deletes_reach_the_bucket() {
    let s3 = S3Server::start();
    let tenant = Tenant::new();
    tenant.fill(1);
    let server = serve(tenant.root(), &s3, &[]);
    let client = server.root_client();

    let first = client.create_backup("first");
    assert_eq!(first["local"], true);
    assert!(["pending", "copied"].contains(&first["offsite"].as_str().unwrap()), "{first}");
    let id = first["id"].as_u64().unwrap();
    let name = first["name"].as_str().unwrap().to_owned();
    wait_offsite(&client, id, "copied", Duration::from_secs(60));
    assert_eq!(remote_files(&s3), [name.clone(), format!("{name}.json")]);
    let copy = std::fs::read(s3.path(FOLDER, &name)).unwrap();
    assert_eq!(copy, std::fs::read(tenant.dirs.backups.join(&name)).unwrap(), "the copy is the archive");
    let record: Value =
        serde_json::from_slice(&std::fs::read(s3.path(FOLDER, &format!("{name}.json"))).unwrap()).unwrap();
    assert_eq!((record["id"].as_u64(), record["sha256"].clone()), (Some(id), first["sha256"].clone()));

    // A changed description reaches the record.
    let answer = client.patch("/backup/update/description", &json!({"uid": 1, "id": id, "description": "renamed"}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record: Value =
            serde_json::from_slice(&std::fs::read(s3.path(FOLDER, &format!("{name}.json"))).unwrap()).unwrap();
        if record["description"] == "renamed" {
            break;
        }
        assert!(Instant::now() < deadline, "the record was not updated: {record}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let answer = client.delete(&format!("/backup/delete?uid=1&id={id}"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !remote_files(&s3).is_empty() {
        assert!(Instant::now() < deadline, "the delete did not reach the bucket: {:?}", remote_files(&s3));
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
}

#[test]
fn a_copy_waits_out_an_outage_and_survives_a_restart() {
    let mut s3 = S3Server::start();
    let tenant = Tenant::new();
    tenant.fill(2);
    let server = serve(tenant.root(), &s3, &[]);
    let client = server.root_client();

    s3.pause();
    let backup = client.create_backup("during the outage");
    let id = backup["id"].as_u64().unwrap();
    let pending = wait_offsite(&client, id, "pending", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(60);
    let reason = loop {
        let answer = client.get(&format!("/backup/fetch/one?uid=1&id={id}"));
        if let Some(reason) = answer.body["backup"]["offsite_reason"].as_str() {
            break reason.to_owned();
        }
        assert!(Instant::now() < deadline, "no failure was recorded: {pending}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(reason.contains("offsite storage"), "{reason}");

    // The server stops while the copy waits; the next one takes it up.
    server.stop();
    s3.resume();
    let server = serve(tenant.root(), &s3, &[]);
    let client = server.root_client();
    wait_offsite(&client, id, "copied", Duration::from_secs(60));
    assert_eq!(remote_files(&s3).len(), 2);
    server.stop();
}

#[test]
fn expired_backups_leave_the_bucket() {
    let s3 = S3Server::start();
    let tenant = Tenant::new();
    tenant.fill(3);
    let root = tenant.root();
    let soon = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let kept = kb_ok(root, &s3, &[], &["backup", "create", "--description", "kept"]);
    let expiring = kb_ok(root, &s3, &[], &["backup", "create", "--expiry", &soon]);
    assert_eq!(kept["backup"]["offsite"], "copied", "{kept}");
    assert_eq!(expiring["backup"]["offsite"], "copied", "{expiring}");
    assert_eq!(remote_files(&s3).len(), 4);

    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let tick = kb_ok(root, &s3, &[], &["schedule", "tick", "--at", &later]);
    assert_eq!(tick["tick"]["expired"], json!([expiring["backup"]["id"]]));
    let name = kept["backup"]["name"].as_str().unwrap();
    assert_eq!(remote_files(&s3), [name.to_owned(), format!("{name}.json")]);
}

#[test]
fn an_empty_tenant_folder_recovers_from_the_bucket() {
    let s3 = S3Server::start();
    let old = Tenant::new();
    old.fill(4);
    let first = kb_ok(old.root(), &s3, &[], &["backup", "create", "--description", "monday"]);
    let at_first = old.snapshot();
    old.fill(5);
    std::fs::write(old.dirs.data.join("later.txt"), "changed after the first backup").unwrap();
    let second = kb_ok(old.root(), &s3, &[], &["backup", "create", "--description", "tuesday"]);
    assert_eq!(second["backup"]["offsite"], "copied");
    drop(old);

    // A new machine: an empty tenant folder of the same name, the same bucket.
    let new = Tenant::new();
    let list = kb_ok(new.root(), &s3, &[], &["backup", "list"]);
    assert_eq!(list["amount"], 2, "{list}");
    let listed: Vec<(u64, bool, String)> = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["id"].as_u64().unwrap(), b["local"].as_bool().unwrap(), b["description"].as_str().unwrap().into()))
        .collect();
    let (first_id, second_id) = (first["backup"]["id"].as_u64().unwrap(), second["backup"]["id"].as_u64().unwrap());
    assert_eq!(listed, [(second_id, false, "tuesday".into()), (first_id, false, "monday".into())]);

    let restored = kb_ok(new.root(), &s3, &[], &["backup", "restore", &first_id.to_string()]);
    assert_eq!(restored["restore"]["id"], first_id);
    assert_same_tree(&at_first, &new.snapshot());
    let get = kb_ok(new.root(), &s3, &[], &["backup", "get", &first_id.to_string()]);
    assert_eq!((get["backup"]["local"].clone(), get["backup"]["description"].clone()), (json!(true), json!("monday")));

    // A new backup's id follows the bucket's.
    let third = kb_ok(new.root(), &s3, &[], &["backup", "create"]);
    assert!(third["backup"]["id"].as_u64().unwrap() > second_id, "{third}");
    assert_eq!(kb_ok(new.root(), &s3, &[], &["backup", "list"])["amount"], 3);
}

#[test]
fn encrypted_copies_need_the_key() {
    use age::secrecy::ExposeSecret;
    let s3 = S3Server::start();
    let keys = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let key_file = keys.path().join("offsite.key");
    std::fs::write(&key_file, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    let recipient = identity.to_public().to_string();
    let sealed = ["--offsite-recipient", recipient.as_str()];

    let old = Tenant::new();
    old.fill(6);
    let made = kb_ok(old.root(), &s3, &sealed, &["backup", "create"]);
    let before = old.snapshot();
    let name = made["backup"]["name"].as_str().unwrap();
    assert_eq!(remote_files(&s3), [format!("{name}.age"), format!("{name}.json")]);
    let remote = std::fs::read(s3.path(FOLDER, &format!("{name}.age"))).unwrap();
    let local = std::fs::read(old.dirs.backups.join(name)).unwrap();
    assert_eq!(&local[..2], &[0x1f, 0x8b], "the local archive stays a plain .tar.gz");
    assert!(remote.starts_with(b"age-encryption.org/v1"), "the copy is an age file");
    assert!(!remote.windows(64).any(|w| local.windows(64).next() == Some(w)), "no plain bytes offsite");

    let new = Tenant::new();
    let id = made["backup"]["id"].as_u64().unwrap().to_string();
    let refused = kb(new.root(), &s3, &[], &["backup", "restore", &id]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--offsite-identity"), "{refused:?}");
    let wrong = keys.path().join("wrong.key");
    std::fs::write(&wrong, age::x25519::Identity::generate().to_string().expose_secret()).unwrap();
    let refused = kb(new.root(), &s3, &["--offsite-identity", wrong.to_str().unwrap()], &["backup", "restore", &id]);
    assert_ne!(refused.status.code(), Some(0), "a wrong key does not decrypt");
    assert!(support::http::file_names(&new.dirs.backups).iter().all(|n| !n.ends_with(".tar.gz")));

    let with_key = ["--offsite-identity", key_file.to_str().unwrap()];
    kb_ok(new.root(), &s3, &with_key, &["backup", "restore", &id]);
    assert_same_tree(&before, &new.snapshot());
    assert_eq!(std::fs::read(new.dirs.backups.join(name)).unwrap(), local, "the fetched archive is the original");
}

/// The archive with a file `../escape.txt` added at its end.
fn hostile(archive: &[u8]) -> Vec<u8> {
    let mut raw = flate2::read::MultiGzDecoder::new(archive);
    let mut tar_bytes = Vec::new();
    std::io::Read::read_to_end(&mut raw, &mut tar_bytes).unwrap();
    // Drop the two zero blocks at the end, append the entry, end again.
    while tar_bytes.len() >= 512 && tar_bytes[tar_bytes.len() - 512..].iter().all(|b| *b == 0) {
        tar_bytes.truncate(tar_bytes.len() - 512);
    }
    let mut header = tar::Header::new_gnu();
    let data = b"outside";
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    let path = b"../escape.txt";
    header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path);
    header.set_cksum();
    tar_bytes.extend_from_slice(header.as_bytes());
    tar_bytes.extend_from_slice(data);
    tar_bytes.resize(tar_bytes.len().div_ceil(512) * 512 + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn uploads_are_checked_completely_before_they_are_listed() {
    let s3 = S3Server::start();
    let tenant = Tenant::new();
    let server = serve(tenant.root(), &s3, &["--upload-limit", "8000000"]);
    let client = server.root_client();

    // A download kept aside, its backup deleted since.
    let made = client.create_backup("kept aside");
    let made_id = made["id"].as_u64().unwrap();
    let name = made["name"].as_str().unwrap().to_owned();
    let response =
        client.request(reqwest::Method::GET, &format!("/backup/download?uid=1&id={made_id}")).send().unwrap();
    assert_eq!(response.status(), 200);
    let good = response.bytes().unwrap().to_vec();
    assert_eq!(client.delete(&format!("/backup/delete?uid=1&id={made_id}")).status, 200);

    let upload_as = |name: &str, body: Vec<u8>| {
        let path = format!("/backup/upload?uid=1&name={name}&description=from%20elsewhere");
        client.send_raw(client.request(reqwest::Method::POST, &path).body(body))
    };
    let upload = |body: Vec<u8>| upload_as(&name, body);
    let archives = |dir: &Path| -> Vec<String> {
        support::http::file_names(dir).into_iter().filter(|name| name.ends_with(".tar.gz")).collect()
    };
    let nothing_left = |what: &str| {
        assert!(archives(&tenant.dirs.backups).is_empty(), "{what} left an archive in backups/");
        assert!(client.backup_ids().is_empty(), "{what} was listed");
        let work = support::http::file_names(&tenant.root().join(".kinesis"));
        assert!(work.iter().all(|n| !n.starts_with("import-")), "{what} left {work:?}");
    };
    nothing_left("the deleted backup");

    let answer = upload(hostile(&good));
    assert_eq!(answer.status, 422, "{}", answer.body);
    nothing_left("a hostile archive");

    let answer = upload(good[..good.len() / 2].to_vec());
    assert_eq!(answer.status, 422, "{}", answer.body);
    nothing_left("a truncated archive");

    let answer = upload(vec![7u8; 8_000_001]);
    assert_eq!(answer.status, 413, "{}", answer.body);
    nothing_left("an upload over the limit");

    let answer = upload_as("shop.tar.gz", good.clone());
    assert_eq!(answer.status, 400, "an upload names its archive: {}", answer.body);
    nothing_left("an upload without an archive name");

    let answer = upload(good.clone());
    assert_eq!(answer.status, 200, "{}", answer.body);
    let backup = &answer.body["backup"];
    assert_eq!(backup["description"], "from elsewhere");
    assert_eq!(backup["size"].as_u64(), Some(good.len() as u64));
    assert_eq!(backup["name"], name.as_str());
    let id = backup["id"].as_u64().unwrap();
    assert_eq!(id, made_id, "an archive comes back as its own backup");
    assert_eq!(client.backup_ids(), [id]);
    let again = upload(good.clone());
    assert_eq!(again.status, 422, "a backup that exists is not uploaded twice: {}", again.body);
    let verify = client.get(&format!("/backup/verify?uid=1&id={id}"));
    assert_eq!(verify.body["verify"]["ok"], true, "{}", verify.body);
    wait_offsite(&client, id, "copied", Duration::from_secs(60));
    let restore = client.get(&format!("/backup/restore?uid=1&id={id}"));
    assert_eq!(restore.status, 200, "{}", restore.body);
    server.stop();

    // The command line's import checks the same way.
    kb_ok(tenant.root(), &s3, &[], &["backup", "delete", &id.to_string()]);
    let file = tenant.scratch("upload").join(&name);
    std::fs::write(&file, hostile(&good)).unwrap();
    let refused = kb(tenant.root(), &s3, &[], &["backup", "import", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
    std::fs::write(&file, &good).unwrap();
    let imported = kb_ok(tenant.root(), &s3, &[], &["backup", "import", file.to_str().unwrap()]);
    assert_eq!(imported["backup"]["offsite"], "copied", "{imported}");
    assert_eq!(imported["backup"]["id"].as_u64(), Some(id));
}

#[test]
fn hosted_tenants_copy_to_their_own_target_or_the_hosts() {
    let s3 = S3Server::start();
    let tenants = tempfile::tempdir().unwrap();
    let dir = tenants.path().to_str().unwrap();
    let own = format!("s3://{}/own", support::s3::BUCKET);
    for (name, extra) in [("acme", vec!["--offsite", own.as_str()]), ("beta", vec![])] {
        let mut cmd = std::process::Command::new(support::http::binary());
        cmd.args(["tenant", "create", name, "--tenants", dir]).args(&extra);
        cmd.env("KINESIS_ROOT_PASSWORD", "hosted-root-password")
            .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"));
        s3.apply(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut cmd = std::process::Command::new(support::http::binary());
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--tenants", dir, "--offsite", &target()])
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    s3.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let addr = line.split("listening on http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_owned();
    let http = reqwest::blocking::Client::new();
    let call = |tenant: &str, path: &str, body: Value, token: Option<&str>| -> Value {
        let mut request =
            http.post(format!("http://{addr}{path}")).header("Host", format!("{tenant}.localhost")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap().json().unwrap()
    };
    for tenant in ["acme", "beta"] {
        let login = call(tenant, "/user/login", json!({"auth_data": "root", "password": "hosted-root-password"}), None);
        let token = login["token"].as_str().unwrap().to_owned();
        let made = call(tenant, "/backup/create", json!({"uid": 1, "backup": {}}), Some(&token));
        assert_eq!(made["status"], 200, "{made}");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while s3.files("own/acme").len() < 2 || s3.files("kinesis/beta").len() < 2 {
        assert!(Instant::now() < deadline, "copies missing: {:?} {:?}", s3.files("own/acme"), s3.files("kinesis/beta"));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s3.files("kinesis/acme").is_empty(), "acme's own target replaces the host's");
    let _ = child.kill();
    let _ = child.wait();
}
