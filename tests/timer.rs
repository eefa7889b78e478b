//! The live schedule timer of a running server, on the real clock: a run
//! missed while the server was down happens once at its start, a due
//! schedule runs by itself at the next minute, and an expired backup is
//! removed on its own. Takes up to two minutes of real time.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::http::Server;

fn cli_json(root: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .arg("--root")
        .arg(root)
        .arg("--json")
        .args(args)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time")).unwrap().with_timezone(&Utc)
}

fn sleep_until(at: DateTime<Utc>) {
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left);
}

/// The backups the server lists.
fn listed(client: &support::http::Client) -> Vec<Value> {
    let page = client.get("/backup/fetch?uid=1&limit=100&offset=0");
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["backups"].as_array().unwrap().clone()
}

#[test]
fn the_running_server_catches_up_once_runs_due_schedules_and_removes_expired_backups() {
    let tenant = support::Tenant::new();
    let root = tenant.root();
    // Created while no server runs: an every-minute schedule, and a manual
    // backup that expires in a few seconds.
    let schedule = cli_json(root, &["schedule", "create", "--name", "every minute", "--cron", "* * * * *"]);
    let schedule_id = schedule["schedule"]["id"].as_u64().unwrap();
    let first_due = time(&schedule["schedule"]["next_run"]);
    let expires = (Utc::now() + chrono::Duration::seconds(5)).to_rfc3339();
    let expiring = cli_json(root, &["backup", "create", "--expiry", &expires]);
    let expiring_id = expiring["backup"]["id"].as_u64().unwrap();

    // The due time passes while the server is down; at its start the timer
    // runs the missed schedule once.
    sleep_until(first_due + chrono::Duration::seconds(2));
    let server = Server::start(root);
    let client = server.root_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    let made_by_schedule = |backups: &[Value]| backups.iter().filter(|b| b["schedule_id"] == schedule_id).count();
    while made_by_schedule(&listed(&client)) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(made_by_schedule(&listed(&client)), 1, "the missed run happened once at the start");

    // At the next minute the schedule runs again by itself, and by then the
    // manual backup has expired and is removed.
    let next = Utc::now() + chrono::Duration::seconds(62);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let backups = listed(&client);
        let expired_gone = !backups.iter().any(|b| b["id"] == expiring_id);
        if made_by_schedule(&backups) >= 2 && expired_gone {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "by {next} the timer had not run the schedule and removed the expired backup: {backups:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let schedules = client.get("/backup/schedule/fetch?uid=1&limit=10&offset=0");
    let schedule = &schedules.body["schedules"][0];
    assert!(schedule["last_run"].is_string() && schedule["last_error"].is_null(), "{schedule}");
    assert!(!tenant.dirs.backups.join(expiring["backup"]["name"].as_str().unwrap()).exists());
}
