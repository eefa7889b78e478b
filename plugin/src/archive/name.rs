//! Names of the files the plugin keeps in `backups/`: finished archives
//! (`backup-YYYYMMDD_HHMM_ID.tar.gz`, UTC), their temporary forms, the
//! folders a create writes its parts in and the folders a restore stages in.

use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::clock::to_datetime;
use crate::error::Result;

const PREFIX: &str = "backup-";
const SUFFIX: &str = ".tar.gz";
const STAMP_FORMAT: &str = "%Y%m%d_%H%M";

/// The archive name for backup `id` created at `created_at`.
pub fn archive_name(id: u64, created_at: i64) -> Result<String> {
    let time = to_datetime(created_at, "creation time")?;
    Ok(format!("{PREFIX}{}_{id}{SUFFIX}", time.format(STAMP_FORMAT)))
}

/// The temporary name an archive is written under before it is complete.
pub fn partial_name(id: u64) -> String {
    format!(".backup-{id}.tar.gz.partial")
}

/// Whether `name` is a temporary archive left behind by an interrupted create.
pub fn is_partial_name(name: &str) -> bool {
    name.starts_with(".backup-") && name.ends_with(".tar.gz.partial")
}

/// The id and creation time (start of the named minute) encoded in an
/// archive name, or `None` when `name` is not an archive name.
pub fn parse_archive_name(name: &str) -> Option<(u64, i64)> {
    let core = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (stamp, id) = core.rsplit_once('_')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || stamp.len() != 13 {
        return None;
    }
    let id = id.parse().ok()?;
    let time = NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT).ok()?;
    Some((id, Utc.from_utc_datetime(&time).timestamp()))
}

const JOB_PREFIX: &str = ".job-";

/// Name of the folder a create of backup `id` writes its parts in.
pub fn job_folder_name(id: u64) -> String {
    format!("{JOB_PREFIX}{id}")
}

/// Whether `name` is the folder of a create (safe to delete when no create
/// runs).
pub fn is_job_folder_name(name: &str) -> bool {
    name.strip_prefix(JOB_PREFIX).is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

const STAGING_PREFIX: &str = ".restore-";
const PREVIOUS_PREFIX: &str = ".restore-previous-";

/// Name of the folder backup `id` is extracted into before the swap.
pub fn staging_folder_name(id: u64) -> String {
    format!("{STAGING_PREFIX}{id}")
}

/// Whether `name` is a staging folder (safe to delete when no restore runs).
pub fn is_staging_folder_name(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX).is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The folder the files from before a restore of `id` at `now` are moved to.
pub fn previous_folder_name(id: u64, now: i64) -> String {
    format!("{PREVIOUS_PREFIX}{id}-{now}")
}

/// Whether `name` is a folder holding the files from before a restore.
pub fn is_previous_folder_name(name: &str) -> bool {
    name.starts_with(PREVIOUS_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_round_trips() {
        // 2024-03-05T07:09:59Z
        let name = archive_name(42, 1_709_622_599).unwrap();
        assert_eq!(name, "backup-20240305_0709_42.tar.gz");
        assert_eq!(parse_archive_name(&name), Some((42, 1_709_622_540)));
    }

    #[test]
    fn other_names_are_not_archives() {
        for name in [
            "catalog.json",
            "backup-20240305_0709_.tar.gz",
            "backup-20240305_0709_x1.tar.gz",
            "backup-20241305_0709_1.tar.gz",
            "backup-2024030_0709_1.tar.gz",
            ".backup-3.tar.gz.partial",
            "backup-20240305_0709_1.tar",
        ] {
            assert_eq!(parse_archive_name(name), None, "{name}");
        }
        assert!(is_partial_name(&partial_name(3)));
        assert!(is_job_folder_name(&job_folder_name(3)));
        assert!(!is_job_folder_name(".job-") && !is_job_folder_name(".job-3x"));
    }
}
