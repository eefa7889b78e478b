//! The schedule timer: once at start (so a run missed while the server was
//! down happens now) and then at the start of every minute, it calls the
//! plugin's `schedule-tick`. When a schedule is due the tick runs on a
//! consistent snapshot of `data/`, like a manual backup. A tick that fails
//! is logged and the timer goes on; a tick that finds a backup or restore
//! running is skipped, and the due schedule runs on the next minute.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use super::response::ApiError;
use super::snapshot::run_on_snapshot;
use super::state::AppState;
use crate::model::TickReport;

/// Schedules read per page when looking for due ones.
const PAGE: u32 = 1000;

/// Runs the timer forever (until the task is aborted).
pub async fn run(state: AppState) {
    loop {
        match tick(&state, Utc::now()).await {
            Ok(Some(report)) => log_report(&report),
            Ok(None) => {}
            Err(err) => tracing::error!(
                "the schedule tick failed, the timer goes on: {}",
                err.message
            ),
        }
        tokio::time::sleep(until_next_minute(Utc::now())).await;
    }
}

/// One tick at `now`; `None` when skipped because a backup or restore runs.
///
/// Only a tick with a due schedule makes a backup, so only such a tick takes
/// the tenant's operation lock (and a snapshot): an idle tick must never make
/// a person's backup or restore fail with 409. An idle tick still removes
/// expired backups; the runtime serializes that with other changes.
/// Schedules created after the check are due after `now`, so the tick at
/// `now` cannot start a backup that the check did not see.
async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<Option<TickReport>, ApiError> {
    if !any_due(state, now).await? {
        let report = state
            .call(move |runtime, invocation| runtime.schedule_tick(invocation, now))
            .await?;
        return Ok(Some(report));
    }
    let Ok(operation) = state.tenant.try_begin_operation() else {
        tracing::info!(
            "a backup or restore is running; the due schedule runs at the next minute"
        );
        return Ok(None);
    };
    let report = run_on_snapshot(state, move |runtime, invocation| {
        let _operation = operation;
        runtime.schedule_tick(invocation, now)
    })
    .await?;
    Ok(Some(report))
}

/// Whether an enabled schedule is due at `now` (then a backup is made and
/// needs a snapshot; otherwise the tick only removes expired backups).
async fn any_due(state: &AppState, now: DateTime<Utc>) -> Result<bool, ApiError> {
    state
        .call(move |runtime, invocation| {
            let mut offset = 0;
            loop {
                let page = runtime.schedule_list(invocation, PAGE, offset)?;
                if page
                    .schedules
                    .iter()
                    .any(|s| s.enabled && s.next_run.is_some_and(|next| next <= now))
                {
                    return Ok(true);
                }
                offset += PAGE;
                if page.schedules.is_empty() || u64::from(offset) >= page.amount {
                    return Ok(false);
                }
            }
        })
        .await
}

/// Logs what a tick did (nothing when it did nothing).
fn log_report(report: &TickReport) {
    for backup in &report.created {
        let schedule = backup
            .schedule_id
            .map_or_else(|| "a schedule".to_owned(), |id| format!("schedule {id}"));
        tracing::info!(
            "{schedule} created backup {}: {} bytes",
            backup.name,
            backup.size
        );
    }
    if !report.expired.is_empty() {
        tracing::info!(
            "removed {} expired backups: {:?}",
            report.expired.len(),
            report.expired
        );
    }
    for failure in &report.failed {
        tracing::error!(
            "schedule {} failed: {}",
            failure.schedule_id,
            failure.message
        );
    }
}

/// Time from `now` to the start of the next minute.
fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into_minute = Duration::from_secs(u64::from(now.second()))
        + Duration::from_nanos(u64::from(now.nanosecond() % 1_000_000_000));
    Duration::from_secs(60)
        .saturating_sub(into_minute)
        .max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScheduleInput;
    use crate::runtime::{PluginSource, Runtime, RuntimeOptions};
    use crate::server::tenant::Tenant;
    use chrono::TimeZone;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_due_schedule_runs_on_a_snapshot_and_a_busy_tenant_skips_the_tick() {
        let root = tempfile::tempdir().unwrap();
        let tenant = Arc::new(Tenant::open(root.path()).unwrap());
        let runtime = Runtime::load(PluginSource::Embedded, RuntimeOptions::default()).unwrap();
        let state = AppState {
            runtime: Arc::new(runtime),
            tenant,
        };
        let input = ScheduleInput {
            name: "often".into(),
            cron: "* * * * *".into(),
            expiry_hours: Some(2),
            enabled: true,
        };
        let schedule = state
            .call(move |runtime, invocation| runtime.schedule_create(invocation, &input))
            .await
            .unwrap();
        let due = schedule
            .next_run
            .expect("an enabled schedule has a next run");

        assert!(
            tick(&state, due - chrono::Duration::seconds(1))
                .await
                .unwrap()
                .unwrap()
                .created
                .is_empty()
        );
        let busy = state.tenant.try_begin_operation().unwrap();
        assert!(
            tick(&state, due - chrono::Duration::seconds(1))
                .await
                .unwrap()
                .is_some(),
            "an idle tick needs no operation lock, so it must run beside a backup"
        );
        assert!(
            tick(&state, due).await.unwrap().is_none(),
            "a tick ran beside a backup"
        );
        drop(busy);
        let report = tick(&state, due).await.unwrap().expect("the tick ran");
        assert_eq!(report.created.len(), 1, "{report:?}");
        assert_eq!(report.created[0].schedule_id, Some(schedule.id));
        assert_eq!(
            report.created[0].expiry,
            Some(due + chrono::Duration::hours(2))
        );
        let leftovers = std::fs::read_dir(state.tenant.work_dir())
            .map(|dir| dir.count())
            .unwrap_or(0);
        assert_eq!(leftovers, 0, "the snapshot was not removed");
    }

    #[test]
    fn the_timer_wakes_at_the_start_of_the_next_minute() {
        let at = |s, ms| {
            Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, s).unwrap() + chrono::Duration::milliseconds(ms)
        };
        assert_eq!(until_next_minute(at(0, 0)), Duration::from_secs(60));
        assert_eq!(until_next_minute(at(59, 500)), Duration::from_millis(500));
        assert_eq!(
            until_next_minute(at(30, 250)),
            Duration::from_millis(29_750)
        );
    }
}
