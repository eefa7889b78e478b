//! The operations with the real default plugin in wasmtime and a database
//! stand-in the test controls.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Duration;

use super::*;
use crate::model::ScheduleInput;
use crate::runtime::{PluginSource, RuntimeOptions};
use crate::tenant::Access;

/// A database whose reopen fails a given number of times.
#[derive(Default)]
struct FlakyDatabase {
    failing_opens: AtomicU32,
    opens: AtomicU32,
}

impl DataEngine for FlakyDatabase {
    fn pause_writes(&self) -> WritesPaused {
        Box::new(())
    }
    fn check(&self, _data_dir: &Path) -> Result<(), String> {
        Ok(())
    }
    fn close(&self) {}
    fn open(&self) -> Result<(), String> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let left = self.failing_opens.load(Ordering::SeqCst);
        if left > 0 {
            self.failing_opens.store(left - 1, Ordering::SeqCst);
            return Err("the engine refused the files".into());
        }
        Ok(())
    }
}

fn runtime() -> Arc<Runtime> {
    let options = RuntimeOptions {
        cache_dir: Some(std::env::temp_dir().join("kinesis-backup-test-cache")),
        ..RuntimeOptions::default()
    };
    Arc::new(Runtime::load(PluginSource::Embedded, options).expect("the default plugin loads"))
}

fn backups(root: &Path, engine: Arc<dyn DataEngine>) -> Backups {
    Backups::new(Tenant::open(root, Access::Write).unwrap(), runtime(), engine)
}

/// Every file of the four parts, by path.
fn contents(dirs: &TenantDirs) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}/{}", entry.path().strip_prefix(base).unwrap().display());
            if entry.file_type().unwrap().is_dir() {
                out.insert(name, Vec::new());
                walk(base, &entry.path(), prefix, out);
            } else {
                out.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (name, dir) in [("data", &dirs.data), ("public", &dirs.public), ("translations", &dirs.translations)] {
        walk(dir, dir, name, &mut out);
    }
    out.insert(".env".into(), std::fs::read(&dirs.env_file).unwrap_or_default());
    out
}

fn fill(dirs: &TenantDirs, tag: &str) {
    std::fs::write(dirs.data.join("db"), format!("database {tag}")).unwrap();
    std::fs::create_dir_all(dirs.public.join("css")).unwrap();
    std::fs::write(dirs.public.join("css/site.css"), format!("/* {tag} */")).unwrap();
    std::fs::write(dirs.translations.join("en.json"), format!("{{\"tag\": \"{tag}\"}}")).unwrap();
    std::fs::write(&dirs.env_file, format!("TAG={tag}\n")).unwrap();
}

#[test]
fn a_restore_the_database_refuses_after_the_swap_is_undone_completely() {
    let root = tempfile::tempdir().unwrap();
    let engine = Arc::new(FlakyDatabase::default());
    let backups = backups(root.path(), engine.clone());
    let dirs = backups.tenant().dirs().clone();
    fill(&dirs, "backup");
    let id = backups.create("", None, None).unwrap().id;
    fill(&dirs, "current");
    std::fs::write(dirs.public.join("only-now.txt"), "added after the backup").unwrap();
    let before = contents(&dirs);

    engine.failing_opens.store(1, Ordering::SeqCst);
    let err = backups.restore(id, None).unwrap_err();
    assert!(matches!(err, OpsError::RestoreRolledBack { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Unusable);
    assert_eq!(contents(&dirs), before, "public/, translations/ and .env are as before too");
    assert_eq!(engine.opens.load(Ordering::SeqCst), 2, "the database was opened again after the rollback");
    assert!(!backups.tenant().work().restore().root.exists());

    backups.restore(id, None).unwrap();
    assert_eq!(std::fs::read_to_string(dirs.public.join("css/site.css")).unwrap(), "/* backup */");
    assert!(!dirs.public.join("only-now.txt").exists());
    assert_eq!(std::fs::read_to_string(&dirs.env_file).unwrap(), "TAG=backup\n");
}

#[test]
fn a_second_backup_or_restore_is_busy_at_once() {
    let root = tempfile::tempdir().unwrap();
    let backups = backups(root.path(), Arc::new(NoDatabase));
    let id = backups.create("", None, None).unwrap().id;
    let running = backups.begin_long().unwrap();
    assert!(matches!(backups.create("", None, None), Err(OpsError::Busy)));
    assert!(matches!(backups.restore(id, None), Err(OpsError::Busy)));
    assert_eq!(backups.list(None, 10, 0).unwrap().amount, 1, "reads go on");
    drop(running);
    backups.restore(id, None).unwrap();
}

#[test]
fn a_due_schedule_runs_on_a_snapshot_and_waits_while_a_backup_runs() {
    let root = tempfile::tempdir().unwrap();
    let backups = backups(root.path(), Arc::new(NoDatabase));
    let input = ScheduleInput { name: "often".into(), cron: "* * * * *".into(), expiry_hours: Some(2), enabled: true };
    let schedule = backups.schedule_create(&input).unwrap();
    let due = schedule.next_run.expect("an enabled schedule has a next run");

    assert!(backups.tick(due - Duration::seconds(1)).unwrap().unwrap().created.is_empty());
    let running = backups.begin_long().unwrap();
    assert!(backups.tick(due - Duration::seconds(1)).unwrap().is_some(), "an idle tick runs beside a backup");
    assert!(backups.tick(due).unwrap().is_none(), "a due tick waits while a backup runs");
    drop(running);
    let report = backups.tick(due).unwrap().expect("the tick ran");
    assert_eq!(report.created.len(), 1, "{report:?}");
    assert_eq!(report.created[0].schedule_id, Some(schedule.id));
    assert_eq!(report.created[0].expiry, Some(due + Duration::hours(2)));
    let leftovers = std::fs::read_dir(&backups.tenant().work().root).map(|dir| dir.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "the snapshot was not removed");
}

#[test]
fn only_catalog_shaped_names_carrying_their_id_are_archives() {
    use crate::model::is_archive_name;
    assert!(is_archive_name("backup-20300131_1200_7.tar.gz", 7));
    assert!(!is_archive_name("backup-20300131_1200_7.tar.gz", 8));
    assert!(!is_archive_name("backup-20300131_1200_07.tar.gz", 7));
    for bad in [
        "../backup-20300131_1200_7.tar.gz",
        "backup-2030_1200_7.tar.gz",
        "backup-20300131_1200_.tar.gz",
        "backup-20300131_1200_7_8.tar.gz",
        "backup-20300131_1200_7.tar.gz\"",
        "catalog.json",
    ] {
        assert!(!is_archive_name(bad, 7), "{bad}");
    }
}
