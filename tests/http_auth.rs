//! Who may do what over HTTP: the whole auth matrix on every backup and
//! schedule endpoint (no token, bad token, expired token, another user's
//! uid, each non-ROOT role), the web session cookie with and without its
//! CSRF header, user creation rules, and the data API for every role.

mod support;

use base64::Engine;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use support::http::{Client, Server};

/// Every backup and schedule endpoint, with `{uid}` where the caller's id goes.
fn guarded_endpoints() -> Vec<(reqwest::Method, &'static str, Option<Value>)> {
    use reqwest::Method;
    vec![
        (Method::POST, "/backup/create", Some(json!({"uid": "{uid}", "backup": {"description": "x"}}))),
        (Method::GET, "/backup/fetch?uid={uid}&limit=10&offset=0", None),
        (Method::GET, "/backup/fetch/one?uid={uid}&id=1", None),
        (Method::PATCH, "/backup/update/description", Some(json!({"uid": "{uid}", "id": 1, "description": "y"}))),
        (Method::PATCH, "/backup/update/expiry", Some(json!({"uid": "{uid}", "id": 1, "expiry": null}))),
        (Method::GET, "/backup/restore?uid={uid}&id=1", None),
        (Method::DELETE, "/backup/delete?uid={uid}&id=1", None),
        (Method::POST, "/backup/delete/bulk", Some(json!({"uid": "{uid}", "ids": [1]}))),
        (Method::GET, "/backup/download?uid={uid}&id=1", None),
        (Method::GET, "/backup/verify?uid={uid}&id=1", None),
        (
            Method::POST,
            "/backup/schedule/create",
            Some(json!({"uid": "{uid}", "schedule": {"name": "n", "cron": "0 0 * * *", "enabled": true}})),
        ),
        (Method::GET, "/backup/schedule/fetch?uid={uid}&limit=10&offset=0", None),
        (
            Method::PATCH,
            "/backup/schedule/update",
            Some(json!({"uid": "{uid}", "id": 1, "schedule": {"enabled": false}})),
        ),
        (Method::DELETE, "/backup/schedule/delete?uid={uid}&id=1", None),
    ]
}

/// Calls every guarded endpoint as `client` naming `uid`; the statuses.
fn call_all(client: &Client, uid: u64, extra_headers: &[(&str, &str)]) -> Vec<(String, u16, Value)> {
    guarded_endpoints()
        .into_iter()
        .map(|(method, path, body)| {
            let path = path.replace("{uid}", &uid.to_string());
            let mut request = client.request(method.clone(), &path);
            if let Some(body) = body {
                request = request.body(body.to_string().replace("\"{uid}\"", &uid.to_string()));
                request = request.header("content-type", "application/json");
            }
            for (name, value) in extra_headers {
                request = request.header(*name, *value);
            }
            let answer = client.send_raw(request);
            (format!("{method} {path}"), answer.status, answer.body)
        })
        .collect()
}

fn assert_all(results: &[(String, u16, Value)], expected: u16, who: &str) {
    for (endpoint, status, body) in results {
        assert_eq!(*status, expected, "{who} on {endpoint}: {body}");
    }
}

fn token_secret(root: &std::path::Path) -> Vec<u8> {
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    let line = env.lines().find_map(|l| l.strip_prefix("KINESIS_TOKEN_SECRET=")).expect("a token secret in .env");
    base64::engine::general_purpose::STANDARD.decode(line.trim()).unwrap()
}

#[test]
fn every_backup_and_schedule_endpoint_needs_a_root_token_for_its_uid() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();
    let mut users = Vec::new();
    for (name, role) in [("admin", "ADMIN"), ("author", "author"), ("viewer", "VIEWER"), ("root2", "ROOT")] {
        let answer = root.post(
            "/user/create",
            &json!({"uid": 1, "user": {"username": name, "password": "password-of-user", "role": role}}),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["user"]["role"], role.to_uppercase());
        users.push((name, answer.body["user"]["id"].as_u64().unwrap()));
    }
    let before = root.backup_ids();

    let secret = token_secret(tenant.root());
    let expired = kinesis_backup::auth::token::issue(&secret, 1, Utc::now() - Duration::minutes(1));
    let forged = kinesis_backup::auth::token::issue(&[7u8; 32], 1, Utc::now() + Duration::hours(1));
    assert_all(&call_all(&server.anonymous(), 1, &[]), 401, "no token");
    assert_all(&call_all(&root.with_token(Some("garbage")), 1, &[]), 401, "a bad token");
    assert_all(&call_all(&root.with_token(Some(&forged)), 1, &[]), 401, "a token signed elsewhere");
    assert_all(&call_all(&root.with_token(Some(&expired)), 1, &[]), 401, "an expired token");
    let root2 = server.sign_in("root2", "password-of-user");
    assert_all(&call_all(&root2, 1, &[]), 403, "another ROOT user naming uid 1");
    for (name, id) in &users[..3] {
        let client = server.sign_in(name, "password-of-user");
        assert_all(&call_all(&client, *id, &[]), 403, name);
        assert_all(&call_all(&client, 1, &[]), 403, &format!("{name} naming uid 1"));
    }
    assert_eq!(root.backup_ids(), before, "a refused request changed the backups");
    assert_eq!(root.get("/backup/schedule/fetch?uid=1&limit=10&offset=0").body["amount"], 0);

    // The web session: the cookie counts only with its CSRF header.
    let token = root.token.clone().unwrap();
    let cookie = format!("kinesis_session={token}");
    let cookie_only = server.anonymous();
    let plain = cookie_only.send_raw(
        cookie_only.request(reqwest::Method::GET, "/backup/fetch?uid=1&limit=1&offset=0").header("cookie", &cookie),
    );
    assert_eq!(plain.status, 401, "{}", plain.body);
    let csrf = kinesis_backup::auth::csrf_token(&secret, &token);
    let with_csrf = cookie_only.send_raw(
        cookie_only
            .request(reqwest::Method::GET, "/backup/fetch?uid=1&limit=1&offset=0")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf),
    );
    assert_eq!(with_csrf.status, 200, "{}", with_csrf.body);
    let wrong_csrf = cookie_only.send_raw(
        cookie_only
            .request(reqwest::Method::GET, "/backup/fetch?uid=1&limit=1&offset=0")
            .header("cookie", &cookie)
            .header("x-csrf-token", kinesis_backup::auth::csrf_token(&secret, &expired)),
    );
    assert_eq!(wrong_csrf.status, 401, "{}", wrong_csrf.body);
}

#[test]
fn user_creation_rules_and_the_data_api_for_every_role() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();
    let create = |client: &Client, uid: u64, username: &str, password: &str, role: &str| {
        client.post(
            "/user/create",
            &json!({"uid": uid, "user": {"username": username, "password": password, "role": role}}),
        )
    };
    let viewer = create(&root, 1, "vera", "long enough", "VIEWER");
    assert_eq!(viewer.status, 200, "{}", viewer.body);
    let viewer_id = viewer.body["user"]["id"].as_u64().unwrap();
    for (username, password, role, needle) in [
        ("vera", "long enough", "VIEWER", "taken"),
        ("short", "1234567", "VIEWER", "at least 8"),
        ("odd", "long enough", "EMPEROR", "unknown role"),
        ("", "long enough", "ADMIN", "username"),
    ] {
        let answer = create(&root, 1, username, password, role);
        assert_eq!(answer.status, 400, "{username}: {}", answer.body);
        assert!(answer.body["message"].as_str().unwrap().contains(needle), "{}", answer.body);
    }
    let extra = root.post(
        "/user/create",
        &json!({"uid": 1, "user": {"username": "x", "password": "long enough", "role": "ADMIN", "admin": true}}),
    );
    assert_eq!(extra.status, 400, "{}", extra.body);

    let vera = server.sign_in("vera", "long enough");
    assert_eq!(create(&vera, viewer_id, "mallory", "long enough", "ROOT").status, 403);
    assert_eq!(
        server.anonymous().post("/user/login", &json!({"auth_data": "mallory", "password": "long enough"})).status,
        401
    );

    // Any signed-in user may use the data API with their own uid.
    assert_eq!(vera.put_record(viewer_id, "notes", "k", json!([1, 2])).status, 200);
    assert_eq!(vera.records(viewer_id, "notes"), [("k".to_owned(), json!([1, 2]))]);
    assert_eq!(vera.put_record(1, "notes", "k", json!(0)).status, 403);
    assert_eq!(server.anonymous().put_record(viewer_id, "notes", "k", json!(0)).status, 401);
    assert_eq!(vera.get("/data/fetch?uid=1&collection=notes").status, 403);
    assert_eq!(vera.delete(&format!("/data/delete?uid={viewer_id}&collection=notes&key=k")).status, 200);
    assert!(root.records(1, "notes").is_empty());
}
