//! Bad input over HTTP: each case answers its 4xx in the Kinesis shape,
//! says what is wrong, and changes nothing (the backup list, the schedule
//! list and the files in backups/ are compared before and after).

mod support;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use support::http::{Client, Server, file_names};

/// What the bad requests could have changed.
fn state_of(root: &Client, tenant: &support::Tenant) -> (Value, Value, Vec<String>) {
    let backups = root.get("/backup/fetch?uid=1&limit=1000&offset=0").body;
    let schedules = root.get("/backup/schedule/fetch?uid=1&limit=1000&offset=0").body;
    (backups, schedules, file_names(&tenant.dirs.backups))
}

/// Announces a 2 MiB JSON body and sends none of it: the server must
/// refuse it from the announced length alone. Returns the status and body.
fn announce_large_body(base: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST /backup/create HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        2 * 1024 * 1024
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();
    let backup = root.create_backup("the only one");
    let id = backup["id"].as_u64().unwrap();
    let schedule = root.post(
        "/backup/schedule/create",
        &json!({"uid": 1, "schedule": {"name": "nightly", "cron": "30 1 * * *", "enabled": true}}),
    );
    assert_eq!(schedule.status, 200, "{}", schedule.body);
    let schedule_id = schedule.body["schedule"]["id"].as_u64().unwrap();
    let before = state_of(&root, &tenant);
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();

    let posts: Vec<(&str, Value, u16, &str)> = vec![
        ("/backup/create", json!({"uid": 1, "backup": {"expiry": "tomorrow"}}), 400, "RFC 3339"),
        ("/backup/create", json!({"uid": 1, "backup": {"expiry": past}}), 400, "past"),
        ("/backup/create", json!({"uid": 1, "backup": {"colour": "red"}}), 400, "unknown field `colour`"),
        ("/backup/create", json!({"backup": {}}), 400, "missing field `uid`"),
        ("/backup/create", json!({"uid": "one", "backup": {}}), 400, "uid"),
        ("/backup/delete/bulk", json!({"uid": 1, "ids": []}), 400, "ids"),
        ("/backup/delete/bulk", json!({"uid": 1, "ids": ["x"]}), 400, "ids"),
        (
            "/backup/schedule/create",
            json!({"uid": 1, "schedule": {"name": "n", "cron": "* * *", "enabled": true}}),
            400,
            "cron",
        ),
        (
            "/backup/schedule/create",
            json!({"uid": 1, "schedule": {"name": "n", "cron": "0 0 * * 8", "enabled": true}}),
            400,
            "day-of-week",
        ),
        (
            "/backup/schedule/create",
            json!({"uid": 1, "schedule": {"name": "", "cron": "0 0 * * *", "enabled": true}}),
            400,
            "name",
        ),
        (
            "/backup/schedule/create",
            json!({"uid": 1, "schedule": {"name": "n", "cron": "0 0 * * *", "expiry_hours": 0, "enabled": true}}),
            400,
            "expiry",
        ),
        (
            "/backup/schedule/create",
            json!({"uid": 1, "schedule": {"name": "n", "cron": "0 0 * * *", "expiry_hours": -3, "enabled": true}}),
            400,
            "expiry_hours",
        ),
        ("/backup/schedule/create", json!({"uid": 1, "schedule": {"name": "n", "cron": "0 0 * * *"}}), 400, "enabled"),
    ];
    for (path, body, status, needle) in &posts {
        let answer = root.post(path, body);
        assert_eq!(answer.status, *status, "{path} {body}: {}", answer.body);
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{path} {body}: {message:?} does not mention {needle:?}");
    }

    let patches: Vec<(&str, Value, u16, &str)> = vec![
        ("/backup/update/expiry", json!({"uid": 1, "id": id}), 400, "expiry"),
        ("/backup/update/expiry", json!({"uid": 1, "id": id, "expiry": "31/12/2099"}), 400, "RFC 3339"),
        ("/backup/update/expiry", json!({"uid": 1, "id": id, "expiry": past}), 400, "past"),
        ("/backup/update/expiry", json!({"uid": 1, "id": 424242, "expiry": null}), 404, "424242"),
        ("/backup/update/description", json!({"uid": 1, "id": 424242, "description": "x"}), 404, "424242"),
        ("/backup/update/description", json!({"uid": 1, "id": id}), 400, "description"),
        ("/backup/schedule/update", json!({"uid": 1, "id": schedule_id, "schedule": {}}), 400, "nothing to change"),
        (
            "/backup/schedule/update",
            json!({"uid": 1, "id": schedule_id, "schedule": {"cron": "0 25 * * *"}}),
            400,
            "hour",
        ),
        ("/backup/schedule/update", json!({"uid": 1, "id": schedule_id, "schedule": {"name": ""}}), 400, "name"),
        (
            "/backup/schedule/update",
            json!({"uid": 1, "id": schedule_id, "schedule": {"expiry_hours": 0}}),
            400,
            "expiry",
        ),
        ("/backup/schedule/update", json!({"uid": 1, "id": 77, "schedule": {"enabled": false}}), 404, "77"),
    ];
    for (path, body, status, needle) in &patches {
        let answer = root.patch(path, body);
        assert_eq!(answer.status, *status, "{path} {body}: {}", answer.body);
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{path} {body}: {message:?} does not mention {needle:?}");
    }

    let gets: Vec<(&str, u16, &str)> = vec![
        ("/backup/fetch?uid=1&limit=0&offset=0", 400, "limit"),
        ("/backup/fetch?uid=1&limit=1001&offset=0", 400, "limit"),
        ("/backup/fetch?uid=1&limit=10&offset=-1", 400, "offset"),
        ("/backup/fetch?uid=1&limit=10", 400, "offset"),
        ("/backup/fetch?uid=1&limit=10&offset=0&sort=asc", 400, "sort"),
        ("/backup/fetch/one?uid=1&id=abc", 400, "id"),
        ("/backup/fetch/one?uid=1&id=424242", 404, "424242"),
        ("/backup/restore?uid=1&id=424242", 404, "424242"),
        ("/backup/verify?uid=1&id=424242", 404, "424242"),
        ("/backup/download?uid=1&id=424242", 404, "424242"),
        ("/backup/schedule/fetch?uid=1&limit=5000&offset=0", 400, "limit"),
        ("/no/such/endpoint", 404, "/no/such/endpoint"),
    ];
    for (path, status, needle) in &gets {
        let answer = root.get(path);
        assert_eq!(answer.status, *status, "{path}: {}", answer.body);
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{path}: {message:?} does not mention {needle:?}");
    }
    for (path, status) in [("/backup/delete?uid=1&id=424242", 404), ("/backup/schedule/delete?uid=1&id=x", 400)] {
        assert_eq!(root.delete(path).status, status, "{path}");
    }

    // Bodies that are not JSON, too large, or of the wrong type.
    let raw = |builder: reqwest::blocking::RequestBuilder| root.send_raw(builder);
    let not_json = raw(root
        .request(reqwest::Method::POST, "/backup/create")
        .header("content-type", "application/json")
        .body("{uid: 1"));
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    let form = raw(root
        .request(reqwest::Method::POST, "/backup/create")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("uid=1"));
    assert_eq!(form.status, 400, "{}", form.body);
    let empty = raw(root.request(reqwest::Method::POST, "/backup/create").header("content-type", "application/json"));
    assert_eq!(empty.status, 400, "{}", empty.body);
    let (status, body) = announce_large_body(&server.base, root.token.as_deref().unwrap());
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"status\":413") && body.contains("limit"), "{body}");
    // A client that sends the whole oversize body receives the answer too.
    let sent = raw(root
        .request(reqwest::Method::POST, "/backup/create")
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024]));
    assert_eq!(sent.status, 413, "{}", sent.body);
    // Trailing bytes after the JSON object are refused.
    let trailing = raw(root
        .request(reqwest::Method::POST, "/backup/create")
        .header("content-type", "application/json")
        .body(r#"{"uid": 1} xyz"#));
    assert_eq!(trailing.status, 400, "{}", trailing.body);
    assert!(
        trailing.body["message"].as_str().unwrap().contains("something follows the JSON object"),
        "{}",
        trailing.body
    );
    let wrong_method = raw(root.request(reqwest::Method::PUT, "/backup/create"));
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.body);

    assert_eq!(state_of(&root, &tenant), before, "a refused request changed something");
}
