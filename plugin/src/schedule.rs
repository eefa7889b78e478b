//! Schedules: create, list, update, delete, and the tick that runs what is
//! due.

use crate::catalog::{Catalog, check_limit, page};
use crate::cron_expr::CronExpr;
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::jobs::create::add_backup;
use crate::records::{HoursChange, Schedule, ScheduleInput, SchedulePatch, TickFailure, TickReport};

/// Longest schedule name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Adds a schedule.
pub fn create(ctx: Context, input: &ScheduleInput) -> Result<Schedule> {
    let now = ctx.host.now();
    let name = check_name(&input.name)?;
    let next = first_run_after(&input.cron, now)?;
    if let Some(hours) = input.expiry_hours {
        check_hours(hours)?;
    }
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    let schedule = Schedule {
        id: catalog.allocate_schedule_id(),
        name,
        cron: input.cron.trim().to_string(),
        expiry_hours: input.expiry_hours,
        enabled: input.enabled,
        next_run: input.enabled.then_some(next),
        last_run: None,
        last_error: None,
    };
    catalog.insert_schedule(schedule.clone());
    catalog.save(ctx)?;
    Ok(schedule)
}

/// A page of schedules in id order, and the total count.
pub fn list(ctx: Context, limit: u32, offset: u32) -> Result<(Vec<Schedule>, u64)> {
    check_limit(limit)?;
    let catalog = Catalog::load(ctx)?;
    Ok((page(catalog.schedules(), limit, offset), catalog.schedules().len() as u64))
}

/// Changes a schedule. Its next run is computed again from now when its
/// cron changes or it is enabled; disabling clears it.
pub fn update(ctx: Context, id: u64, patch: &SchedulePatch) -> Result<Schedule> {
    let now = ctx.host.now();
    let name = patch.name.as_deref().map(check_name).transpose()?;
    if let Some(cron) = &patch.cron {
        first_run_after(cron, now)?;
    }
    if let HoursChange::Set(hours) = patch.expiry_hours {
        check_hours(hours)?;
    }
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    let schedule = catalog.schedule_mut(id)?;
    let was_enabled = schedule.enabled;
    if let Some(name) = name {
        schedule.name = name;
    }
    if let Some(cron) = &patch.cron {
        schedule.cron = cron.trim().to_string();
    }
    match patch.expiry_hours {
        HoursChange::Keep => {}
        HoursChange::Clear => schedule.expiry_hours = None,
        HoursChange::Set(hours) => schedule.expiry_hours = Some(hours),
    }
    if let Some(enabled) = patch.enabled {
        schedule.enabled = enabled;
    }
    if !schedule.enabled {
        schedule.next_run = None;
    } else if !was_enabled || patch.cron.is_some() || schedule.next_run.is_none() {
        schedule.next_run = Some(first_run_after(&schedule.cron, now)?);
    }
    let updated = schedule.clone();
    catalog.save(ctx)?;
    Ok(updated)
}

/// Removes a schedule; the backups it made are kept.
pub fn delete(ctx: Context, id: u64) -> Result<()> {
    let now = ctx.host.now();
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    catalog.remove_schedule(id)?;
    catalog.save(ctx)
}

/// Runs what is due at `now`: removes expired backups, then makes one
/// backup for each enabled schedule whose next run is at or before `now`
/// (one, however many runs were missed) and moves its next run past `now`.
pub fn tick(ctx: Context, now: i64) -> Result<TickReport> {
    let (mut catalog, expired) = Catalog::load_for_update(ctx, now)?;
    let mut report = TickReport { expired, ..TickReport::default() };
    let due: Vec<Schedule> = catalog
        .schedules()
        .iter()
        .filter(|s| s.enabled && s.next_run.is_some_and(|next| next <= now))
        .cloned()
        .collect();
    for due in due {
        let expiry = due.expiry_hours.map(|hours| now.saturating_add(i64::from(hours) * 3600));
        let description = format!("Scheduled backup: {}", due.name);
        let outcome = add_backup(ctx, &mut catalog, now, description, expiry, Some(due.id));
        let next_run = CronExpr::parse(&due.cron).map(|cron| cron.next_after(now));
        let schedule = catalog.schedule_mut(due.id)?;
        schedule.last_run = Some(now);
        schedule.next_run = next_run.as_ref().ok().copied().flatten();
        let failure = match (outcome, next_run) {
            (Ok(backup), next_run) => {
                report.created.push(backup);
                next_run.err().map(|e| e.to_string())
            }
            (Err(err), _) => Some(err.to_string()),
        };
        schedule.last_error = failure.clone();
        if let Some(message) = failure {
            ctx.warn(&format!("schedule {} ({}) failed: {message}", due.id, due.name));
            report.failed.push(TickFailure { schedule_id: due.id, message });
        }
    }
    catalog.save(ctx)?;
    Ok(report)
}

/// The first run of `cron` after `now`; invalid-input when the expression
/// is wrong or never matches.
fn first_run_after(cron: &str, now: i64) -> Result<i64> {
    CronExpr::parse(cron)?
        .next_after(now)
        .ok_or_else(|| PluginError::InvalidInput(format!("cron {cron:?} never matches a date from now on")))
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PluginError::InvalidInput("schedule name must not be empty".to_string()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(PluginError::InvalidInput(format!(
            "schedule name is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"
        )));
    }
    Ok(name.to_string())
}

fn check_hours(hours: u32) -> Result<()> {
    if hours == 0 {
        return Err(PluginError::InvalidInput(
            "expiry_hours must be at least 1 (leave it out to keep the backups)".to_string(),
        ));
    }
    Ok(())
}
