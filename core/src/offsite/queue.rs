//! The durable state of a tenant's offsite copies, in
//! `ROOT/.kinesis/offsite.json`: the work still to do (copies, record
//! updates, removals), each with its attempts and last failure, and what is
//! known of the remote folder (the records of the backups copied there).
//! It is written atomically after every change, so work queued before a
//! crash or a restart is taken up again by the next process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Backup;
use crate::tenant::files::write_atomic;

/// What a backup's record says beside its archive in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The backup, as the catalog describes it.
    #[serde(flatten)]
    pub backup: Backup,
    /// Whether the remote archive is encrypted with age (`NAME.age`).
    pub encrypted: bool,
}

/// What is left to do for one backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    /// Upload the archive, then its record.
    Copy,
    /// Upload the record again (its description or expiry changed).
    Record,
    /// Remove the archive and its record.
    Remove,
}

/// One backup's pending work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// What to do.
    pub job: Job,
    /// The backup (for a removal, only its id and name matter).
    pub backup: Backup,
    /// Whether the remote archive is, or is to be, encrypted.
    #[serde(default)]
    pub encrypted: bool,
    /// Attempts that failed so far.
    #[serde(default)]
    pub attempts: u32,
    /// Why the last attempt failed.
    #[serde(default)]
    pub reason: Option<String>,
    /// Set when the attempts ran out: the work waits for a retry by hand.
    #[serde(default)]
    pub gave_up: bool,
    /// Not before this time (the backoff after a failure).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
}

/// Everything kept in the state file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsiteState {
    /// The remote folder this state belongs to (`s3://BUCKET/PREFIX/TENANT`).
    pub target: String,
    /// Pending work by backup id.
    #[serde(default)]
    pub tasks: BTreeMap<u64, Task>,
    /// The records known in the remote folder, by backup id.
    #[serde(default)]
    pub remote: BTreeMap<u64, RemoteRecord>,
    /// When listing the remote folder was last tried.
    #[serde(default)]
    pub listed_at: Option<DateTime<Utc>>,
}

impl OffsiteState {
    /// The state in `file` for `target`; a fresh state when the file is
    /// missing or belongs to another target. A file that cannot be read is
    /// moved aside and logged, and a fresh state begins: the remote folder
    /// is listed again and only queued work is lost.
    pub fn load(file: &Path, target: &str) -> OffsiteState {
        let fresh = || OffsiteState { target: target.to_owned(), ..OffsiteState::default() };
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return fresh(),
            Err(err) => {
                tracing::error!(file = %file.display(), "cannot read the offsite state, starting afresh: {err}");
                return fresh();
            }
        };
        match serde_json::from_slice::<OffsiteState>(&bytes) {
            Ok(state) if state.target == target => state,
            Ok(state) => {
                tracing::warn!(
                    "the offsite target changed from {} to {target}; copies already made stay where they are",
                    state.target
                );
                let tasks = state.tasks.into_iter().filter(|(_, task)| task.job == Job::Copy).collect();
                OffsiteState { tasks, ..fresh() }
            }
            Err(err) => {
                let aside = moved_aside(file);
                let _ = std::fs::rename(file, &aside);
                tracing::error!(file = %file.display(), "the offsite state is damaged ({err}); moved to {}", aside.display());
                fresh()
            }
        }
    }

    /// Writes the state to `file` atomically.
    pub fn save(&self, file: &Path) -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(file, &json)
    }

    /// The tasks that may run at `now`, by id.
    pub fn due(&self, now: DateTime<Utc>) -> impl Iterator<Item = (u64, Task)> + '_ {
        self.tasks
            .iter()
            .filter(move |(_, task)| !task.gave_up && task.not_before.is_none_or(|at| at <= now))
            .map(|(id, task)| (*id, task.clone()))
    }

    /// The next task that may run at `now`, by id.
    pub fn next_due(&self, now: DateTime<Utc>) -> Option<(u64, Task)> {
        self.due(now).next()
    }

    /// When the earliest waiting task may run, if one waits.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.tasks.values().filter(|task| !task.gave_up).map(|task| task.not_before.unwrap_or_default()).min()
    }
}

/// Where a damaged state file is moved.
fn moved_aside(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".damaged-{}", Utc::now().format("%Y%m%d%H%M%S")));
    file.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: u64) -> Backup {
        Backup {
            id,
            name: format!("backup-20300131_1200_{id}.tar.gz"),
            created_at: DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
            description: String::new(),
            expiry: None,
            size: 10,
            sha256: "0".repeat(64),
            schedule_id: None,
        }
    }

    fn task(job: Job, id: u64) -> Task {
        Task { job, backup: backup(id), encrypted: false, attempts: 0, reason: None, gave_up: false, not_before: None }
    }

    #[test]
    fn state_round_trips_and_a_new_target_keeps_only_copies() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".kinesis/offsite.json");
        let mut state = OffsiteState::load(&file, "s3://a/t");
        state.tasks.insert(1, task(Job::Copy, 1));
        state.tasks.insert(2, task(Job::Remove, 2));
        state.remote.insert(3, RemoteRecord { backup: backup(3), encrypted: true });
        state.save(&file).unwrap();
        assert_eq!(OffsiteState::load(&file, "s3://a/t"), state);
        let moved = OffsiteState::load(&file, "s3://b/t");
        assert_eq!(moved.tasks.keys().copied().collect::<Vec<_>>(), [1]);
        assert!(moved.remote.is_empty());

        std::fs::write(&file, "{not json").unwrap();
        assert_eq!(OffsiteState::load(&file, "s3://a/t").tasks.len(), 0);
        assert!(!file.exists(), "the damaged file was moved aside");
    }

    #[test]
    fn tasks_wait_for_their_backoff() {
        let now = Utc::now();
        let mut state = OffsiteState::default();
        let mut waiting = task(Job::Copy, 1);
        waiting.not_before = Some(now + chrono::Duration::seconds(5));
        state.tasks.insert(1, waiting);
        assert_eq!(state.next_due(now), None);
        assert_eq!(state.next_wake(), Some(now + chrono::Duration::seconds(5)));
        let mut given_up = task(Job::Copy, 2);
        given_up.gave_up = true;
        state.tasks.insert(2, given_up);
        assert_eq!(state.next_due(now + chrono::Duration::seconds(6)).map(|(id, _)| id), Some(1));
    }
}
