//! The HTTP API end to end, against the built binary on a temporary root:
//! sign-in, records, the whole backup life cycle (create with description
//! and expiry, search and pages, updates, restore without restart,
//! download, verify, delete, bulk delete), public files, and schedules with
//! a tick through the CLI.

mod support;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::http::{Server, command, file_names};

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("not a time: {value}")))
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

fn is_archive_name(name: &str) -> bool {
    let Some(middle) = name.strip_prefix("backup-").and_then(|r| r.strip_suffix(".tar.gz")) else {
        return false;
    };
    let parts: Vec<&str> = middle.split('_').collect();
    parts.len() == 3
        && parts[0].len() == 8
        && parts[1].len() == 4
        && !parts[2].is_empty()
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn backup_life_cycle_over_http() {
    let tenant = support::Tenant::new();
    std::fs::create_dir_all(tenant.dirs.public.join("css")).unwrap();
    std::fs::write(tenant.dirs.public.join("css/site.css"), "body { color: teal }").unwrap();
    std::fs::write(tenant.dirs.translations.join("en.json"), r#"{"hello": "Hello"}"#).unwrap();
    let server = Server::start(tenant.root());
    assert!(server.welcome.contains("username: root"), "{}", server.welcome);
    assert!(server.welcome.contains("/web/login"), "{}", server.welcome);

    // Sign-in gives the user without a password hash, and a token.
    let anonymous = server.anonymous();
    let login = anonymous.post("/user/login", &json!({"auth_data": "root", "password": support::http::ROOT_PASSWORD}));
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["user"]["id"], 1);
    assert_eq!(login.body["user"]["role"], "ROOT");
    assert!(!login.body["user"].to_string().contains("argon2"), "the hash leaked: {}", login.body);
    let wrong = anonymous.post("/user/login", &json!({"auth_data": "root", "password": "not the password"}));
    assert_eq!(wrong.status, 401);
    let root = server.root_client();

    // Records, then two backups.
    assert_eq!(root.put_record(1, "notes", "a", json!({"n": 1})).status, 200);
    assert_eq!(root.put_record(1, "notes", "b", json!("two")).status, 200);
    let expiry = (Utc::now() + Duration::days(2)).with_nanosecond(0).unwrap();
    let created = root.post(
        "/backup/create",
        &json!({"uid": 1, "backup": {"description": "Before the changes", "expiry": expiry.to_rfc3339()}}),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let first = created.body["backup"].clone();
    let first_id = first["id"].as_u64().unwrap();
    assert_eq!(first["description"], "Before the changes");
    assert_eq!(time(&first["expiry"]), expiry);
    assert!(first["size"].as_u64().unwrap() > 0);
    assert_eq!(first["sha256"].as_str().unwrap().len(), 64);
    assert!(first["schedule_id"].is_null());
    let first_name = first["name"].as_str().unwrap().to_owned();
    assert!(is_archive_name(&first_name), "{first_name}");
    assert!(tenant.dirs.backups.join(&first_name).is_file());
    let second = root.create_backup("second one");
    let second_id = second["id"].as_u64().unwrap();
    assert!(second["expiry"].is_null());

    // Fetch: search (case-insensitive), pages, amount, newest first.
    let found = root.get("/backup/fetch?uid=1&limit=50&offset=0&filter=BEFORE");
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["amount"], 1);
    assert_eq!(found.body["backups"][0]["id"], first_id);
    let page1 = root.get("/backup/fetch?uid=1&limit=1&offset=0");
    assert_eq!((page1.body["amount"].as_u64(), page1.body["backups"][0]["id"].as_u64()), (Some(2), Some(second_id)));
    let page2 = root.get("/backup/fetch?uid=1&limit=1&offset=1");
    assert_eq!(page2.body["backups"][0]["id"], first_id);
    assert_eq!(page2.body["backups"].as_array().unwrap().len(), 1);
    let one = root.get(&format!("/backup/fetch/one?uid=1&id={first_id}"));
    assert_eq!(one.body["backup"], first);

    // Updates: description, expiry set, expiry cleared.
    let described =
        root.patch("/backup/update/description", &json!({"uid": 1, "id": first_id, "description": "renamed"}));
    assert_eq!((described.status, &described.body["backup"]["description"]), (200, &json!("renamed")));
    let later = (Utc::now() + Duration::days(5)).with_nanosecond(0).unwrap();
    let set = root.patch("/backup/update/expiry", &json!({"uid": 1, "id": first_id, "expiry": later.to_rfc3339()}));
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(time(&set.body["backup"]["expiry"]), later);
    let cleared = root.patch("/backup/update/expiry", &json!({"uid": 1, "id": first_id, "expiry": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert!(cleared.body["backup"]["expiry"].is_null());

    // Change the data, restore, and the old records are served at once.
    assert_eq!(root.delete("/data/delete?uid=1&collection=notes&key=a").status, 200);
    assert_eq!(root.delete("/data/delete?uid=1&collection=notes&key=a").status, 404);
    root.put_record(1, "notes", "c", json!("added later"));
    let restored = root.get(&format!("/backup/restore?uid=1&id={first_id}"));
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["restore"]["id"], first_id);
    assert!(restored.body["restore"]["files"].as_u64().unwrap() >= 2);
    let records = root.records(1, "notes");
    assert_eq!(records, [("a".to_owned(), json!({"n": 1})), ("b".to_owned(), json!("two"))]);
    assert!(
        root.get("/backup/fetch?uid=1&limit=10&offset=0").body["amount"] == 2,
        "the restore rolled back the catalog"
    );

    // Download: the archive's bytes hash to the record's sha256.
    let response =
        root.request(reqwest::Method::GET, &format!("/backup/download?uid=1&id={second_id}")).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"{}\"", second["name"].as_str().unwrap()));
    let bytes = response.bytes().unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    assert_eq!(hex::encode(Sha256::digest(&bytes)), second["sha256"].as_str().unwrap());

    let verified = root.get(&format!("/backup/verify?uid=1&id={second_id}"));
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["verify"]["ok"], true);

    // Delete: the file goes with the record.
    assert_eq!(root.delete(&format!("/backup/delete?uid=1&id={first_id}")).status, 200);
    assert!(!tenant.dirs.backups.join(&first_name).exists());
    assert_eq!(root.get(&format!("/backup/fetch/one?uid=1&id={first_id}")).status, 404);
    let bulk = root.post("/backup/delete/bulk", &json!({"uid": 1, "ids": [second_id, 9999]}));
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    assert_eq!(bulk.body["deleted"], json!([second_id]));
    assert_eq!(bulk.body["failed"][0]["id"], 9999);
    assert!(bulk.body["failed"][0]["reason"].as_str().unwrap().contains("9999"), "{}", bulk.body);
    assert!(root.backup_ids().is_empty());
    assert!(!file_names(&tenant.dirs.backups).iter().any(|n| n.ends_with(".tar.gz")));

    // Public files and translations, read-only, no links, no escapes.
    let css = reqwest::blocking::get(format!("{}/public/css/site.css", server.base)).unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.text().unwrap(), "body { color: teal }");
    let en = reqwest::blocking::get(format!("{}/translations/en.json", server.base)).unwrap();
    assert_eq!((en.status().as_u16(), en.headers()["content-type"].to_str().unwrap()), (200, "application/json"));
    std::os::unix::fs::symlink(&tenant.dirs.env_file, tenant.dirs.public.join("env-link")).unwrap();
    for path in
        ["/public/env-link", "/public/%2e%2e/.env", "/public/missing.css", "/public/css", "/translations/../.env"]
    {
        let answer = anonymous.get(path);
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
}

#[test]
fn schedules_over_http_and_a_tick_through_the_cli() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();

    let created = root.post(
        "/backup/schedule/create",
        &json!({"uid": 1, "schedule": {"name": "weekly", "cron": "0 0 * * 0", "expiry_hours": 48, "enabled": true}}),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let schedule = created.body["schedule"].clone();
    let id = schedule["id"].as_u64().unwrap();
    let next_run = time(&schedule["next_run"]);
    assert_eq!(next_run.weekday(), Weekday::Sun, "{next_run}");
    assert_eq!((next_run.hour(), next_run.minute(), next_run.second()), (0, 0, 0));
    assert!(next_run > Utc::now() && next_run <= Utc::now() + Duration::days(7));

    let bad = root.post(
        "/backup/schedule/create",
        &json!({"uid": 1, "schedule": {"name": "bad", "cron": "61 * * * *", "enabled": true}}),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["message"].as_str().unwrap().contains("minute"), "{}", bad.body);

    let renamed = root.patch(
        "/backup/schedule/update",
        &json!({"uid": 1, "id": id, "schedule": {"name": "sundays", "expiry_hours": null}}),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(
        (&renamed.body["schedule"]["name"], &renamed.body["schedule"]["expiry_hours"]),
        (&json!("sundays"), &Value::Null)
    );
    let disabled = root.patch("/backup/schedule/update", &json!({"uid": 1, "id": id, "schedule": {"enabled": false}}));
    assert_eq!(disabled.body["schedule"]["enabled"], false);
    assert!(disabled.body["schedule"]["next_run"].is_null());
    let enabled = root.patch(
        "/backup/schedule/update",
        &json!({"uid": 1, "id": id, "schedule": {"enabled": true, "expiry_hours": 48}}),
    );
    assert_eq!(time(&enabled.body["schedule"]["next_run"]), next_run);
    let fetched = root.get("/backup/schedule/fetch?uid=1&limit=10&offset=0");
    assert_eq!((fetched.status, &fetched.body["amount"]), (200, &json!(1)));
    assert_eq!(fetched.body["schedules"][0]["name"], "sundays");

    // The server holds the tenant lock: a CLI write is refused while it runs.
    let refused = command(tenant.root()).args(["backup", "create"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Stop the server, tick at the due time through the CLI.
    server.stop();
    let tick =
        command(tenant.root()).args(["--json", "schedule", "tick", "--at", &next_run.to_rfc3339()]).output().unwrap();
    assert!(tick.status.success(), "{}", String::from_utf8_lossy(&tick.stderr));

    let server = Server::start(tenant.root());
    assert!(!server.welcome.contains("password:"), "the password was shown again: {}", server.welcome);
    let root = server.root_client();
    let backups = root.get("/backup/fetch?uid=1&limit=10&offset=0");
    assert_eq!(backups.body["amount"], 1, "{}", backups.body);
    let made = &backups.body["backups"][0];
    assert_eq!(made["schedule_id"], id);
    assert_eq!(time(&made["expiry"]), next_run + Duration::hours(48));
    let ticked = root.get("/backup/schedule/fetch?uid=1&limit=10&offset=0");
    assert_eq!(time(&ticked.body["schedules"][0]["last_run"]), next_run);
    assert_eq!(time(&ticked.body["schedules"][0]["next_run"]), next_run + Duration::days(7));

    assert_eq!(root.delete(&format!("/backup/schedule/delete?uid=1&id={id}")).status, 200);
    assert_eq!(root.delete(&format!("/backup/schedule/delete?uid=1&id={id}")).status, 404);
    assert_eq!(root.get("/backup/schedule/fetch?uid=1&limit=10&offset=0").body["amount"], 0);
    assert_eq!(root.backup_ids().len(), 1, "deleting a schedule keeps its backups");
}
