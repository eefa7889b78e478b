//! The catalog through the backup operations: search, pagination, order,
//! updates, expiry, ids and reconciliation.

use std::fs;

use super::{Fixture, START};
use crate::catalog::{CATALOG_DIR, JOURNAL_FILE, LEGACY_CATALOG_FILE, SNAPSHOT_FILE};
use crate::error::PluginError;
use crate::records::ExpiryChange;
use crate::{backups, verify};

fn make(fx: &Fixture, descriptions: &[&str]) -> Vec<u64> {
    descriptions
        .iter()
        .map(|d| {
            fx.host.now.set(fx.host.now.get() + 61);
            backups::create(fx.ctx(), d, None).unwrap().id
        })
        .collect()
}

#[test]
fn list_searches_pages_and_sorts_newest_first() {
    let fx = Fixture::new();
    fx.write("data/x", b"x");
    let ids = make(&fx, &["Before the UPGRADE", "nightly", "after upgrade", "other"]);
    assert_eq!(ids, [1, 2, 3, 4]);

    let all = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.backups.iter().map(|b| b.id).collect::<Vec<_>>(), [4, 3, 2, 1]);

    let found = backups::list(fx.ctx(), Some("Upgrade"), 10, 0).unwrap();
    assert_eq!((found.total, found.backups.iter().map(|b| b.id).collect::<Vec<_>>()), (2, vec![3, 1]));
    // The name matches too.
    let by_name = backups::list(fx.ctx(), Some("_3.TAR"), 10, 0).unwrap();
    assert_eq!(by_name.backups.iter().map(|b| b.id).collect::<Vec<_>>(), [3]);
    assert_eq!(backups::list(fx.ctx(), Some(""), 10, 0).unwrap().total, 4);

    let second = backups::list(fx.ctx(), None, 2, 2).unwrap();
    assert_eq!((second.total, second.backups.iter().map(|b| b.id).collect::<Vec<_>>()), (4, vec![2, 1]));
    assert!(backups::list(fx.ctx(), None, 2, 100).unwrap().backups.is_empty());

    for limit in [0, 1001] {
        let err = backups::list(fx.ctx(), None, limit, 0).unwrap_err();
        assert!(matches!(&err, PluginError::InvalidInput(m) if m.contains(&format!("limit {limit}"))), "{err}");
    }
}

#[test]
fn same_minute_backups_sort_by_id() {
    let fx = Fixture::new();
    let a = backups::create(fx.ctx(), "a", None).unwrap();
    let b = backups::create(fx.ctx(), "b", None).unwrap();
    assert_eq!(a.created_at, b.created_at);
    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(page.backups.iter().map(|b| b.id).collect::<Vec<_>>(), [b.id, a.id]);
}

#[test]
fn update_changes_description_and_expiry_and_validates() {
    let fx = Fixture::new();
    let id = backups::create(fx.ctx(), "old", None).unwrap().id;
    let updated = backups::update(fx.ctx(), id, Some("new"), ExpiryChange::Set(START + 3600)).unwrap();
    assert_eq!((updated.description.as_str(), updated.expiry), ("new", Some(START + 3600)));
    assert_eq!(backups::get(fx.ctx(), id).unwrap(), updated);
    let kept = backups::update(fx.ctx(), id, None, ExpiryChange::Keep).unwrap();
    assert_eq!(kept, updated);
    let cleared = backups::update(fx.ctx(), id, None, ExpiryChange::Clear).unwrap();
    assert_eq!(cleared.expiry, None);

    let past = backups::update(fx.ctx(), id, Some("x"), ExpiryChange::Set(START)).unwrap_err();
    assert!(matches!(&past, PluginError::InvalidInput(m) if m.contains("is in the past")), "{past}");
    let long = "é".repeat(1001);
    let err = backups::update(fx.ctx(), id, Some(&long), ExpiryChange::Keep).unwrap_err();
    assert!(matches!(&err, PluginError::InvalidInput(m) if m.contains("1001 characters")), "{err}");
    assert_eq!(backups::get(fx.ctx(), id).unwrap(), cleared, "bad input changed the record");
    assert!(matches!(backups::update(fx.ctx(), 99, None, ExpiryChange::Keep), Err(PluginError::NotFound(_))));

    let err = backups::create(fx.ctx(), "", Some(START - 1)).unwrap_err();
    assert!(matches!(err, PluginError::InvalidInput(_)));
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 1, "a refused create made a backup");
}

#[test]
fn expired_backups_are_hidden_then_removed_by_the_next_change() {
    let fx = Fixture::new();
    let expiring = backups::create(fx.ctx(), "", Some(START + 60)).unwrap();
    let kept = backups::create(fx.ctx(), "", None).unwrap();
    fx.host.now.set(START + 60);
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 1);
    assert!(matches!(backups::get(fx.ctx(), expiring.id), Err(PluginError::NotFound(_))));
    assert!(matches!(verify::verify(fx.ctx(), expiring.id), Err(PluginError::NotFound(_))));
    assert!(fx.roots.backups.join(&expiring.name).exists(), "a read removed a file");
    backups::update(fx.ctx(), kept.id, Some("touch"), ExpiryChange::Keep).unwrap();
    assert!(!fx.roots.backups.join(&expiring.name).exists());
}

#[test]
fn ids_are_never_reused() {
    let fx = Fixture::new();
    let first = backups::create(fx.ctx(), "", None).unwrap();
    let second = backups::create(fx.ctx(), "", None).unwrap();
    backups::delete(fx.ctx(), second.id).unwrap();
    assert!(!fx.roots.backups.join(&second.name).exists());
    assert!(matches!(backups::delete(fx.ctx(), second.id), Err(PluginError::NotFound(_))));
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 3);
    // Even when the catalog is lost, the deleted highest id is not handed
    // out again: the high-water mark beside the catalog keeps it.
    backups::delete(fx.ctx(), 3).unwrap();
    let catalog = fx.roots.backups.join(CATALOG_DIR);
    fs::remove_file(catalog.join(SNAPSHOT_FILE)).unwrap();
    fs::remove_file(catalog.join(JOURNAL_FILE)).unwrap();
    let next = backups::create(fx.ctx(), "", None).unwrap();
    assert_eq!(next.id, 4, "first was {}", first.id);
    // And when all of it is lost, ids still continue above the archives on disk.
    fs::remove_dir_all(&catalog).unwrap();
    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 5);
}

#[test]
fn reconciliation_adopts_archives_and_drops_missing_ones() {
    let fx = Fixture::new();
    fx.write("data/x", b"x");
    let a = backups::create(fx.ctx(), "keep", None).unwrap();
    let b = backups::create(fx.ctx(), "lose", None).unwrap();
    fs::remove_file(fx.roots.backups.join(&b.name)).unwrap();
    // An archive copied in from elsewhere, without a record.
    let orphan = "backup-20231224_1830_7.tar.gz";
    fs::copy(fx.roots.backups.join(&a.name), fx.roots.backups.join(orphan)).unwrap();
    let catalog_before = fx.catalog_files();

    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(page.backups.iter().map(|b| b.id).collect::<Vec<_>>(), [a.id, 7]);
    let adopted = &page.backups[1];
    assert_eq!(adopted.created_at, 1_703_442_600); // 2023-12-24T18:30:00Z
    assert_eq!((adopted.size, adopted.sha256.as_str()), (a.size, a.sha256.as_str()));
    assert_eq!(adopted.description, "");
    assert!(fx.warnings().iter().any(|w| w.contains("no archive")));
    assert_eq!(fx.catalog_files(), catalog_before, "a read wrote");

    assert_eq!(backups::create(fx.ctx(), "", None).unwrap().id, 8);
}

#[test]
fn reads_write_nothing_and_leave_temporary_files_alone() {
    let fx = Fixture::new();
    fs::write(fx.roots.backups.join(".backup-5.tar.gz.partial"), b"in progress").unwrap();
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 0);
    assert_eq!(fx.backup_files(), [".backup-5.tar.gz.partial"]);
    // A change removes what interrupted operations left.
    fs::create_dir(fx.roots.backups.join(".restore-3")).unwrap();
    fs::write(fx.roots.backups.join("catalog.json.tmp"), b"{").unwrap();
    let made = backups::create(fx.ctx(), "", None).unwrap();
    assert_eq!(fx.backup_files(), [made.name.as_str(), CATALOG_DIR]);
}

#[test]
fn a_corrupt_catalog_fails_reads_and_is_rebuilt_by_a_change() {
    let fx = Fixture::new();
    let made = backups::create(fx.ctx(), "described", None).unwrap();
    let catalog = fx.roots.backups.join(CATALOG_DIR);
    fs::write(catalog.join(SNAPSHOT_FILE), b"{not json").unwrap();
    let err = backups::list(fx.ctx(), None, 10, 0).unwrap_err();
    assert!(matches!(&err, PluginError::Storage(m) if m.contains("snapshot is damaged")), "{err}");
    let second = backups::create(fx.ctx(), "", None).unwrap();
    assert_eq!(second.id, made.id + 1);
    let page = backups::list(fx.ctx(), None, 10, 0).unwrap();
    assert_eq!(page.total, 2);
    let aside: Vec<String> =
        fs::read_dir(&catalog).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(aside.iter().any(|n| n.starts_with("snapshot.corrupt-")), "{aside:?}");
    assert!(aside.iter().any(|n| n.starts_with("journal.corrupt-")), "{aside:?}");
    assert!(fx.warnings().iter().any(|w| w.contains("schedules are lost")));
}

#[test]
fn a_corrupt_format_1_catalog_fails_reads_and_is_rebuilt_by_a_change() {
    let fx = Fixture::new();
    fx.write("data/x", b"x");
    fs::write(fx.roots.backups.join(LEGACY_CATALOG_FILE), b"{not json").unwrap();
    let err = backups::list(fx.ctx(), None, 10, 0).unwrap_err();
    assert!(matches!(&err, PluginError::Storage(m) if m.contains("catalog.json is damaged")), "{err}");
    backups::create(fx.ctx(), "", None).unwrap();
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 1);
    assert!(fx.backup_files().iter().any(|n| n.starts_with("catalog.json.corrupt-")));
}
