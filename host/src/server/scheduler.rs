//! The schedule timer: once at start (so a run missed while the server was
//! down happens now) and then at the start of every minute, it runs the
//! operations' tick ([`kinesis_backup_core::ops::Backups::tick`]). A tick
//! that fails is logged and the timer goes on; a due schedule that finds a
//! backup or restore running runs on the next minute.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use kinesis_backup_core::model::TickReport;

use crate::http::AppState;

/// Runs the timer forever (until the task is aborted).
pub async fn run(state: AppState) {
    loop {
        let now = Utc::now();
        match state.ops(move |backups| backups.tick(now)).await {
            Ok(Some(report)) => log_report(&report),
            Ok(None) => tracing::info!("a backup or restore is running; the due schedule runs at the next minute"),
            Err(err) => tracing::error!("the schedule tick failed, the timer goes on: {}", err.message),
        }
        tokio::time::sleep(until_next_minute(Utc::now())).await;
    }
}

/// Logs what a tick did (nothing when it did nothing).
pub(crate) fn log_report(report: &TickReport) {
    for backup in &report.created {
        let schedule = backup.schedule_id.map_or_else(|| "a schedule".to_owned(), |id| format!("schedule {id}"));
        tracing::info!("{schedule} created backup {}: {} bytes", backup.name, backup.size);
    }
    if !report.expired.is_empty() {
        tracing::info!("removed {} expired backups: {:?}", report.expired.len(), report.expired);
    }
    for failure in &report.failed {
        tracing::error!("schedule {} failed: {}", failure.schedule_id, failure.message);
    }
}

/// Time from `now` to the start of the next minute.
pub(crate) fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into_minute = Duration::from_secs(u64::from(now.second()))
        + Duration::from_nanos(u64::from(now.nanosecond() % 1_000_000_000));
    Duration::from_secs(60).saturating_sub(into_minute).max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_timer_wakes_at_the_start_of_the_next_minute() {
        let at = |s, ms| Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, s).unwrap() + chrono::Duration::milliseconds(ms);
        assert_eq!(until_next_minute(at(0, 0)), Duration::from_secs(60));
        assert_eq!(until_next_minute(at(59, 500)), Duration::from_millis(500));
        assert_eq!(until_next_minute(at(30, 250)), Duration::from_millis(29_750));
    }
}
