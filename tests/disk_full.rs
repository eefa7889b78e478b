//! A full disk, on a small tmpfs this test mounts (it runs as root, as the
//! test command and CI do): a create whose archive does not fit, a snapshot
//! that does not fit, and a restore larger than the free space are refused
//! with "no space left on the device", nothing partial is left, and the
//! server keeps serving.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::Rng;

/// A tmpfs of `mib` MiB, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(mib: u32) -> SmallDisk {
        let path = std::env::temp_dir().join(format!("kinesis-small-disk-{}-{mib}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs failed: the disk-full tests need root, as tests/run.sh has");
        SmallDisk { path }
    }

    fn tenant(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn kb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinesis-backup"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("XDG_CACHE_HOME", support::test_cache_dir().join("xdg"))
        .output()
        .expect("the binary runs")
}

fn json(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = kb(root, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails_for_space(root: &Path, args: &[&str]) -> String {
    let out = kb(root, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains("no space left on the device holding"), "{args:?}: {err}");
    err
}

/// Entries of `dir` and of the tenant's `.kinesis`, as names.
fn leftovers(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "catalog.json" && n != "ids.json" && !n.starts_with("backup-"))
        .collect();
    if let Ok(work) = std::fs::read_dir(root.join(".kinesis")) {
        names.extend(work.flatten().map(|e| format!(".kinesis/{}", e.file_name().to_string_lossy())));
    }
    names
}

fn write_random(path: &Path, bytes: usize, seed: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, Rng::new(seed).bytes(bytes)).unwrap();
}

#[test]
fn a_full_disk_is_reported_as_such_and_leaves_nothing_behind() {
    let disk = SmallDisk::mount(12);
    let root = disk.tenant("tenant");
    json(&root, &["backup", "list"]);

    // The snapshot of data/ does not fit.
    write_random(&root.join("data/big.bin"), 7 << 20, 1);
    let err = fails_for_space(&root, &["backup", "create"]);
    assert!(err.contains("a snapshot of data/"), "{err}");
    assert_eq!(leftovers(&root), Vec::<String>::new());

    // The snapshot fits, the archive does not.
    std::fs::remove_file(root.join("data/big.bin")).unwrap();
    write_random(&root.join("data/big.bin"), 4 << 20, 2);
    write_random(&root.join("public/big.bin"), 3 << 20, 3);
    fails_for_space(&root, &["backup", "create"]);
    assert_eq!(leftovers(&root), Vec::<String>::new());
    assert_eq!(json(&root, &["backup", "list"])["amount"], 0, "a backup that did not fit was listed");

    // A backup that fits, then a restore larger than what is free.
    std::fs::remove_file(root.join("public/big.bin")).unwrap();
    std::fs::remove_file(root.join("data/big.bin")).unwrap();
    write_random(&root.join("data/big.bin"), 3 << 20, 4);
    let id = json(&root, &["backup", "create"])["backup"]["id"].as_u64().unwrap();
    write_random(&root.join("public/filler.bin"), 5 << 20, 5);
    let before = support::snapshot_tree(&root.join("data"));
    let err = fails_for_space(&root, &["backup", "restore", &id.to_string()]);
    assert!(err.contains("need about 3.0 MiB"), "{err}");
    assert_eq!(support::snapshot_tree(&root.join("data")), before);
    assert_eq!(leftovers(&root), Vec::<String>::new());
}

#[test]
fn the_server_answers_507_for_a_full_disk_and_keeps_serving() {
    let disk = SmallDisk::mount(10);
    let root = disk.tenant("served");
    let server = support::http::Server::start(&root);
    let client = server.root_client();
    write_random(&root.join("public/big.bin"), 6 << 20, 6);
    let answer = client.post("/backup/create", &json!({"uid": 1, "backup": {}}));
    assert_eq!(answer.status, 507, "{}", answer.body);
    assert!(answer.body["message"].as_str().unwrap().contains("no space left on the device"), "{}", answer.body);
    assert_eq!(client.get("/backup/fetch?uid=1&limit=10&offset=0").status, 200);
    assert_eq!(client.put_record(1, "notes", "still", json!("writable")).status, 200);
    std::fs::remove_file(root.join("public/big.bin")).unwrap();
    let made = client.post("/backup/create", &json!({"uid": 1, "backup": {}}));
    assert_eq!(made.status, 200, "once space is free again: {}", made.body);
}
