//! The WIT glue: bindings for `kinesis:backup@1.1.0` (or `@1.0.0` with the
//! feature `contract-1-0`), the host functions as a [`Host`], and
//! conversions between WIT types and the plugin's own types. The two
//! versions share every type and the `plugin` interface, so one body of
//! glue serves both; 1.1.0 adds `parts` (in `parts.rs`).

#[cfg(not(feature = "contract-1-0"))]
wit_bindgen::generate!({
    path: "../wit/v1.1.0",
    world: "backup-plugin",
});

#[cfg(feature = "contract-1-0")]
wit_bindgen::generate!({
    path: "../wit/v1.0.0",
    world: "backup-plugin",
});

#[cfg(not(feature = "contract-1-0"))]
mod parts;

use exports::kinesis::backup::plugin::Guest;
use kinesis::backup::host as wit_host;
use kinesis::backup::types as wit;

use crate::error::PluginError;
use crate::host::{Context, Host, LogLevel, Roots};
use crate::records::{
    Backup, BackupPage, ExpiryChange, HoursChange, RestoreReport, Schedule, ScheduleInput, SchedulePatch, TickReport,
    VerifyReport,
};
use crate::{backups, restore, schedule, verify};

/// The host functions imported through WIT.
struct WitHost;

impl Host for WitHost {
    fn now(&self) -> i64 {
        wit_host::now()
    }

    fn read_env(&self) -> Result<Vec<u8>, String> {
        wit_host::read_env()
    }

    fn write_env(&self, contents: &[u8]) -> Result<(), String> {
        wit_host::write_env(contents)
    }

    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Debug => wit_host::LogLevel::Debug,
            LogLevel::Info => wit_host::LogLevel::Info,
            LogLevel::Warn => wit_host::LogLevel::Warn,
            LogLevel::Error => wit_host::LogLevel::Error,
        };
        wit_host::log(level, message);
    }

    fn progress(&self, done: u64, total: u64) {
        wit_host::progress(done, total);
    }
}

/// Runs `op` with the WIT host and the preopened roots, converting its
/// result for WIT.
pub(crate) fn run<T, W>(
    op: impl FnOnce(Context) -> crate::error::Result<T>,
    convert: impl FnOnce(T) -> W,
) -> Result<W, wit::Error> {
    let roots = Roots::preopens();
    op(Context { host: &WitHost, roots: &roots }).map(convert).map_err(error_to_wit)
}

pub(crate) struct Component;

impl Guest for Component {
    fn create(description: String, expiry: Option<wit::Timestamp>) -> Result<wit::Backup, wit::Error> {
        run(|ctx| backups::create(ctx, &description, expiry), backup_to_wit)
    }

    fn list(search: Option<String>, limit: u32, offset: u32) -> Result<wit::BackupPage, wit::Error> {
        run(|ctx| backups::list(ctx, search.as_deref(), limit, offset), page_to_wit)
    }

    fn get(id: u64) -> Result<wit::Backup, wit::Error> {
        run(|ctx| backups::get(ctx, id), backup_to_wit)
    }

    fn update(id: u64, description: Option<String>, expiry: wit::ExpiryChange) -> Result<wit::Backup, wit::Error> {
        let expiry = match expiry {
            wit::ExpiryChange::Keep => ExpiryChange::Keep,
            wit::ExpiryChange::Clear => ExpiryChange::Clear,
            wit::ExpiryChange::Set(at) => ExpiryChange::Set(at),
        };
        run(|ctx| backups::update(ctx, id, description.as_deref(), expiry), backup_to_wit)
    }

    fn restore(id: u64) -> Result<wit::RestoreReport, wit::Error> {
        run(|ctx| restore::restore(ctx, id), restore_report_to_wit)
    }

    fn delete(id: u64) -> Result<(), wit::Error> {
        run(|ctx| backups::delete(ctx, id), |()| ())
    }

    fn verify(id: u64) -> Result<wit::VerifyReport, wit::Error> {
        run(|ctx| verify::verify(ctx, id), verify_report_to_wit)
    }

    fn schedule_create(input: wit::ScheduleInput) -> Result<wit::Schedule, wit::Error> {
        let input = ScheduleInput {
            name: input.name,
            cron: input.cron,
            expiry_hours: input.expiry_hours,
            enabled: input.enabled,
        };
        run(|ctx| schedule::create(ctx, &input), schedule_to_wit)
    }

    fn schedule_list(limit: u32, offset: u32) -> Result<(Vec<wit::Schedule>, u64), wit::Error> {
        run(
            |ctx| schedule::list(ctx, limit, offset),
            |(schedules, total)| (schedules.into_iter().map(schedule_to_wit).collect(), total),
        )
    }

    fn schedule_update(id: u64, patch: wit::SchedulePatch) -> Result<wit::Schedule, wit::Error> {
        let patch = SchedulePatch {
            name: patch.name,
            cron: patch.cron,
            expiry_hours: match patch.expiry_hours {
                wit::HoursChange::Keep => HoursChange::Keep,
                wit::HoursChange::Clear => HoursChange::Clear,
                wit::HoursChange::Set(hours) => HoursChange::Set(hours),
            },
            enabled: patch.enabled,
        };
        run(|ctx| schedule::update(ctx, id, &patch), schedule_to_wit)
    }

    fn schedule_delete(id: u64) -> Result<(), wit::Error> {
        run(|ctx| schedule::delete(ctx, id), |()| ())
    }

    fn schedule_tick(now: wit::Timestamp) -> Result<wit::TickReport, wit::Error> {
        run(
            |ctx| schedule::tick(ctx, now),
            |r: TickReport| wit::TickReport {
                created: r.created.into_iter().map(backup_to_wit).collect(),
                expired: r.expired,
                failed: r
                    .failed
                    .into_iter()
                    .map(|f| wit::TickFailure { schedule_id: f.schedule_id, message: f.message })
                    .collect(),
            },
        )
    }
}

fn error_to_wit(err: PluginError) -> wit::Error {
    match err {
        PluginError::NotFound(m) => wit::Error::NotFound(m),
        PluginError::InvalidInput(m) => wit::Error::InvalidInput(m),
        PluginError::CorruptArchive(m) => wit::Error::CorruptArchive(m),
        PluginError::Busy(m) => wit::Error::Busy(m),
        PluginError::Storage(m) => wit::Error::Storage(m),
    }
}

pub(crate) fn backup_to_wit(b: Backup) -> wit::Backup {
    wit::Backup {
        id: b.id,
        name: b.name,
        created_at: b.created_at,
        description: b.description,
        expiry: b.expiry,
        size: b.size,
        sha256: b.sha256,
        schedule_id: b.schedule_id,
    }
}

pub(crate) fn restore_report_to_wit(r: RestoreReport) -> wit::RestoreReport {
    wit::RestoreReport { id: r.id, files: r.files, bytes: r.bytes }
}

pub(crate) fn verify_report_to_wit(r: VerifyReport) -> wit::VerifyReport {
    wit::VerifyReport {
        id: r.id,
        ok: r.ok,
        files_checked: r.files_checked,
        bytes_checked: r.bytes_checked,
        problems: r.problems,
    }
}

fn page_to_wit(page: BackupPage) -> wit::BackupPage {
    wit::BackupPage { backups: page.backups.into_iter().map(backup_to_wit).collect(), total: page.total }
}

fn schedule_to_wit(s: Schedule) -> wit::Schedule {
    wit::Schedule {
        id: s.id,
        name: s.name,
        cron: s.cron,
        expiry_hours: s.expiry_hours,
        enabled: s.enabled,
        next_run: s.next_run,
        last_run: s.last_run,
        last_error: s.last_error,
    }
}

export!(Component);
