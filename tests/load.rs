//! Mixed load on one server over loopback: 8 clients for
//! `KINESIS_LOAD_SECONDS` (default 20) writing records, listing, creating,
//! updating, verifying, deleting and restoring backups and changing
//! schedules at once. No answer may be a 5xx (409 for a second backup or
//! restore and 404 for a backup another client deleted are fine), and
//! afterwards every listed backup verifies.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Rng;
use support::http::{Client, Server};

/// What the clients saw: answers by status, and the 5xx ones in full.
#[derive(Default)]
struct Tally {
    by_status: Mutex<std::collections::BTreeMap<u16, u64>>,
    failures: Mutex<Vec<String>>,
    requests: AtomicU64,
}

impl Tally {
    fn note(&self, what: &str, status: u16, body: &Value, allowed: &[u16]) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self.by_status.lock().unwrap().entry(status).or_default() += 1;
        if !allowed.contains(&status) {
            self.failures.lock().unwrap().push(format!("{what}: {status} {body}"));
        }
    }
}

fn some_backup(client: &Client, rng: &mut Rng) -> Option<u64> {
    let page = client.get("/backup/fetch?uid=1&limit=50&offset=0");
    let backups = page.body["backups"].as_array()?;
    if backups.is_empty() {
        return None;
    }
    backups[(rng.next_u64() % backups.len() as u64) as usize]["id"].as_u64()
}

fn client_loop(kind: usize, client: Client, tally: Arc<Tally>, until: Instant) {
    let mut rng = Rng::new(kind as u64 + 1);
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        match kind {
            0 | 1 => {
                let answer = client.post(
                    "/data/create",
                    &json!({"uid": 1, "collection": "load", "key": format!("{kind}-{n}"), "value": n}),
                );
                tally.note("data/create", answer.status, &answer.body, &[200]);
            }
            2 => {
                let answer = client.get("/backup/fetch?uid=1&limit=20&offset=0&filter=load");
                tally.note("backup/fetch", answer.status, &answer.body, &[200]);
            }
            3 => {
                let answer =
                    client.post("/backup/create", &json!({"uid": 1, "backup": {"description": format!("load {n}")}}));
                tally.note("backup/create", answer.status, &answer.body, &[200, 409]);
            }
            4 => {
                if let Some(id) = some_backup(&client, &mut rng) {
                    let answer = client.patch(
                        "/backup/update/description",
                        &json!({"uid": 1, "id": id, "description": format!("load edited {n}")}),
                    );
                    tally.note("backup/update", answer.status, &answer.body, &[200, 404]);
                    let answer = client.get(&format!("/backup/verify?uid=1&id={id}"));
                    tally.note("backup/verify", answer.status, &answer.body, &[200, 404]);
                }
            }
            5 => {
                let page = client.get("/backup/fetch?uid=1&limit=50&offset=0");
                tally.note("backup/fetch", page.status, &page.body, &[200]);
                if page.body["amount"].as_u64().unwrap_or(0) > 4
                    && let Some(id) = some_backup(&client, &mut rng)
                {
                    let answer = client.delete(&format!("/backup/delete?uid=1&id={id}"));
                    tally.note("backup/delete", answer.status, &answer.body, &[200, 404]);
                }
            }
            6 => {
                if let Some(id) = some_backup(&client, &mut rng) {
                    let answer = client.get(&format!("/backup/restore?uid=1&id={id}"));
                    tally.note("backup/restore", answer.status, &answer.body, &[200, 404, 409]);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            _ => {
                let made = client.post(
                    "/backup/schedule/create",
                    &json!({"uid": 1, "schedule": {"name": format!("load {n}"), "cron": "0 3 * * *", "enabled": true}}),
                );
                tally.note("schedule/create", made.status, &made.body, &[200]);
                if let Some(id) = made.body["schedule"]["id"].as_u64() {
                    let answer = client.delete(&format!("/backup/schedule/delete?uid=1&id={id}"));
                    tally.note("schedule/delete", answer.status, &answer.body, &[200]);
                }
                let answer = client.get("/backup/schedule/fetch?uid=1&limit=10&offset=0");
                tally.note("schedule/fetch", answer.status, &answer.body, &[200]);
            }
        }
    }
}

#[test]
fn eight_clients_of_mixed_work_get_no_5xx_and_every_backup_verifies() {
    let seconds = std::env::var("KINESIS_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let tenant = support::Tenant::new();
    support::generate_tree(&tenant.dirs.public, 7, true).expect("the generated tree");
    let server = Server::start(tenant.root());
    let root = server.root_client();
    assert_eq!(root.post("/backup/create", &json!({"uid": 1, "backup": {"description": "load seed"}})).status, 200);

    let tally = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..8)
        .map(|kind| {
            let client = root.with_token(root.token.as_deref());
            let tally = tally.clone();
            std::thread::spawn(move || client_loop(kind, client, tally, until))
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let by_status = tally.by_status.lock().unwrap().clone();
    eprintln!("{} requests in {seconds} s by status: {by_status:?}", tally.requests.load(Ordering::Relaxed));
    let failures = tally.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} unexpected answers, the first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    let page = root.get("/backup/fetch?uid=1&limit=1000&offset=0");
    let backups = page.body["backups"].as_array().unwrap();
    assert!(!backups.is_empty());
    for backup in backups {
        let id = backup["id"].as_u64().unwrap();
        let verified = root.get(&format!("/backup/verify?uid=1&id={id}"));
        assert_eq!(verified.body["verify"]["ok"], true, "backup {id}: {}", verified.body);
    }
}
