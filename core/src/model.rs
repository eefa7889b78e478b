//! The host's view of the contract's data: backups, schedules and reports,
//! with times as `DateTime<Utc>`: the "latest" types every contract version
//! converts to. They serialize to the JSON shapes of the HTTP API
//! (`docs/http-api.md`), which the CLI's `--json` output shares.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One backup archive and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backup {
    /// Unique id, never reused.
    pub id: u64,
    /// Archive file name, `backup-YYYYMMDD_HHMM_ID.tar.gz`.
    pub name: String,
    /// When the backup was created (UTC).
    pub created_at: DateTime<Utc>,
    /// Free text; empty when none was given.
    pub description: String,
    /// When the backup is removed automatically; `None` keeps it.
    pub expiry: Option<DateTime<Utc>>,
    /// Archive size in bytes.
    pub size: u64,
    /// SHA-256 of the archive file, lowercase hex.
    pub sha256: String,
    /// The schedule that made it, if any.
    pub schedule_id: Option<u64>,
}

/// One page of backups and the total that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPage {
    /// The backups on this page, newest first.
    pub backups: Vec<Backup>,
    /// How many match in total (the API calls this `amount`).
    pub amount: u64,
}

/// Where a backup's offsite copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OffsiteState {
    /// No offsite copy: none is configured, or the backup predates it.
    None,
    /// The copy is queued or being made (and retried after failures).
    Pending,
    /// The archive and its record are in the bucket.
    Copied,
    /// The copy failed as many times as allowed; it waits for a retry.
    Failed,
}

/// A backup's offsite state and, while it is pending or failed, the last
/// failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsiteStatus {
    /// Where the copy stands.
    pub state: OffsiteState,
    /// Why the last attempt failed, if one did.
    pub reason: Option<String>,
}

impl OffsiteStatus {
    /// No offsite copy.
    pub fn none() -> Self {
        OffsiteStatus { state: OffsiteState::None, reason: None }
    }
    /// Copied.
    pub fn copied() -> Self {
        OffsiteStatus { state: OffsiteState::Copied, reason: None }
    }
    /// Queued; `reason` is the last failure.
    pub fn pending(reason: Option<String>) -> Self {
        OffsiteStatus { state: OffsiteState::Pending, reason }
    }
    /// Given up; `reason` is the last failure.
    pub fn failed(reason: Option<String>) -> Self {
        OffsiteStatus { state: OffsiteState::Failed, reason }
    }
}

/// A backup as the faces show it: the plugin's record plus what the host
/// knows of its copies. Serializes as the record with three more fields:
/// `offsite` (`none`, `pending`, `copied` or `failed`), `offsite_reason`
/// and `local` (false when only the offsite copy exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedBackup {
    /// The record.
    #[serde(flatten)]
    pub backup: Backup,
    /// The offsite state.
    pub offsite: OffsiteState,
    /// Why the last offsite attempt failed.
    pub offsite_reason: Option<String>,
    /// Whether the archive is in `backups/`.
    pub local: bool,
}

impl ListedBackup {
    /// `backup` with its archive in `backups/` and offsite `status`.
    pub fn new(backup: Backup, status: OffsiteStatus, local: bool) -> Self {
        ListedBackup { backup, offsite: status.state, offsite_reason: status.reason, local }
    }
}

/// A page of listed backups and the total that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedPage {
    /// The backups on this page, newest first.
    pub backups: Vec<ListedBackup>,
    /// How many match in total.
    pub amount: u64,
}

/// How an update treats a backup's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChange {
    /// Leave it.
    Keep,
    /// Remove it: keep the backup until deleted.
    Clear,
    /// Set it (must be in the future).
    Set(DateTime<Utc>),
}

/// What a restore put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreReport {
    /// The restored backup.
    pub id: u64,
    /// Regular files written, `.env` included.
    pub files: u64,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// The outcome of checking an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// The checked backup.
    pub id: u64,
    /// True when everything matched.
    pub ok: bool,
    /// Files read and checked.
    pub files_checked: u64,
    /// Bytes read and checked.
    pub bytes_checked: u64,
    /// One line per mismatch, in words.
    pub problems: Vec<String>,
}

/// A recurring backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// Unique id, never reused.
    pub id: u64,
    /// A name for people.
    pub name: String,
    /// Standard five-field cron, UTC, Sunday = 0 or 7.
    pub cron: String,
    /// Backups made by it expire this many hours after creation.
    pub expiry_hours: Option<u32>,
    /// Disabled schedules never run.
    pub enabled: bool,
    /// When it is next due; `None` when disabled.
    pub next_run: Option<DateTime<Utc>>,
    /// When it last ran.
    pub last_run: Option<DateTime<Utc>>,
    /// What went wrong last time; `None` when it succeeded.
    pub last_error: Option<String>,
}

/// A page of schedules and the total count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePage {
    /// The schedules on this page, in id order.
    pub schedules: Vec<Schedule>,
    /// How many there are in total.
    pub amount: u64,
}

/// What a new schedule is made of (also the `schedule` object of the
/// HTTP API's create, which refuses unknown fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// A name for people; not empty.
    pub name: String,
    /// Standard five-field cron.
    pub cron: String,
    /// Expiry of its backups in hours (at least 1), if any.
    #[serde(default)]
    pub expiry_hours: Option<u32>,
    /// Whether it runs.
    pub enabled: bool,
}

/// How a schedule update treats expiry-hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursChange {
    /// Leave it.
    Keep,
    /// Backups of this schedule no longer expire.
    Clear,
    /// A new value (at least 1).
    Set(u32),
}

/// Changes to a schedule; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePatch {
    /// A new name.
    pub name: Option<String>,
    /// A new cron expression.
    pub cron: Option<String>,
    /// How expiry-hours changes.
    pub expiry_hours: HoursChange,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A due schedule that failed during a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickFailure {
    /// The schedule.
    pub schedule_id: u64,
    /// What went wrong.
    pub message: String,
}

/// What one schedule tick did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    /// Backups the due schedules made.
    pub created: Vec<Backup>,
    /// Ids of expired backups removed.
    pub expired: Vec<u64>,
    /// Due schedules that failed.
    pub failed: Vec<TickFailure>,
}

/// The id in an archive name `backup-YYYYMMDD_HHMM_ID.tar.gz`, or `None`
/// when `name` does not have that shape.
pub fn archive_id(name: &str) -> Option<u64> {
    let id = name.strip_suffix(".tar.gz")?.rsplit_once('_')?.1.parse().ok()?;
    is_archive_name(name, id).then_some(id)
}

/// Whether `name` is the archive name of backup `id`:
/// `backup-YYYYMMDD_HHMM_ID.tar.gz` with that id in decimal (no leading
/// zeros), a plain file name that is safe to open and to put in a header.
pub fn is_archive_name(name: &str, id: u64) -> bool {
    let Some(middle) = name.strip_prefix("backup-").and_then(|rest| rest.strip_suffix(".tar.gz")) else {
        return false;
    };
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    match middle.split('_').collect::<Vec<_>>()[..] {
        [date, time, named_id] => digits(date, 8) && digits(time, 4) && named_id == id.to_string(),
        _ => false,
    }
}
