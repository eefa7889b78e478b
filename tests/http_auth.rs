//! Who may do what over HTTP: the whole auth matrix on every backup and
//! schedule endpoint (no token, bad token, expired token, another user's
//! uid, each non-ROOT role), the web session cookie with and without its
//! CSRF header, user creation rules, and the data API for every role.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use base64::Engine;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use support::http::{Client, Server};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

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
        (Method::GET, "/backup/activity?uid={uid}", None),
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
    let mut browser = server.browser_from(LOCALHOST);
    assert_eq!(browser.sign_in("root", support::http::ROOT_PASSWORD).status, 303);
    let csrf = browser.get("/web/backups").csrf();
    let fetch = "/backup/fetch?uid=1&limit=1&offset=0";
    assert_eq!(browser.get(fetch).status, 401, "the cookie without its CSRF header");
    assert_eq!(browser.api_get(fetch, &csrf).status, 200);
    let other_csrf = kinesis_backup::auth::csrf_token(&secret, "another-session");
    assert_eq!(browser.api_get(fetch, &other_csrf).status, 401, "another session's CSRF token");
    // A bearer token is no session id: in the cookie it opens nothing.
    let token = root.token.clone().unwrap();
    browser.set_cookie("kinesis_session", &token);
    let token_csrf = kinesis_backup::auth::csrf_token(&secret, &token);
    assert_eq!(browser.api_get(fetch, &token_csrf).status, 401);
    assert_eq!(browser.get("/web/backups").location(), Some("/web/login"));
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

/// A sign-in from `client`; the answer and its `Retry-After` in seconds.
fn login_from(client: &Client, username: &str, password: &str) -> (support::http::Answer, Option<u64>) {
    let request = client
        .request(reqwest::Method::POST, "/user/login")
        .header("content-type", "application/json")
        .body(json!({"auth_data": username, "password": password}).to_string());
    let (answer, headers) = client.send_with_headers(request);
    let retry_after = headers.get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    (answer, retry_after)
}

#[test]
fn sign_in_throttle_engages_per_account_and_address_and_releases() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let attacker = server.anonymous_from(LOCALHOST);
    let owner = server.anonymous_from("127.0.0.2".parse().unwrap());
    let sprayer = server.anonymous_from("127.0.0.3".parse().unwrap());
    let password = support::http::ROOT_PASSWORD;

    // Wrong passwords for root from one address: a few plain 401s, then 429.
    let mut statuses = Vec::new();
    let (locked, retry_after) = loop {
        let (answer, retry_after) = login_from(&attacker, "root", "not the password");
        statuses.push(answer.status);
        if answer.status == 429 {
            break (answer, retry_after.expect("a 429 carries Retry-After"));
        }
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert!(statuses.len() < 30, "30 wrong passwords and no throttle: {statuses:?}");
    };
    let locked_at = Instant::now();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    assert!(locked.body["message"].as_str().unwrap().contains("too many failed sign-ins"), "{}", locked.body);
    // While locked, even the right password is not checked from there, nor on the web form.
    assert_eq!(login_from(&attacker, "root", password).0.status, 429);
    let mut attacker_browser = server.browser_from(LOCALHOST);
    let page = attacker_browser.sign_in("root", password);
    assert_eq!(page.status, 429);
    assert!(page.headers.get("retry-after").is_some());
    assert!(page.text.contains("Too many failed sign-ins"), "{}", page.text);
    assert!(attacker_browser.cookie("kinesis_session").is_none());

    // The owner, at another address, signs in meanwhile: over the API and on the web.
    assert_eq!(login_from(&owner, "root", password).0.status, 200);
    let mut owner_browser = server.browser_from("127.0.0.2".parse().unwrap());
    assert_eq!(owner_browser.sign_in("root", password).location(), Some("/web/backups"));
    assert_eq!(owner_browser.get("/web/backups").status, 200);

    // One address trying many accounts is throttled as a whole.
    let mut sprayed = 0;
    let blocked = loop {
        let (answer, _) = login_from(&sprayer, &format!("guess{sprayed}"), "not the password");
        if answer.status == 429 {
            break sprayed;
        }
        assert_eq!(answer.status, 401, "{}", answer.body);
        sprayed += 1;
        assert!(sprayed < 100, "100 accounts tried from one address and no throttle");
    };
    assert_eq!(blocked, 20, "the address may fail 20 times");
    assert_eq!(login_from(&sprayer, "root", password).0.status, 429);
    assert_eq!(login_from(&owner, "root", password).0.status, 200, "other addresses are not affected");

    // After the wait, the right password works again from the locked address.
    let wait = std::time::Duration::from_secs(retry_after).saturating_sub(locked_at.elapsed());
    std::thread::sleep(wait + std::time::Duration::from_millis(200));
    assert_eq!(login_from(&attacker, "root", password).0.status, 200);
    let log = server.log_text();
    assert!(log.contains("sign-in locked for this account at this address"), "{log}");
    assert!(log.contains("sign-in locked for this address"), "{log}");
}

#[test]
fn sign_out_a_deleted_user_and_a_new_password_end_web_sessions() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();
    let password = support::http::ROOT_PASSWORD;
    let fetch = "/backup/fetch?uid=1&limit=10&offset=0";

    // Sign-out ends the session on the server: its cookie, kept, opens nothing.
    let mut browser = server.browser_from(LOCALHOST);
    let mut elsewhere = server.browser_from(LOCALHOST);
    assert_eq!(browser.sign_in("root", password).location(), Some("/web/backups"));
    assert_eq!(elsewhere.sign_in("root", password).status, 303);
    let page = browser.get("/web/backups");
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["cache-control"], "no-store", "a page with data is never stored");
    let csrf = page.csrf();
    let listed = browser.api_get(fetch, &csrf);
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.headers["cache-control"], "no-store", "an API answer with data is never stored");
    let old_cookie = browser.cookie("kinesis_session").expect("a session cookie");
    let signed_out = browser.post_form("/web/logout", &[("csrf", &csrf)]);
    assert_eq!(signed_out.location(), Some("/web/login"));
    assert!(browser.cookie("kinesis_session").is_none(), "the cookie is cleared");
    browser.set_cookie("kinesis_session", &old_cookie);
    assert_eq!(browser.get("/web/backups").location(), Some("/web/login"), "the old cookie after sign-out");
    assert_eq!(browser.api_get(fetch, &csrf).status, 401);
    assert_eq!(elsewhere.get("/web/backups").status, 200, "signing out ends that session only");

    // A user deleted (here: by restoring a backup made before they existed)
    // loses every session at once.
    let before_ann = root.create_backup("before ann")["id"].as_u64().unwrap();
    let ann = |pw: &str| json!({"uid": 1, "user": {"username": "ann", "password": pw, "role": "ROOT"}});
    let created = root.post("/user/create", &ann("first password"));
    assert_eq!(created.status, 200, "{}", created.body);
    let ann_id = created.body["user"]["id"].as_u64().unwrap();
    let mut first = server.browser_from(LOCALHOST);
    let mut second = server.browser_from(LOCALHOST);
    assert_eq!(first.sign_in("ann", "first password").status, 303);
    assert_eq!(second.sign_in("ann", "first password").status, 303);
    let second_csrf = second.get("/web/backups").csrf();
    assert_eq!(first.get("/web/backups").status, 200);
    let restored = root.get(&format!("/backup/restore?uid=1&id={before_ann}"));
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(first.get("/web/backups").location(), Some("/web/login"), "ann is gone");

    // The same user made again with a new password (same id, same name):
    // the sessions of the old password stay ended.
    let again = root.post("/user/create", &ann("second password"));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["user"]["id"].as_u64(), Some(ann_id), "the id is used again");
    assert_eq!(second.get("/web/backups").location(), Some("/web/login"), "a new password ends the session");
    assert_eq!(second.api_get(&format!("/backup/fetch?uid={ann_id}&limit=1&offset=0"), &second_csrf).status, 401);
    let mut fresh = server.browser_from(LOCALHOST);
    assert_eq!(fresh.sign_in("ann", "second password").status, 303);
    assert_eq!(fresh.get("/web/backups").status, 200);
    assert_eq!(elsewhere.get("/web/backups").status, 200, "root's session outlives the restore");
}
