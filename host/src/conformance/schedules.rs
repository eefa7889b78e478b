//! The cases of schedules: a weekly run, changes and deletes, bad input.

use chrono::Duration;
use kinesis_backup_core::model::{HoursChange, ScheduleInput, SchedulePatch};

use super::Ctx;
use super::clock::{TestClock, utc};
use super::fail::{Answer, Kind, Outcome, ensure};

/// A schedule at midnight every Sunday.
fn weekly(name: &str, hours: Option<u32>, enabled: bool) -> ScheduleInput {
    ScheduleInput { name: name.to_string(), cron: "0 0 * * 0".to_string(), expiry_hours: hours, enabled }
}

/// A Sunday schedule gets its next run, makes nothing early, one backup
/// when due (with its schedule id and expiry), one however many runs were
/// missed, and nothing on a second tick at the same time.
pub(super) fn schedule_runs_when_due(ctx: &Ctx) -> Outcome {
    // Wednesday 2024-01-03, noon.
    let clock = TestClock::at(utc(2024, 1, 3, 12, 0, 0));
    let inv = ctx.scratch.invocation(clock.clone());
    let schedule = ctx.runtime.schedule_create(&inv, &weekly("weekly", Some(48), true)).answer("schedule-create")?;
    let sunday = utc(2024, 1, 7, 0, 0, 0);
    ensure!(schedule.next_run == Some(sunday), "next-run is {:?}, not the coming Sunday {sunday}", schedule.next_run);

    let early = utc(2024, 1, 6, 23, 59, 0);
    clock.set(early);
    let report = ctx.runtime.schedule_tick(&inv, early).answer("schedule-tick before the run")?;
    ensure!(report.created.is_empty() && report.failed.is_empty(), "a tick before the run did {report:?}");

    clock.set(sunday);
    let report = ctx.runtime.schedule_tick(&inv, sunday).answer("schedule-tick when due")?;
    ensure!(report.created.len() == 1, "a due tick made {} backups, not 1", report.created.len());
    let made = &report.created[0];
    ensure!(made.schedule_id == Some(schedule.id), "its backup has schedule-id {:?}", made.schedule_id);
    ensure!(
        made.expiry == Some(sunday + Duration::hours(48)),
        "its backup expires {:?}, not 48 hours after the tick",
        made.expiry
    );
    let page = ctx.runtime.schedule_list(&inv, 10, 0).answer("schedule-list")?;
    let after = page.schedules.first().ok_or("schedule-list lost the schedule")?;
    ensure!(after.last_run == Some(sunday), "last-run is {:?}, not the tick's time", after.last_run);
    ensure!(after.next_run == Some(utc(2024, 1, 14, 0, 0, 0)), "next-run after the run is {:?}", after.next_run);
    ensure!(after.last_error.is_none(), "last-error is {:?} after a successful run", after.last_error);

    // Three Sundays missed: one backup, and the next run after now.
    let late = utc(2024, 2, 1, 9, 0, 0);
    clock.set(late);
    let report = ctx.runtime.schedule_tick(&inv, late).answer("schedule-tick after missed runs")?;
    ensure!(report.created.len() == 1, "missed runs made {} backups, not 1", report.created.len());
    ensure!(report.expired == [made.id], "the tick reports expired {:?}, not the first backup", report.expired);
    let next =
        ctx.runtime.schedule_list(&inv, 10, 0).answer("schedule-list")?.schedules.first().and_then(|s| s.next_run);
    ensure!(next == Some(utc(2024, 2, 4, 0, 0, 0)), "next-run after missed runs is {next:?}");
    let again = ctx.runtime.schedule_tick(&inv, late).answer("a second schedule-tick")?;
    ensure!(again.created.is_empty(), "a second tick at the same time made {} backups", again.created.len());
    Ok(())
}

/// A disabled schedule never runs and has no next run; a patch changes
/// what it gives; a deleted schedule is gone and its backups stay.
pub(super) fn schedule_change_and_delete(ctx: &Ctx) -> Outcome {
    let clock = TestClock::at(utc(2024, 1, 3, 12, 0, 0));
    let inv = ctx.scratch.invocation(clock.clone());
    let off = ctx.runtime.schedule_create(&inv, &weekly("off", None, false)).answer("schedule-create")?;
    ensure!(off.next_run.is_none(), "a disabled schedule has next-run {:?}", off.next_run);
    let on = ctx.runtime.schedule_create(&inv, &weekly("on", None, true)).answer("schedule-create")?;
    ensure!(on.id > off.id, "the second schedule has id {}, the first {}", on.id, off.id);

    let sunday = utc(2024, 1, 7, 0, 0, 0);
    clock.set(sunday);
    let report = ctx.runtime.schedule_tick(&inv, sunday).answer("schedule-tick")?;
    let by: Vec<Option<u64>> = report.created.iter().map(|b| b.schedule_id).collect();
    ensure!(by == [Some(on.id)], "the tick made backups of the schedules {by:?}, not only the enabled one");
    ensure!(report.created[0].expiry.is_none(), "a schedule without expiry-hours made an expiring backup");

    let patch = SchedulePatch {
        name: Some("daily at 01:30".into()),
        cron: Some("30 1 * * *".into()),
        expiry_hours: HoursChange::Set(5),
        enabled: Some(true),
    };
    let changed = ctx.runtime.schedule_update(&inv, off.id, &patch).answer("schedule-update")?;
    ensure!(
        (changed.name.as_str(), changed.cron.as_str(), changed.expiry_hours, changed.enabled)
            == ("daily at 01:30", "30 1 * * *", Some(5), true),
        "schedule-update answered {changed:?}"
    );
    ensure!(
        changed.next_run == Some(utc(2024, 1, 7, 1, 30, 0)),
        "the enabled schedule's next-run is {:?}",
        changed.next_run
    );
    let patch = SchedulePatch { name: None, cron: None, expiry_hours: HoursChange::Clear, enabled: Some(false) };
    let cleared = ctx.runtime.schedule_update(&inv, off.id, &patch).answer("schedule-update")?;
    ensure!(
        (cleared.expiry_hours, cleared.enabled, cleared.next_run) == (None, false, None),
        "disabling and clearing answered {cleared:?}"
    );
    ensure!(cleared.name == "daily at 01:30", "a patch without a name changed it to {:?}", cleared.name);

    ctx.runtime.schedule_delete(&inv, on.id).answer("schedule-delete")?;
    let page = ctx.runtime.schedule_list(&inv, 10, 0).answer("schedule-list")?;
    let ids: Vec<u64> = page.schedules.iter().map(|s| s.id).collect();
    ensure!(page.amount == 1 && ids == [off.id], "after the delete schedule-list answers {ids:?}");
    ctx.runtime.schedule_delete(&inv, on.id).refused_as(Kind::NotFound, "a second schedule-delete")?;
    ctx.runtime.schedule_update(&inv, on.id, &patch).refused_as(Kind::NotFound, "schedule-update of a deleted one")?;
    let backups = ctx.runtime.list(&inv, None, 10, 0).answer("list")?;
    ensure!(backups.amount == 1, "the deleted schedule's backup must stay; list counts {}", backups.amount);
    Ok(())
}

/// Bad crons, an empty name and zero expiry-hours are `invalid-input`
/// (with a message), and create nothing.
pub(super) fn schedule_refuses_bad_input(ctx: &Ctx) -> Outcome {
    let inv = ctx.scratch.invocation(TestClock::at(utc(2024, 1, 3, 12, 0, 0)));
    for cron in ["61 0 * * *", "0 24 * * *", "0 0 * * 8", "0 0 * *", "every day"] {
        let input = ScheduleInput { name: "bad".into(), cron: cron.into(), expiry_hours: None, enabled: true };
        ctx.runtime.schedule_create(&inv, &input).refused_as(Kind::InvalidInput, &format!("the cron {cron:?}"))?;
    }
    let unnamed = ScheduleInput { name: String::new(), ..weekly("", None, true) };
    ctx.runtime.schedule_create(&inv, &unnamed).refused_as(Kind::InvalidInput, "an empty name")?;
    let zero = weekly("zero", Some(0), true);
    ctx.runtime.schedule_create(&inv, &zero).refused_as(Kind::InvalidInput, "expiry-hours 0")?;
    let page = ctx.runtime.schedule_list(&inv, 10, 0).answer("schedule-list")?;
    ensure!(page.amount == 0, "refused schedules were kept: schedule-list counts {}", page.amount);
    Ok(())
}
