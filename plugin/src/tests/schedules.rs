//! Schedules and the tick.

use chrono::{DateTime, Datelike, Timelike, Weekday};

use super::{Fixture, START};
use crate::catalog::CATALOG_DIR;
use crate::error::PluginError;
use crate::records::{HoursChange, ScheduleInput, SchedulePatch};
use crate::{backups, schedule};

fn input(cron: &str, enabled: bool) -> ScheduleInput {
    ScheduleInput { name: "weekly".to_string(), cron: cron.to_string(), expiry_hours: Some(48), enabled }
}

fn no_change() -> SchedulePatch {
    SchedulePatch { name: None, cron: None, expiry_hours: HoursChange::Keep, enabled: None }
}

#[test]
fn sunday_schedule_runs_once_for_missed_runs() {
    let fx = Fixture::new();
    let made = schedule::create(fx.ctx(), &input("0 0 * * 0", true)).unwrap();
    let next = made.next_run.unwrap();
    let when = DateTime::from_timestamp(next, 0).unwrap();
    assert_eq!((when.weekday(), when.hour(), when.minute()), (Weekday::Sun, 0, 0));

    let early = schedule::tick(fx.ctx(), next - 1).unwrap();
    assert!(early.created.is_empty() && early.failed.is_empty());

    // Three weeks late: one backup, not three.
    let now = next + 3 * 7 * 86_400 + 120;
    let report = schedule::tick(fx.ctx(), now).unwrap();
    assert_eq!(report.created.len(), 1);
    let backup = &report.created[0];
    assert_eq!(backup.schedule_id, Some(made.id));
    assert_eq!(backup.expiry, Some(now + 48 * 3600));
    assert_eq!(backup.description, "Scheduled backup: weekly");
    assert_eq!(backup.created_at, now);

    let (schedules, total) = schedule::list(fx.ctx(), 10, 0).unwrap();
    assert_eq!(total, 1);
    let after = &schedules[0];
    assert_eq!((after.last_run, after.last_error.as_deref()), (Some(now), None));
    assert!(after.next_run.unwrap() > now && after.next_run.unwrap() - now <= 7 * 86_400);
    assert!(schedule::tick(fx.ctx(), now + 60).unwrap().created.is_empty());

    // Its backups expire, and a tick removes them.
    fx.host.now.set(now + 48 * 3600);
    let later = schedule::tick(fx.ctx(), now + 48 * 3600).unwrap();
    assert_eq!(later.expired, [backup.id]);
    assert_eq!(backups::list(fx.ctx(), None, 10, 0).unwrap().total, 0);
}

#[test]
fn disabled_schedules_never_run_until_enabled() {
    let fx = Fixture::new();
    let made = schedule::create(fx.ctx(), &input("*/15 * * * *", false)).unwrap();
    assert_eq!(made.next_run, None);
    assert!(schedule::tick(fx.ctx(), START + 86_400).unwrap().created.is_empty());

    let enable = SchedulePatch { enabled: Some(true), ..no_change() };
    let enabled = schedule::update(fx.ctx(), made.id, &enable).unwrap();
    assert_eq!(enabled.next_run, Some(START + 15 * 60));
    let disable = SchedulePatch { enabled: Some(false), ..no_change() };
    assert_eq!(schedule::update(fx.ctx(), made.id, &disable).unwrap().next_run, None);
}

#[test]
fn update_recomputes_next_run_and_validates() {
    let fx = Fixture::new();
    let made = schedule::create(fx.ctx(), &input("30 1 * * *", true)).unwrap();
    assert_eq!(made.next_run, Some(START + 13 * 3600 + 30 * 60)); // 01:30 tomorrow
    let patch = SchedulePatch {
        name: Some("  hourly  ".to_string()),
        cron: Some("@hourly".to_string()),
        expiry_hours: HoursChange::Clear,
        enabled: None,
    };
    let updated = schedule::update(fx.ctx(), made.id, &patch).unwrap();
    assert_eq!(updated.name, "hourly");
    assert_eq!(updated.next_run, Some(START + 3600));
    assert_eq!(updated.expiry_hours, None);

    for (patch, why) in [
        (SchedulePatch { cron: Some("* * * * 8".to_string()), ..no_change() }, "day-of-week value 8"),
        (SchedulePatch { name: Some(" ".to_string()), ..no_change() }, "must not be empty"),
        (SchedulePatch { expiry_hours: HoursChange::Set(0), ..no_change() }, "at least 1"),
    ] {
        let err = schedule::update(fx.ctx(), made.id, &patch).unwrap_err();
        assert!(matches!(&err, PluginError::InvalidInput(m) if m.contains(why)), "{err}");
    }
    assert_eq!(schedule::list(fx.ctx(), 10, 0).unwrap().0[0], updated, "bad input changed it");
    assert!(matches!(schedule::update(fx.ctx(), 42, &no_change()), Err(PluginError::NotFound(_))));
}

#[test]
fn create_validates_and_ids_are_not_reused() {
    let fx = Fixture::new();
    for (bad, why) in [
        (ScheduleInput { name: String::new(), ..input("* * * * *", true) }, "must not be empty"),
        (ScheduleInput { name: "n".repeat(201), ..input("* * * * *", true) }, "201 characters"),
        (input("0 0 * *", true), "5 fields"),
        (input("61 0 * * *", true), "minute"),
        (input("0 24 * * *", true), "hour"),
        (input("0 0 * * 8", true), "day-of-week"),
        (input("0 0 30 2 *", true), "never matches"),
        (ScheduleInput { expiry_hours: Some(0), ..input("* * * * *", true) }, "at least 1"),
    ] {
        let err = schedule::create(fx.ctx(), &bad).unwrap_err();
        assert!(matches!(&err, PluginError::InvalidInput(m) if m.contains(why)), "{why}: {err}");
    }
    let a = schedule::create(fx.ctx(), &input("@daily", true)).unwrap();
    let b = schedule::create(fx.ctx(), &input("@daily", true)).unwrap();
    schedule::delete(fx.ctx(), b.id).unwrap();
    assert!(matches!(schedule::delete(fx.ctx(), b.id), Err(PluginError::NotFound(_))));
    let c = schedule::create(fx.ctx(), &input("@daily", true)).unwrap();
    assert_eq!((a.id, b.id, c.id), (1, 2, 3));
    let (page, total) = schedule::list(fx.ctx(), 1, 1).unwrap();
    assert_eq!((page.iter().map(|s| s.id).collect::<Vec<_>>(), total), (vec![3], 2));
    assert!(matches!(schedule::list(fx.ctx(), 0, 0), Err(PluginError::InvalidInput(_))));
}

#[test]
fn a_failed_run_is_recorded() {
    let fx = Fixture::new();
    let made = schedule::create(fx.ctx(), &input("@hourly", true)).unwrap();
    // data/ vanished: the backup cannot be made.
    std::fs::remove_dir(&fx.roots.data).unwrap();
    let now = made.next_run.unwrap();
    let report = schedule::tick(fx.ctx(), now).unwrap();
    assert!(report.created.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].message.contains("data"), "{}", report.failed[0].message);
    let after = &schedule::list(fx.ctx(), 10, 0).unwrap().0[0];
    assert_eq!(after.last_error.as_deref(), Some(report.failed[0].message.as_str()));
    assert_eq!(after.next_run, Some(now + 3600));
    assert_eq!(fx.backup_files(), [CATALOG_DIR], "a failed run left a partial archive");
}
