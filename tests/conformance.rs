//! The plugin conformance suite: the contract `kinesis:backup@1.0.0`
//! exercised through the runtime (the WIT exports), against the embedded
//! default plugin or any component named by `KINESIS_PLUGIN_WASM`.
//!
//! It relies only on the contract and the archive format of the README (names,
//! `.env`, `data/`, `public/`, `translations/`, readable by GNU tar), never
//! on the default plugin's insides.

mod support;

use std::process::Command;

use chrono::{Datelike, Duration, Timelike, Weekday};
use kinesis_backup_core::model::{ExpiryChange, HoursChange, ScheduleInput, SchedulePatch};
use kinesis_backup_core::runtime::CallError;
use support::{Tenant, TestClock, assert_same_tree, runtime, snapshot_tree, utc};

/// Whether `name` is `backup-YYYYMMDD_HHMM_ID.tar.gz`.
fn is_archive_name(name: &str) -> bool {
    let Some(core) = name.strip_prefix("backup-").and_then(|n| n.strip_suffix(".tar.gz")) else { return false };
    let parts: Vec<&str> = core.split('_').collect();
    let digits = |s: &str, len: Option<usize>| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && len.is_none_or(|l| s.len() == l)
    };
    parts.len() == 3 && digits(parts[0], Some(8)) && digits(parts[1], Some(4)) && digits(parts[2], None)
}

#[test]
fn the_archive_name_pattern_is_checked_strictly() {
    assert!(is_archive_name("backup-20240106_2359_12.tar.gz"));
    assert!(!is_archive_name("backup-2024016_2359_12.tar.gz"));
    assert!(!is_archive_name("backup-20240106_2359_.tar.gz"));
    assert!(!is_archive_name("backup-20240106_2359_1.tar"));
}

#[test]
fn restore_brings_back_the_tree_byte_for_byte() {
    let tenant = Tenant::new();
    tenant.fill(1);
    let before = tenant.snapshot();
    let inv = tenant.invocation();
    let backup = runtime().create(&inv, "before the changes", None).unwrap();

    std::fs::write(tenant.dirs.data.join("nested/file-00.bin"), b"changed").unwrap();
    std::fs::remove_file(
        tenant.dirs.public.join("Gr\u{fc}\u{df}e/\u{65e5}\u{672c}\u{8a9e} \u{30d5}\u{30a1}\u{30a4}\u{30eb}.txt"),
    )
    .unwrap();
    std::fs::write(tenant.dirs.translations.join("added-later.json"), b"{}").unwrap();
    std::fs::create_dir_all(tenant.dirs.data.join("new-folder/inner")).unwrap();
    std::fs::remove_dir(tenant.dirs.data.join("empty-folder")).unwrap();
    std::fs::write(&tenant.dirs.env_file, "SECRET=changed\n").unwrap();
    assert_ne!(tenant.snapshot(), before, "the test changed the tree");

    let report = runtime().restore(&inv, backup.id).unwrap();
    assert_eq!(report.id, backup.id);
    assert_same_tree(&before, &tenant.snapshot());
    let files = before.values().filter(|e| matches!(e, support::Entry::File(_))).count() as u64;
    assert_eq!(report.files, files, "every regular file, .env included, is counted");
}

#[test]
fn the_archive_is_named_by_time_and_id_and_gnu_tar_reads_it() {
    let tenant = Tenant::new();
    tenant.fill(2);
    let when = utc(2024, 2, 29, 23, 58, 30);
    let backup = runtime().create(&tenant.invocation_with(TestClock::at(when)), "", None).unwrap();
    assert!(is_archive_name(&backup.name), "{}", backup.name);
    assert_eq!(backup.name, format!("backup-20240229_2358_{}.tar.gz", backup.id));
    assert_eq!(backup.created_at, when);

    let archive = tenant.dirs.backups.join(&backup.name);
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(backup.size, bytes.len() as u64);
    assert_eq!(backup.sha256, sha256_hex(&bytes));

    let listing = Command::new("tar").arg("-tzf").arg(&archive).output().unwrap();
    assert!(listing.status.success(), "tar -tzf: {}", String::from_utf8_lossy(&listing.stderr));
    let listing = String::from_utf8(listing.stdout).unwrap();
    for expected in [".env", "data/big/random.bin", "public/nested/deeper/notes.md", "translations/empty.txt"] {
        assert!(listing.lines().any(|l| l == expected), "{expected} is listed:\n{listing}");
    }

    let out = tenant.scratch("extracted");
    let extract = Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&out).output().unwrap();
    assert!(extract.status.success(), "tar -xzf: {}", String::from_utf8_lossy(&extract.stderr));
    assert_eq!(std::fs::read(out.join(".env")).unwrap(), std::fs::read(&tenant.dirs.env_file).unwrap());
    for (name, dir) in
        [("data", &tenant.dirs.data), ("public", &tenant.dirs.public), ("translations", &tenant.dirs.translations)]
    {
        assert_same_tree(&snapshot_tree(dir), &snapshot_tree(&out.join(name)));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn list_searches_pages_and_puts_the_newest_first() {
    let tenant = Tenant::new();
    let clock = TestClock::at(utc(2024, 5, 1, 10, 0, 0));
    let inv = tenant.invocation_with(clock.clone());
    let mut ids = Vec::new();
    for description in ["Alpha release", "beta", "second ALPHA", "gamma", "delta"] {
        ids.push(runtime().create(&inv, description, None).unwrap().id);
        clock.advance(Duration::minutes(1));
    }

    let first = runtime().list(&inv, None, 2, 0).unwrap();
    assert_eq!(first.amount, 5);
    assert_eq!(first.backups.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[4], ids[3]]);
    let mut all = Vec::new();
    for offset in (0..6).step_by(2) {
        all.extend(runtime().list(&inv, None, 2, offset).unwrap().backups.into_iter().map(|b| b.id));
    }
    assert_eq!(all, ids.iter().rev().copied().collect::<Vec<_>>(), "pages cover every backup once, newest first");
    assert!(runtime().list(&inv, None, 2, 10).unwrap().backups.is_empty());

    let alpha = runtime().list(&inv, Some("aLpHa"), 10, 0).unwrap();
    assert_eq!(alpha.amount, 2);
    assert_eq!(alpha.backups.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[2], ids[0]]);

    let by_name = runtime().get(&inv, ids[3]).unwrap().name;
    let named = runtime().list(&inv, Some(&by_name.to_uppercase()), 10, 0).unwrap();
    assert_eq!(named.backups.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[3]]);
    assert_eq!(runtime().list(&inv, Some("nothing like this"), 10, 0).unwrap().amount, 0);

    for limit in [0, 1001] {
        let err = runtime().list(&inv, None, limit, 0).unwrap_err();
        assert!(matches!(err, CallError::InvalidInput(_)), "limit {limit}: {err:?}");
    }
}

#[test]
fn update_changes_the_description_and_sets_or_clears_the_expiry() {
    let tenant = Tenant::new();
    let now = utc(2024, 6, 1, 12, 0, 0);
    let inv = tenant.invocation_with(TestClock::at(now));
    let backup = runtime().create(&inv, "old", None).unwrap();

    let later = now + Duration::days(3);
    let updated = runtime().update(&inv, backup.id, Some("new words"), ExpiryChange::Set(later)).unwrap();
    assert_eq!((updated.description.as_str(), updated.expiry), ("new words", Some(later)));
    assert_eq!(runtime().get(&inv, backup.id).unwrap(), updated);

    let kept = runtime().update(&inv, backup.id, None, ExpiryChange::Keep).unwrap();
    assert_eq!((kept.description.as_str(), kept.expiry), ("new words", Some(later)));
    let cleared = runtime().update(&inv, backup.id, None, ExpiryChange::Clear).unwrap();
    assert_eq!(cleared.expiry, None);

    let err = runtime().update(&inv, backup.id, Some("x"), ExpiryChange::Set(now - Duration::minutes(1))).unwrap_err();
    assert!(matches!(err, CallError::InvalidInput(_)), "{err:?}");
    assert_eq!(runtime().get(&inv, backup.id).unwrap(), cleared, "a refused update changes nothing");
    let err = runtime().create(&inv, "", Some(now - Duration::hours(1))).unwrap_err();
    assert!(matches!(err, CallError::InvalidInput(_)), "{err:?}");
    assert!(matches!(runtime().update(&inv, 999, None, ExpiryChange::Clear), Err(CallError::NotFound(_))));
}

#[test]
fn expired_backups_are_removed_by_the_next_mutating_call() {
    let tenant = Tenant::new();
    let clock = TestClock::at(utc(2024, 7, 1, 0, 0, 0));
    let inv = tenant.invocation_with(clock.clone());
    let short = runtime().create(&inv, "short-lived", Some(clock_now(&clock) + Duration::hours(1))).unwrap();
    let kept = runtime().create(&inv, "kept", Some(clock_now(&clock) + Duration::days(30))).unwrap();

    clock.advance(Duration::hours(2));
    let archive = tenant.dirs.backups.join(&short.name);
    assert!(archive.exists());
    let fresh = runtime().create(&inv, "fresh", None).unwrap();
    let ids: Vec<u64> = runtime().list(&inv, None, 10, 0).unwrap().backups.iter().map(|b| b.id).collect();
    assert_eq!(ids, vec![fresh.id, kept.id]);
    assert!(!archive.exists(), "the expired archive is deleted too");
    assert!(matches!(runtime().get(&inv, short.id), Err(CallError::NotFound(_))));
}

fn clock_now(clock: &TestClock) -> chrono::DateTime<chrono::Utc> {
    kinesis_backup_core::runtime::Clock::now(clock)
}

#[test]
fn ids_are_never_reused_after_deletes() {
    let tenant = Tenant::new();
    let inv = tenant.invocation();
    let a = runtime().create(&inv, "a", None).unwrap();
    let b = runtime().create(&inv, "b", None).unwrap();
    assert!(b.id > a.id);
    runtime().delete(&inv, b.id).unwrap();
    assert!(!tenant.dirs.backups.join(&b.name).exists(), "delete removes the archive");
    assert!(matches!(runtime().get(&inv, b.id), Err(CallError::NotFound(_))));
    assert!(matches!(runtime().delete(&inv, b.id), Err(CallError::NotFound(_))));
    let c = runtime().create(&inv, "c", None).unwrap();
    assert!(c.id > b.id, "id {} was used before", c.id);
}

#[test]
fn the_catalog_adopts_stray_archives_and_forgets_missing_ones() {
    let source = Tenant::new();
    source.fill(3);
    let original =
        runtime().create(&source.invocation_with(TestClock::at(utc(2020, 1, 1, 0, 0, 0))), "original", None).unwrap();
    let archive = source.dirs.backups.join(&original.name);

    // Copied by hand into a tenant that has no record of it: adopted.
    let other = Tenant::new();
    let inv = other.invocation();
    std::fs::copy(&archive, other.dirs.backups.join(&original.name)).unwrap();
    let page = runtime().list(&inv, None, 10, 0).unwrap();
    assert_eq!(page.amount, 1);
    let adopted = &page.backups[0];
    assert_eq!((adopted.id, adopted.name.as_str()), (original.id, original.name.as_str()));
    assert_eq!(adopted.created_at, utc(2020, 1, 1, 0, 0, 0));
    assert_eq!((adopted.size, adopted.sha256.as_str()), (original.size, original.sha256.as_str()));
    let report = runtime().verify(&inv, adopted.id).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(runtime().create(&inv, "next", None).unwrap().id > original.id, "ids stay above adopted ones");

    // Deleted by hand: the record disappears.
    std::fs::remove_file(&archive).unwrap();
    assert_eq!(runtime().list(&source.invocation(), None, 10, 0).unwrap().amount, 0);
    assert!(matches!(runtime().get(&source.invocation(), original.id), Err(CallError::NotFound(_))));
}

#[test]
fn verify_passes_an_intact_archive_and_reports_a_flipped_byte() {
    let tenant = Tenant::new();
    tenant.fill(4);
    let inv = tenant.invocation();
    let backup = runtime().create(&inv, "", None).unwrap();
    let report = runtime().verify(&inv, backup.id).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(report.problems.is_empty());
    assert!(report.files_checked > 10 && report.bytes_checked > 3 * 1024 * 1024, "{report:?}");

    support::flip_middle_byte(&tenant.dirs.backups.join(&backup.name));
    let report = runtime().verify(&inv, backup.id).unwrap();
    assert!(!report.ok);
    assert!(!report.problems.is_empty());
    assert!(matches!(runtime().verify(&inv, 12345), Err(CallError::NotFound(_))));
}

fn weekly(name: &str, hours: Option<u32>, enabled: bool) -> ScheduleInput {
    ScheduleInput { name: name.to_string(), cron: "0 0 * * 0".to_string(), expiry_hours: hours, enabled }
}

#[test]
fn a_sunday_schedule_runs_once_when_due_however_many_runs_were_missed() {
    let tenant = Tenant::new();
    // Wednesday 2024-01-03, noon.
    let clock = TestClock::at(utc(2024, 1, 3, 12, 0, 0));
    let inv = tenant.invocation_with(clock.clone());
    let schedule = runtime().schedule_create(&inv, &weekly("weekly", Some(48), true)).unwrap();
    let next = schedule.next_run.expect("an enabled schedule has a next run");
    assert_eq!((next.weekday(), next.hour(), next.minute()), (Weekday::Sun, 0, 0));
    assert_eq!(next, utc(2024, 1, 7, 0, 0, 0));

    let early = utc(2024, 1, 6, 23, 59, 0);
    clock.set(early);
    let report = runtime().schedule_tick(&inv, early).unwrap();
    assert!(report.created.is_empty() && report.failed.is_empty(), "{report:?}");

    let due = utc(2024, 1, 7, 0, 0, 0);
    clock.set(due);
    let report = runtime().schedule_tick(&inv, due).unwrap();
    assert_eq!(report.created.len(), 1, "{report:?}");
    let made = &report.created[0];
    assert_eq!(made.schedule_id, Some(schedule.id));
    assert_eq!(made.expiry, Some(due + Duration::hours(48)));
    let after = &runtime().schedule_list(&inv, 10, 0).unwrap().schedules[0];
    assert_eq!(after.last_run, Some(due));
    assert_eq!(after.next_run, Some(utc(2024, 1, 14, 0, 0, 0)));
    assert_eq!(after.last_error, None);

    // Three Sundays missed: one backup, and the next run after now.
    let late = utc(2024, 2, 1, 9, 0, 0);
    clock.set(late);
    let report = runtime().schedule_tick(&inv, late).unwrap();
    assert_eq!(report.created.len(), 1, "missed runs collapse to one: {report:?}");
    assert_eq!(report.expired, vec![made.id], "the first backup expired meanwhile");
    assert_eq!(runtime().schedule_list(&inv, 10, 0).unwrap().schedules[0].next_run, Some(utc(2024, 2, 4, 0, 0, 0)));
    assert_eq!(
        runtime().schedule_tick(&inv, late).unwrap().created.len(),
        0,
        "a second tick at the same time makes nothing"
    );
}

#[test]
fn disabled_schedules_never_run_and_schedules_can_be_changed_and_deleted() {
    let tenant = Tenant::new();
    let clock = TestClock::at(utc(2024, 1, 3, 12, 0, 0));
    let inv = tenant.invocation_with(clock.clone());
    let off = runtime().schedule_create(&inv, &weekly("off", None, false)).unwrap();
    assert_eq!(off.next_run, None);
    let on = runtime().schedule_create(&inv, &weekly("on", None, true)).unwrap();
    assert!(on.id > off.id);

    let sunday = utc(2024, 1, 7, 0, 0, 0);
    clock.set(sunday);
    let report = runtime().schedule_tick(&inv, sunday).unwrap();
    assert_eq!(report.created.iter().map(|b| b.schedule_id).collect::<Vec<_>>(), vec![Some(on.id)]);
    assert_eq!(report.created[0].expiry, None);

    let patch = SchedulePatch {
        name: Some("daily at 01:30".into()),
        cron: Some("30 1 * * *".into()),
        expiry_hours: HoursChange::Set(5),
        enabled: Some(true),
    };
    let changed = runtime().schedule_update(&inv, off.id, &patch).unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.cron.as_str(), changed.expiry_hours, changed.enabled),
        ("daily at 01:30", "30 1 * * *", Some(5), true)
    );
    assert_eq!(changed.next_run, Some(utc(2024, 1, 7, 1, 30, 0)));
    let cleared = runtime()
        .schedule_update(
            &inv,
            off.id,
            &SchedulePatch { name: None, cron: None, expiry_hours: HoursChange::Clear, enabled: Some(false) },
        )
        .unwrap();
    assert_eq!((cleared.expiry_hours, cleared.enabled, cleared.next_run), (None, false, None));

    runtime().schedule_delete(&inv, on.id).unwrap();
    let page = runtime().schedule_list(&inv, 10, 0).unwrap();
    assert_eq!((page.amount, page.schedules[0].id), (1, off.id));
    assert!(matches!(runtime().schedule_delete(&inv, on.id), Err(CallError::NotFound(_))));
    assert_eq!(runtime().list(&inv, None, 10, 0).unwrap().amount, 1, "the deleted schedule's backup is kept");
}

#[test]
fn a_bad_schedule_is_refused_naming_what_is_wrong() {
    let tenant = Tenant::new();
    let inv = tenant.invocation();
    for (cron, field) in
        [("61 0 * * *", "minute"), ("0 24 * * *", "hour"), ("0 0 * * 8", "day-of-week"), ("0 0 * *", "5 fields")]
    {
        let input = ScheduleInput { name: "bad".into(), cron: cron.into(), expiry_hours: None, enabled: true };
        match runtime().schedule_create(&inv, &input) {
            Err(CallError::InvalidInput(message)) => assert!(message.contains(field), "{cron:?}: {message}"),
            other => panic!("{cron:?} must be refused as invalid input, got {other:?}"),
        }
    }
    let unnamed = ScheduleInput { name: String::new(), cron: "0 0 * * 0".into(), expiry_hours: None, enabled: true };
    assert!(matches!(runtime().schedule_create(&inv, &unnamed), Err(CallError::InvalidInput(_))));
    let zero_hours = ScheduleInput { expiry_hours: Some(0), ..weekly("zero", None, true) };
    assert!(matches!(runtime().schedule_create(&inv, &zero_hours), Err(CallError::InvalidInput(_))));
    assert_eq!(runtime().schedule_list(&inv, 10, 0).unwrap().amount, 0, "nothing was created");
}
