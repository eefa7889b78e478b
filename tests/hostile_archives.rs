//! Hostile and damaged archives are refused by `restore` and change nothing.
//!
//! Each case starts from a real archive made by the plugin, re-packs it with
//! one thing wrong (written by hand with the tar and flate2 crates, under a
//! valid archive name so that the catalog adopts it), restores it, and
//! checks that the answer is `CorruptArchive` and that the tenant's files
//! are exactly as before. A control case re-packs without changes and must
//! restore, so the re-packing itself is not what gets refused.
//!
//! The archive is read as GNU tar reads it (every gzip member), and the
//! manifest is edited as JSON whose `files` list each file's `path`, `size`
//! and digest, under whichever name the plugin's manifest uses
//! (`sha256` or `blake3`).

mod support;

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use kinesis_backup_core::runtime::CallError;
use serde_json::Value;
use sha2::Digest;
use support::{Tenant, assert_same_tree, runtime};
use tar::{EntryType, Header};

/// Where the archive format keeps the manifest.
const MANIFEST: &str = "manifest.json";

/// One archive entry, with its raw path.
#[derive(Debug, Clone)]
struct Item {
    path: String,
    kind: EntryType,
    link: Option<String>,
    data: Vec<u8>,
}

impl Item {
    fn file(path: &str, data: &[u8]) -> Item {
        Item { path: path.to_string(), kind: EntryType::Regular, link: None, data: data.to_vec() }
    }

    fn link(path: &str, kind: EntryType, target: &str) -> Item {
        Item { path: path.to_string(), kind, link: Some(target.to_string()), data: Vec::new() }
    }
}

/// The entries of a tar.gz file.
fn read_items(archive: &Path) -> Vec<Item> {
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(MultiGzDecoder::new(file));
    tar.entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            let kind = entry.header().entry_type();
            let link = entry.link_name_bytes().map(|l| String::from_utf8(l.into_owned()).unwrap());
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            Item { path, kind, link, data }
        })
        .collect()
}

/// A GNU tar header for `item`; the path is written raw (no checks), so
/// `..` and absolute paths get through as they would in a forged archive.
fn raw_header(item: &Item) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(item.kind);
    header.set_size(item.data.len() as u64);
    header.set_mode(if item.kind == EntryType::Directory { 0o755 } else { 0o644 });
    header.set_mtime(1_700_000_000);
    let gnu = header.as_gnu_mut().unwrap();
    assert!(item.path.len() < gnu.name.len(), "raw names are short: {}", item.path);
    gnu.name[..item.path.len()].copy_from_slice(item.path.as_bytes());
    if let Some(link) = &item.link {
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_cksum();
    header
}

/// Packs `items` as a gzip'd tar (long names through the crate, short ones
/// raw).
fn pack(items: &[Item]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for item in items {
        if item.path.len() < 100 {
            tar.append(&raw_header(item), item.data.as_slice()).unwrap();
        } else {
            let mut header = raw_header(&Item { path: String::new(), ..item.clone() });
            tar.append_data(&mut header, &item.path, item.data.as_slice()).unwrap();
        }
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// The manifest of `items` as JSON.
fn manifest(items: &[Item]) -> Value {
    let item = items.iter().find(|i| i.path == MANIFEST).expect("the archive has a manifest");
    serde_json::from_slice(&item.data).unwrap()
}

/// Replaces the manifest of `items`.
fn set_manifest(items: &mut [Item], manifest: &Value) {
    let item = items.iter_mut().find(|i| i.path == MANIFEST).unwrap();
    item.data = serde_json::to_vec_pretty(manifest).unwrap();
}

/// The digest field the manifest's files use, and its value for `data`.
fn digest_of(manifest: &Value, data: &[u8]) -> (&'static str, String) {
    let first = &manifest["files"][0];
    if first.get("blake3").is_some() {
        ("blake3", blake3::hash(data).to_hex().to_string())
    } else {
        ("sha256", hex::encode(sha2::Sha256::digest(data)))
    }
}

/// Adds `item` before the manifest, listed in it with its true size and
/// digest (so only the path or kind is wrong).
fn add_listed(items: &mut Vec<Item>, item: Item) {
    let mut m = manifest(items);
    let (field, digest) = digest_of(&m, &item.data);
    m["files"].as_array_mut().unwrap().push(serde_json::json!({
        "path": item.path,
        "size": item.data.len(),
        field: digest,
    }));
    set_manifest(items, &m);
    let at = items.len() - 1;
    items.insert(at, item);
}

/// A tenant with files, and the bytes and entries of a real archive of
/// them. The backup itself is deleted again, so that a forged archive can
/// take its name and id and be adopted with a manifest that belongs to it.
struct Forgery {
    tenant: Tenant,
    name: String,
    id: u64,
    bytes: Vec<u8>,
    items: Vec<Item>,
}

fn forgery(seed: u64) -> Forgery {
    let tenant = Tenant::new();
    tenant.fill(seed);
    let backup = runtime().create(&tenant.invocation(), "the real one", None).unwrap();
    let path = tenant.dirs.backups.join(&backup.name);
    let items = read_items(&path);
    assert_eq!(items.last().map(|i| i.path.as_str()), Some(MANIFEST), "the manifest is the last entry");
    let bytes = std::fs::read(&path).unwrap();
    runtime().delete(&tenant.invocation(), backup.id).unwrap();
    Forgery { tenant, name: backup.name, id: backup.id, bytes, items }
}

impl Forgery {
    /// Drops `bytes` into backups/ under the real archive's name, restores
    /// it, and when refused checks that nothing changed, inside the tenant
    /// or beside it.
    fn restore(&self, bytes: &[u8]) -> Result<(), CallError> {
        let tenant = &self.tenant;
        std::fs::write(tenant.dirs.backups.join(&self.name), bytes).unwrap();
        let before = tenant.snapshot();
        let outside = tenant.root().parent().unwrap();
        let outside_before = support::snapshot_tree(outside);
        let outcome = runtime().restore(&tenant.invocation(), self.id).map(|_| ());
        if outcome.is_err() {
            assert_same_tree(&before, &tenant.snapshot());
            let outside_after = support::snapshot_tree(outside);
            let new: Vec<&String> = outside_after.keys().filter(|k| !outside_before.contains_key(*k)).collect();
            assert!(new.is_empty(), "a refused restore created {new:?}");
        }
        outcome
    }
}

fn assert_corrupt(outcome: Result<(), CallError>, case: &str) {
    match outcome {
        Err(CallError::CorruptArchive(message)) => assert!(!message.is_empty(), "{case}"),
        other => panic!("{case}: expected a corrupt-archive refusal, got {other:?}"),
    }
}

fn refuse_repacked(seed: u64, case: &str, change: impl FnOnce(&mut Vec<Item>)) {
    let mut forged = forgery(seed);
    change(&mut forged.items);
    assert_corrupt(forged.restore(&pack(&forged.items)), case);
}

#[test]
fn an_unchanged_repacked_archive_restores() {
    let forged = forgery(10);
    let expected = forged.tenant.snapshot();
    std::fs::write(forged.tenant.dirs.data.join("added.txt"), b"added after the backup").unwrap();
    forged.restore(&pack(&forged.items)).expect("the control archive restores");
    assert_same_tree(&expected, &forged.tenant.snapshot());
}

#[test]
fn a_parent_dir_entry_is_refused() {
    refuse_repacked(11, "../ entry", |items| add_listed(items, Item::file("data/../../escape.txt", b"escaped")));
}

#[test]
fn an_absolute_path_is_refused() {
    let target = format!("/tmp/kinesis-hostile-{}.txt", std::process::id());
    refuse_repacked(12, "absolute path", |items| add_listed(items, Item::file(&target, b"escaped")));
    assert!(!Path::new(&target).exists());
}

#[test]
fn a_symlink_is_refused() {
    refuse_repacked(13, "symlink", |items| {
        let at = items.len() - 1;
        items.insert(at, Item::link("data/passwd", EntryType::Symlink, "/etc/passwd"));
    });
}

#[test]
fn a_hardlink_is_refused() {
    refuse_repacked(14, "hardlink", |items| {
        let at = items.len() - 1;
        items.insert(at, Item::link("data/hard", EntryType::Link, "data/nested/deeper/notes.md"));
    });
}

#[test]
fn a_manifest_that_lies_about_a_checksum_is_refused() {
    refuse_repacked(15, "lying manifest", |items| {
        let mut m = manifest(items);
        let (field, _) = digest_of(&m, b"");
        let file =
            m["files"].as_array_mut().unwrap().iter_mut().find(|f| f["path"] == "data/nested/deeper/notes.md").unwrap();
        file[field] = Value::from("0".repeat(64));
        set_manifest(items, &m);
    });
}

#[test]
fn a_file_missing_from_the_manifest_is_refused() {
    refuse_repacked(16, "unlisted file", |items| {
        let mut m = manifest(items);
        m["files"].as_array_mut().unwrap().retain(|f| f["path"] != "data/nested/deeper/notes.md");
        set_manifest(items, &m);
    });
}

#[test]
fn an_archive_without_a_manifest_is_refused() {
    refuse_repacked(17, "no manifest", |items| items.retain(|i| i.path != MANIFEST));
}

#[test]
fn a_truncated_gzip_is_refused() {
    let forged = forgery(18);
    assert_corrupt(forged.restore(&forged.bytes[..forged.bytes.len() * 6 / 10]), "truncated gzip");
}

#[test]
fn trailing_garbage_after_the_gzip_member_is_refused() {
    let forged = forgery(19);
    let mut bytes = forged.bytes.clone();
    bytes.write_all(b"this is not part of any gzip member").unwrap();
    assert_corrupt(forged.restore(&bytes), "trailing garbage");
}

#[test]
fn a_flipped_byte_in_a_real_archive_is_refused() {
    let tenant = Tenant::new();
    tenant.fill(20);
    let inv = tenant.invocation();
    let backup = runtime().create(&inv, "", None).unwrap();
    support::flip_middle_byte(&tenant.dirs.backups.join(&backup.name));
    let before = tenant.snapshot();
    std::fs::write(tenant.dirs.data.join("new.txt"), b"made after the backup").unwrap();
    let before_with_new = tenant.snapshot();
    assert_ne!(before, before_with_new);
    let err = runtime().restore(&inv, backup.id).unwrap_err();
    assert!(matches!(err, CallError::CorruptArchive(_)), "{err:?}");
    assert_same_tree(&before_with_new, &tenant.snapshot());
}
