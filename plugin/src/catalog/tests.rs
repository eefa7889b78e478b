//! The catalog's storage: torn journal lines, compaction, the format-1
//! migration, the folder note, adoption and the id high-water mark.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::backups;
use crate::records::{ExpiryChange, ScheduleInput};
use crate::schedule;
use crate::tests::{Fixture, START};

fn catalog_path(fx: &Fixture, name: &str) -> PathBuf {
    fx.roots.backups.join(CATALOG_DIR).join(name)
}

fn generation(fx: &Fixture) -> u64 {
    match Snapshot::open(&fx.roots.backups.join(CATALOG_DIR)).unwrap().unwrap() {
        Opened::Current(snapshot) => snapshot.header.generation,
        Opened::Format2(_) => panic!("a format-2 snapshot"),
    }
}

fn descriptions(fx: &Fixture) -> Vec<(u64, String)> {
    let page = backups::list(fx.ctx(), None, MAX_PAGE, 0).unwrap();
    page.backups.into_iter().map(|b| (b.id, b.description)).collect()
}

#[test]
fn a_torn_last_journal_line_is_ignored_then_cut_off() {
    let fx = Fixture::new();
    let made = backups::create(fx.ctx(), "whole", None).unwrap();
    let journal = catalog_path(&fx, JOURNAL_FILE);
    let whole = fs::read(&journal).unwrap();
    let torn = br#"{"put":{"id":99,"name":"backup-2024"#;
    fs::OpenOptions::new().append(true).open(&journal).unwrap().write_all(torn).unwrap();

    assert_eq!(descriptions(&fx), [(made.id, "whole".to_string())]);
    backups::update(fx.ctx(), made.id, Some("changed"), ExpiryChange::Keep).unwrap();
    let after = fs::read(&journal).unwrap();
    assert!(after.starts_with(&whole) && !after[whole.len()..].starts_with(torn), "the torn line was kept");
    assert!(after.ends_with(b"\n"));
    assert_eq!(descriptions(&fx), [(made.id, "changed".to_string())]);
}

#[test]
fn a_full_journal_is_compacted_into_a_new_snapshot() {
    let fx = Fixture::new();
    let first = backups::create(fx.ctx(), "first", None).unwrap();
    let second = backups::create(fx.ctx(), "second", Some(START + 3600)).unwrap();
    let before = generation(&fx);
    let long = "x".repeat(crate::input::MAX_DESCRIPTION_CHARS);
    let mut updates = 0;
    while generation(&fx) == before {
        backups::update(fx.ctx(), first.id, Some(&long), ExpiryChange::Keep).unwrap();
        updates += 1;
        assert!(updates < 1000, "the journal was never compacted");
    }
    assert!(fs::metadata(catalog_path(&fx, JOURNAL_FILE)).unwrap().len() < 100, "the new journal is not empty");
    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    let expected_first = Backup { description: long, ..first };
    assert_eq!(page.backups, [second, expected_first]);
    // The next ids come from the snapshot now.
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 3);
}

#[test]
fn a_format_1_catalog_is_read_then_migrated_then_removed() {
    let fx = Fixture::new();
    fx.write("data/x", b"x");
    let made = backups::create(fx.ctx(), "", None).unwrap();
    // Turn the tenant into one of the format-1 plugin: catalog.json, ids.json.
    fs::remove_dir_all(fx.roots.backups.join(CATALOG_DIR)).unwrap();
    let schedule = serde_json::json!({"id": 4, "name": "nightly", "cron": "0 3 * * *", "expiry_hours": null,
        "enabled": false, "next_run": null, "last_run": null, "last_error": null});
    let legacy = serde_json::json!({"format": 1, "next_backup_id": 20, "next_schedule_id": 5,
        "backups": [Backup { description: "from format 1".to_string(), ..made.clone() }],
        "schedules": [schedule]});
    fs::write(fx.roots.backups.join(LEGACY_CATALOG_FILE), legacy.to_string()).unwrap();
    fs::write(fx.roots.backups.join(LEGACY_HIGH_WATER_FILE), r#"{"next_backup_id":30,"next_schedule_id":5}"#).unwrap();

    // Reads use it and write nothing.
    assert_eq!(descriptions(&fx), [(made.id, "from format 1".to_string())]);
    assert!(!fx.roots.backups.join(CATALOG_DIR).exists());

    // The first change writes a snapshot and keeps the old files.
    let created = backups::create(fx.ctx(), "new", None).unwrap();
    assert_eq!(created.id, 30, "the format-1 high-water mark was not kept");
    assert!(catalog_path(&fx, SNAPSHOT_FILE).is_file());
    assert!(fx.roots.backups.join(LEGACY_CATALOG_FILE).is_file());
    // The next change removes them.
    backups::update(fx.ctx(), made.id, None, ExpiryChange::Keep).unwrap();
    assert_eq!(fx.backup_files(), [made.name.as_str(), created.name.as_str(), CATALOG_DIR]);
    assert_eq!(descriptions(&fx), [(created.id, "new".to_string()), (made.id, "from format 1".to_string())]);
    let (schedules, total) = schedule::list(fx.ctx(), 10, 0).unwrap();
    assert_eq!((schedules[0].id, schedules[0].name.as_str(), total), (4, "nightly", 1));
    let input = ScheduleInput { name: "next".into(), cron: "0 4 * * *".into(), expiry_hours: None, enabled: true };
    assert_eq!(schedule::create(fx.ctx(), &input).unwrap().id, 5);
}

#[test]
fn the_folder_is_listed_only_when_its_modification_time_moved() {
    let fx = Fixture::new();
    let made = backups::create(fx.ctx(), "", None).unwrap();
    let noted = fs::metadata(&fx.roots.backups).unwrap().modified().unwrap();
    // An archive put in while the folder's time is kept is not seen...
    let copied = "backup-20231224_1830_7.tar.gz";
    fs::copy(fx.roots.backups.join(&made.name), fx.roots.backups.join(copied)).unwrap();
    fs::File::open(&fx.roots.backups).unwrap().set_modified(noted).unwrap();
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 1, "the folder was listed");
    // ...until the folder's time moves.
    let moved = noted - std::time::Duration::from_secs(1);
    fs::File::open(&fx.roots.backups).unwrap().set_modified(moved).unwrap();
    let stored = fx.catalog_files();
    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(page.backups.iter().map(|b| b.id).collect::<Vec<_>>(), [made.id, 7]);
    // A read adopts in memory only; the next change records it and a new
    // folder note, after which reads need no listing again.
    assert_eq!(fx.catalog_files(), stored, "a read wrote");
    let catalog = Catalog::load(fx.ctx()).unwrap();
    assert!(!folder::in_step(catalog.note.as_ref(), &fx.roots.backups));
    backups::update(fx.ctx(), 7, Some("adopted"), ExpiryChange::Keep).unwrap();
    let catalog = Catalog::load(fx.ctx()).unwrap();
    assert!(folder::in_step(catalog.note.as_ref(), &fx.roots.backups));
    assert_eq!(descriptions(&fx), [(made.id, String::new()), (7, "adopted".to_string())]);
}

#[test]
fn an_adopted_archive_is_recorded_by_the_next_change_and_survives_compaction() {
    let fx = Fixture::new();
    let made = backups::create(fx.ctx(), "", None).unwrap();
    let adopted_name = "backup-20231224_1830_9.tar.gz";
    fs::copy(fx.roots.backups.join(&made.name), fx.roots.backups.join(adopted_name)).unwrap();
    let input = ScheduleInput { name: "any".into(), cron: "0 4 * * *".into(), expiry_hours: None, enabled: false };
    schedule::create(fx.ctx(), &input).unwrap();
    let journal = fs::read_to_string(catalog_path(&fx, JOURNAL_FILE)).unwrap();
    assert!(journal.contains(adopted_name), "the adoption was not recorded: {journal}");
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 10);

    let mut catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    let adopted = backups::get(fx.ctx(), 9).unwrap();
    assert_eq!((adopted.name.as_str(), adopted.sha256.as_str()), (adopted_name, made.sha256.as_str()));
}

#[test]
fn the_high_water_mark_outlives_deletes_and_a_lost_catalog() {
    let fx = Fixture::new();
    for _ in 0..3 {
        backups::create(fx.ctx(), "", None).unwrap();
    }
    backups::delete(fx.ctx(), 3).unwrap();
    backups::delete(fx.ctx(), 2).unwrap();
    // Compacted, the snapshot carries the next id...
    let mut catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 4);
    // ...and without snapshot and journal, ids.json does.
    backups::delete(fx.ctx(), 4).unwrap();
    fs::remove_file(catalog_path(&fx, SNAPSHOT_FILE)).unwrap();
    fs::remove_file(catalog_path(&fx, JOURNAL_FILE)).unwrap();
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 5);
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().backups.iter().map(|b| b.id).collect::<Vec<_>>(), [5, 1]);
}

#[test]
fn a_stale_journal_from_an_interrupted_compaction_is_ignored() {
    let fx = Fixture::new();
    let made = backups::create(fx.ctx(), "kept", None).unwrap();
    let stale = fs::read(catalog_path(&fx, JOURNAL_FILE)).unwrap();
    let mut catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    backups::update(fx.ctx(), made.id, Some("after"), ExpiryChange::Keep).unwrap();
    catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    // As if the crash came between the snapshot's rename and the new journal.
    fs::write(catalog_path(&fx, JOURNAL_FILE), stale).unwrap();
    assert_eq!(descriptions(&fx), [(made.id, "after".to_string())]);
    backups::update(fx.ctx(), made.id, Some("again"), ExpiryChange::Keep).unwrap();
    assert_eq!(descriptions(&fx), [(made.id, "again".to_string())]);
}

#[test]
fn search_matches_names_and_descriptions_from_the_index_as_before() {
    let fx = Fixture::new();
    let plain = backups::create(fx.ctx(), "Nightly", None).unwrap();
    let escaped = backups::create(fx.ctx(), "quote \" and ümlaut NIGHT", None).unwrap();
    let mut catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    let ids = |search: &str| {
        backups::list(fx.ctx(), Some(search), 10, 0).unwrap().backups.iter().map(|b| b.id).collect::<Vec<_>>()
    };
    assert_eq!(ids("night"), [escaped.id, plain.id]);
    assert_eq!(ids("\" AND Ü"), [escaped.id]);
    assert_eq!(ids(&plain.name[..16].to_uppercase()), [escaped.id, plain.id]);
    assert_eq!(ids("nothing"), Vec::<u64>::new());
    assert_eq!(backups::get(fx.ctx(), escaped.id).unwrap(), escaped);
}

#[test]
fn search_is_exact_for_line_feeds_and_the_search_section_s_own_characters() {
    let fx = Fixture::new();
    let plain = backups::create(fx.ctx(), "one line", None).unwrap();
    let broken = backups::create(fx.ctx(), "two\nLines = here", None).unwrap();
    let mut catalog = Catalog::open(fx.ctx()).map_err(|e| damaged_error(&e)).unwrap();
    catalog.compact().unwrap();
    let ids = |search: &str| {
        backups::list(fx.ctx(), Some(search), 10, 0).unwrap().backups.iter().map(|b| b.id).collect::<Vec<_>>()
    };
    assert_eq!(ids("two\nlines"), [broken.id]);
    assert_eq!(ids("\n"), [broken.id]);
    assert_eq!(ids("s = h"), [broken.id]);
    assert_eq!(ids("="), [broken.id]);
    assert_eq!(ids("~"), Vec::<u64>::new());
    assert_eq!(ids("\u{fffd}"), Vec::<u64>::new());
    assert_eq!(ids("\0"), Vec::<u64>::new());
    assert_eq!(ids("line"), [broken.id, plain.id]);
}

#[test]
fn a_format_2_snapshot_is_read_then_replaced_by_format_3() {
    let fx = Fixture::new();
    let first = backups::create(fx.ctx(), "first", None).unwrap();
    let second = backups::create(fx.ctx(), "second", Some(START + 3600)).unwrap();
    // The catalog as the format-2 plugin left it: a snapshot of generation 4
    // and a journal changing `first`.
    let note = Catalog::load(fx.ctx()).unwrap().note;
    let (mut index, mut records) = (String::new(), Vec::new());
    for backup in [&second, &first] {
        let json = serde_json::to_vec(backup).unwrap();
        let expiry = backup.expiry.map_or("-".to_string(), |e| e.to_string());
        index += &format!(
            "{} {} {expiry} {} {} {:?} {:?}\n",
            backup.id,
            backup.created_at,
            records.len(),
            json.len(),
            backup.name,
            backup.description
        );
        records.extend(json);
        records.push(b'\n');
    }
    let header = serde_json::json!({"format": 2, "generation": 4, "next_backup_id": 3, "next_schedule_id": 1,
        "note": note, "schedules": [], "index_bytes": index.len()});
    let snapshot = [header.to_string().as_bytes(), b"\n", index.as_bytes(), &records].concat();
    fs::write(catalog_path(&fx, SNAPSHOT_FILE), snapshot).unwrap();
    let changed = Backup { description: "from the journal".to_string(), ..first.clone() };
    let journal = journal::encode(&[Entry::Generation(4), Entry::Put(changed.clone())]).unwrap();
    fs::write(catalog_path(&fx, JOURNAL_FILE), journal).unwrap();

    // Reads use it as it is.
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().backups, [second.clone(), changed.clone()]);
    assert_eq!(backups::get(fx.ctx(), first.id).unwrap(), changed);
    // The first change writes it as format 3, of the next generation.
    backups::update(fx.ctx(), second.id, Some("changed"), ExpiryChange::Keep).unwrap();
    assert_eq!(generation(&fx), 5);
    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(page.backups, [Backup { description: "changed".to_string(), ..second }, changed]);
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 3);
}

/// A backup of the merge test: some expired at `START`, some matching
/// "nightly", creation times out of id order.
fn merge_backup(id: u64) -> Backup {
    Backup {
        id,
        name: format!("backup-{id}.tar.gz"),
        created_at: START - 1000 + (id as i64 * 37 % 500),
        description: if id.is_multiple_of(4) { "Nightly".to_string() } else { String::new() },
        expiry: match id % 5 {
            0 => Some(START - 1),
            1 => Some(START + 100),
            _ => None,
        },
        size: id,
        sha256: String::new(),
        schedule_id: None,
        layout: None,
    }
}

#[test]
fn pages_merge_the_snapshot_with_changes_as_a_full_sort_would() {
    let fx = Fixture::new();
    let dir = fx.roots.backups.join(CATALOG_DIR);
    fs::create_dir_all(&dir).unwrap();
    let mut all: Vec<Backup> = (1..=400).map(merge_backup).collect();
    all.sort_by(|a, b| newest_first(a.created_at, a.id, b.created_at, b.id));
    let items: Vec<Item> = all.iter().map(Item::Fresh).collect();
    snapshot::write(&dir, Header::new(1, (401, 1), None, Vec::new()), &items).unwrap();
    let Some(Opened::Current(stored)) = Snapshot::open(&dir).unwrap() else { panic!("no snapshot") };
    let journal = journal::Journal { generation: Some(1), ..journal::Journal::default() };
    let mut catalog = Catalog::from_snapshot(dir, stored, journal);

    // Changes as a journal holds them: some with the position of the backup
    // (as this plugin writes them), some without (looked up).
    let mut expected: BTreeMap<u64, Backup> = all.iter().map(|b| (b.id, b.clone())).collect();
    let position = |id: u64| all.iter().position(|b| b.id == id).map(|p| p as u32);
    for id in [3, 50, 51, 52, 200, 399, 10] {
        let mut backup = expected[&id].clone();
        backup.description = "nightly, changed".to_string();
        backup.expiry = None;
        if id == 50 {
            backup.created_at = START + 5;
        }
        if id % 2 == 0 {
            catalog.apply(Entry::Position { id, position: position(id) });
        }
        catalog.apply(Entry::Put(backup.clone()));
        expected.insert(id, backup);
    }
    for id in [7, 8, 120] {
        catalog.apply(Entry::Delete(id));
        expected.remove(&id);
    }
    for id in [401, 402] {
        let backup = Backup { created_at: START - 700, ..merge_backup(id) };
        catalog.apply(Entry::Position { id, position: None });
        catalog.apply(Entry::Put(backup.clone()));
        expected.insert(id, backup);
    }

    for search in [None, Some("NIGHTLY"), Some("backup-1"), Some("changed"), Some("none such")] {
        let mut matching: Vec<&Backup> = expected
            .values()
            .filter(|b| !b.is_expired(START))
            .filter(|b| {
                search.is_none_or(|s| {
                    let s = s.to_lowercase();
                    b.name.to_lowercase().contains(&s) || b.description.to_lowercase().contains(&s)
                })
            })
            .collect();
        matching.sort_by(|a, b| newest_first(a.created_at, a.id, b.created_at, b.id));
        for (limit, offset) in [(50, 0), (7, 3), (1000, 0), (10, 230), (5, 1000)] {
            let page = catalog.search(search, limit, offset, START).unwrap();
            let shown: Vec<Backup> =
                matching.iter().skip(offset as usize).take(limit as usize).map(|b| (*b).clone()).collect();
            assert_eq!(page.total, matching.len() as u64, "{search:?} {limit} {offset}");
            assert_eq!(page.backups, shown, "{search:?} {limit} {offset}");
        }
    }
    for (id, backup) in &expected {
        match catalog.backup(*id, START) {
            Ok(found) => assert_eq!(&found, backup),
            Err(_) => assert!(backup.is_expired(START), "backup {id} was not found"),
        }
    }
    assert!(catalog.backup(7, START).is_err() && catalog.backup(403, START).is_err());
}

#[test]
fn the_journal_limit_follows_the_snapshot_within_bounds() {
    assert_eq!(journal_limit(0), JOURNAL_MIN);
    assert_eq!(journal_limit(2 << 20), 128 << 10);
    assert_eq!(journal_limit(64 << 20), JOURNAL_MAX);
}
