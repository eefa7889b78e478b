//! The plugin's own data types: what the catalog stores and what the
//! operations return. The component glue converts them to and from WIT types.

use serde::{Deserialize, Serialize};

use crate::archive::layout::ArchiveLayout;

/// One backup archive and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// Unique id, never reused.
    pub id: u64,
    /// File name of the archive inside `backups`.
    pub name: String,
    /// Creation time (seconds since the epoch, UTC).
    pub created_at: i64,
    /// Free text; empty when none was given.
    pub description: String,
    /// When the backup is removed automatically; `None` keeps it.
    pub expiry: Option<i64>,
    /// Size of the archive file in bytes.
    pub size: u64,
    /// SHA-256 of the archive file, lowercase hex.
    pub sha256: String,
    /// The schedule that made this backup, if any.
    pub schedule_id: Option<u64>,
    /// Where the archive's pieces lie, when this plugin wrote it in pieces;
    /// `None` for archives adopted from disk or written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<ArchiveLayout>,
}

impl Backup {
    /// Whether the backup has expired at `now` (expiry at or before now).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expiry.is_some_and(|expiry| expiry <= now)
    }
}

/// One page of backups and the number of matches over all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPage {
    /// The backups on this page, newest first.
    pub backups: Vec<Backup>,
    /// How many backups match in total.
    pub total: u64,
}

/// How `update` treats a backup's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChange {
    /// Leave it.
    Keep,
    /// Keep the backup until deleted.
    Clear,
    /// Set a new expiry (must be in the future).
    Set(i64),
}

/// What a restore put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The restored backup.
    pub id: u64,
    /// Regular files written, `.env` included.
    pub files: u64,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// The outcome of checking an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The checked backup.
    pub id: u64,
    /// True when everything matched.
    pub ok: bool,
    /// Files read and checked.
    pub files_checked: u64,
    /// Bytes of file content read and checked.
    pub bytes_checked: u64,
    /// One line per problem; empty when `ok`.
    pub problems: Vec<String>,
}

/// A recurring backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Unique id, never reused.
    pub id: u64,
    /// A name for people.
    pub name: String,
    /// Five-field cron expression, UTC.
    pub cron: String,
    /// Backups made by this schedule expire this many hours after creation.
    pub expiry_hours: Option<u32>,
    /// Whether the schedule runs.
    pub enabled: bool,
    /// Next due time; `None` when disabled.
    pub next_run: Option<i64>,
    /// Last time it ran.
    pub last_run: Option<i64>,
    /// What went wrong on the last run.
    pub last_error: Option<String>,
}

/// What a new schedule is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInput {
    /// Name (not empty, at most 200 characters).
    pub name: String,
    /// Cron expression.
    pub cron: String,
    /// Expiry of its backups in hours (at least 1).
    pub expiry_hours: Option<u32>,
    /// Whether it runs.
    pub enabled: bool,
}

/// How `schedule-update` treats expiry-hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursChange {
    /// Leave it.
    Keep,
    /// Backups no longer expire.
    Clear,
    /// A new value (at least 1).
    Set(u32),
}

/// Changes to a schedule; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePatch {
    /// New name.
    pub name: Option<String>,
    /// New cron expression.
    pub cron: Option<String>,
    /// How expiry-hours changes.
    pub expiry_hours: HoursChange,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A schedule whose run failed during a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickFailure {
    /// The schedule.
    pub schedule_id: u64,
    /// What went wrong.
    pub message: String,
}

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TickReport {
    /// Backups created by due schedules.
    pub created: Vec<Backup>,
    /// Ids of expired backups removed.
    pub expired: Vec<u64>,
    /// Schedules that were due but failed.
    pub failed: Vec<TickFailure>,
}
