//! Backups and restores while the server runs: writes go on during a large
//! backup, which still holds a consistent database; a second backup or a
//! restore meanwhile gets 409; a restore whose database cannot be opened is
//! rolled back and the current data keeps being served.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use kinesis_backup::db::Db;
use serde_json::{Value, json};
use support::http::{Server, command};

/// About `mib` MiB of incompressible files in `dir`.
fn write_large_files(dir: &std::path::Path, mib: usize) {
    let block = support::Rng::new(7).bytes(1024 * 1024);
    for file in 0..mib / 10 {
        let mut bytes = Vec::with_capacity(10 * block.len());
        for part in 0..10u8 {
            // Each MiB differs, so gzip cannot shrink repeats.
            bytes.extend(block.iter().map(|b| b ^ part.wrapping_mul(31).wrapping_add(file as u8)));
        }
        std::fs::write(dir.join(format!("large-{file:02}.bin")), bytes).unwrap();
    }
}

/// Polls the server log until it contains `needle`.
fn wait_for_log(server: &Server, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = server.log_text();
        if let Some(line) = log.lines().find(|line| line.contains(needle)) {
            return line.to_owned();
        }
        assert!(Instant::now() < deadline, "the log never said {needle:?}:\n{log}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The record keys of each of `collections` in the database inside archive `path`.
fn records_in_archive(path: &std::path::Path, collections: &[&str]) -> Vec<Vec<String>> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let out = tempfile::tempdir().unwrap();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name == format!("data/{}", kinesis_backup::db::DB_FILE) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            std::fs::write(out.path().join(kinesis_backup::db::DB_FILE), bytes).unwrap();
        }
    }
    let db = Db::open_existing(out.path()).expect("the archive's database opens");
    collections.iter().map(|c| db.records(c).unwrap().into_iter().map(|r| r.key).collect()).collect()
}

#[test]
fn writes_go_on_during_a_large_backup_which_holds_a_consistent_database() {
    let tenant = support::Tenant::new();
    write_large_files(&tenant.dirs.data, 200);
    let server = Server::start(tenant.root());
    let root = server.root_client();
    for i in 0..20 {
        assert_eq!(root.put_record(1, "before", &format!("k{i:02}"), json!(i)).status, 200);
    }

    let started = Instant::now();
    let creator = root.with_token(root.token.as_deref());
    let backup = std::thread::spawn(move || {
        creator.post("/backup/create", &json!({"uid": 1, "backup": {"description": "big"}}))
    });
    let pause_line = wait_for_log(&server, "database writes paused for");

    // While the plugin compresses: one backup or restore at a time.
    let second = root.post("/backup/create", &json!({"uid": 1, "backup": {}}));
    assert_eq!(second.status, 409, "{}", second.body);
    assert!(second.body["message"].as_str().unwrap().contains("already running"));
    assert_eq!(root.get("/backup/restore?uid=1&id=1").status, 409);
    // ...and writes succeed without waiting for it.
    let mut writes = 0;
    let mut slowest = Duration::ZERO;
    while !backup.is_finished() {
        let sent = Instant::now();
        let answer = root.put_record(1, "during", &format!("k{writes:04}"), json!(writes));
        slowest = slowest.max(sent.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.body);
        writes += 1;
    }
    let created = backup.join().unwrap();
    let create_time = started.elapsed();
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(writes >= 3, "the backup finished before writes could be tried ({writes} writes)");
    assert!(slowest < Duration::from_secs(2), "a write waited {slowest:?} during the backup");
    eprintln!(
        "200 MiB backup: {pause_line:?}; create took {create_time:?}; {writes} writes during it, slowest {slowest:?}; archive {} bytes",
        created.body["backup"]["size"]
    );

    // The archive's database is the one from the moment of the snapshot.
    let archive = tenant.dirs.backups.join(created.body["backup"]["name"].as_str().unwrap());
    let before: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
    let [in_before, in_during] =
        <[Vec<String>; 2]>::try_from(records_in_archive(&archive, &["before", "during"])).unwrap();
    assert_eq!(in_before, before);
    assert!(in_during.is_empty(), "writes made after the snapshot are in the backup");
    assert_eq!(root.records(1, "during").len(), writes);
    assert!(!tenant.root().join(".kinesis").read_dir().unwrap().any(|e| e.is_ok()), "a snapshot was left behind");
}

#[test]
fn a_restore_whose_database_cannot_be_opened_changes_nothing() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let root = server.root_client();
    assert_eq!(root.put_record(1, "notes", "keep", json!("me")).status, 200);
    std::fs::write(tenant.dirs.public.join("site.css"), "body{}").unwrap();
    std::fs::write(tenant.dirs.translations.join("en.json"), "{}").unwrap();
    let env_before = std::fs::read(&tenant.dirs.env_file).unwrap();
    let public_before = support::snapshot_tree(&tenant.dirs.public);
    let translations_before = support::snapshot_tree(&tenant.dirs.translations);

    // A valid archive (made by the plugin, with its manifest) of a tenant
    // whose database file is garbage, dropped into backups/ under its name.
    let other = support::Tenant::new();
    std::fs::write(other.dirs.data.join(kinesis_backup::db::DB_FILE), support::Rng::new(3).bytes(64 * 1024)).unwrap();
    std::fs::write(&other.dirs.env_file, "KINESIS_TOKEN_SECRET=b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWNyZXQ=\n")
        .unwrap();
    std::fs::write(other.dirs.public.join("hello.txt"), "from the broken backup").unwrap();
    let made = command(other.root()).args(["--json", "backup", "create"]).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    let name = made["backup"]["name"].as_str().expect("the CLI's backup name").to_owned();
    // The server's tenant has no backups, so the archive's id is free there.
    std::fs::copy(other.dirs.backups.join(&name), tenant.dirs.backups.join(&name)).unwrap();
    let found = root.get(&format!("/backup/fetch?uid=1&limit=10&offset=0&filter={name}"));
    assert_eq!(found.body["amount"], 1, "the catalog did not adopt the archive: {}", found.body);
    let id = found.body["backups"][0]["id"].as_u64().unwrap();

    let restored = root.get(&format!("/backup/restore?uid=1&id={id}"));
    assert_eq!(restored.status, 422, "{}", restored.body);
    let message = restored.body["message"].as_str().unwrap();
    assert!(message.contains("nothing was changed") && message.contains("database cannot be used"), "{message}");

    // The current data still serves, sign-in still works, writes go on.
    assert_eq!(root.records(1, "notes"), [("keep".to_owned(), json!("me"))]);
    assert_eq!(std::fs::read(&tenant.dirs.env_file).unwrap(), env_before);
    support::assert_same_tree(&public_before, &support::snapshot_tree(&tenant.dirs.public));
    support::assert_same_tree(&translations_before, &support::snapshot_tree(&tenant.dirs.translations));
    let again = server.root_client();
    assert_eq!(again.put_record(1, "notes", "after", json!(1)).status, 200);
    assert!(!tenant.root().join(".kinesis/restore").exists(), "the restore staging area was left behind");
}
