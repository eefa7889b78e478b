//! The copy loop: takes the next due task of a tenant's queue, runs it
//! against the bucket, and records the outcome. A failed attempt waits
//! (doubling from the policy's first wait up to its longest) and is tried
//! again, until its attempts run out and it is marked failed with its
//! reason. One thread per tenant with work; it ends when the queue is empty.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::digest::{HashingReader, mismatch};
use super::queue::{Job, RemoteRecord, Task};
use super::target::{archive_file, record_file};
use super::{OffsiteError, Remote, Shared, lock};
use crate::tenant::safe_files::{SafeOpenError, open_regular};

/// How a task ended.
enum Outcome {
    /// Done; for a copy or record, the record now in the bucket.
    Done(Option<RemoteRecord>),
    /// Failed; try again later.
    Failed(OffsiteError),
    /// The work no longer makes sense (the local archive is gone).
    Dropped(String),
}

/// Starts the worker of `shared` when it has runnable work and none runs.
pub(super) fn ensure_running(shared: &Arc<Shared>) {
    let mut working = lock(&shared.working);
    if *working || lock(&shared.state).next_wake().is_none() {
        return;
    }
    *working = true;
    let owned = shared.clone();
    let spawned = std::thread::Builder::new().name("offsite-copy".into()).spawn(move || run(owned));
    if let Err(err) = spawned {
        *working = false;
        tracing::error!("cannot start the offsite copy thread: {err}");
    }
}

/// The worker: runs tasks as they become due, ends when none is left.
fn run(shared: Arc<Shared>) {
    loop {
        let due = lock(&shared.state).next_due(Utc::now());
        if let Some((id, task)) = due {
            let remote = lock(&shared.remote).clone();
            attempt(&shared, &remote, id, task);
            continue;
        }
        let mut working = lock(&shared.working);
        let state = lock(&shared.state);
        let Some(at) = state.next_wake() else {
            *working = false;
            return;
        };
        drop(working);
        let wait =
            (at - Utc::now()).to_std().unwrap_or_default().clamp(Duration::from_millis(10), Duration::from_secs(60));
        let _ = shared.wake.wait_timeout(state, wait);
    }
}

/// Runs every task due now once, in the calling thread.
pub(super) fn run_due(shared: &Arc<Shared>, remote: &Remote) {
    let now = Utc::now();
    let due: Vec<(u64, Task)> = lock(&shared.state).due(now).collect();
    for (id, task) in due {
        attempt(shared, remote, id, task);
    }
}

/// Runs `task` once and records the outcome.
fn attempt(shared: &Shared, remote: &Remote, id: u64, task: Task) {
    let outcome = match task.job {
        Job::Copy => copy(shared, remote, &task),
        Job::Record => put_record(remote, &task.backup, task.encrypted).map(Some),
        Job::Remove => remove(remote, &task).map(|()| None),
    };
    let outcome = match outcome {
        Ok(record) => Outcome::Done(record),
        Err(OffsiteError::Local(reason)) if task.job == Job::Copy => Outcome::Dropped(reason),
        Err(err) => Outcome::Failed(err),
    };
    let mut state = lock(&shared.state);
    let unchanged = state.tasks.get(&id) == Some(&task);
    match outcome {
        Outcome::Done(record) => {
            tracing::info!(backup = id, "offsite {:?} done in {}", task.job, remote.store.describe());
            match record {
                Some(record) => state.remote.insert(id, record),
                None => state.remote.remove(&id),
            };
            if unchanged {
                state.tasks.remove(&id);
            } else if let Some(current) = state.tasks.get_mut(&id)
                && current.job == Job::Copy
                && task.job == Job::Copy
            {
                // Changed while it was copied: only the record is left to write.
                current.job = Job::Record;
            }
        }
        Outcome::Dropped(reason) => {
            tracing::warn!(backup = id, "offsite copy dropped: {reason}");
            if unchanged {
                state.tasks.remove(&id);
            }
        }
        Outcome::Failed(err) => {
            if let Some(current) = state.tasks.get_mut(&id).filter(|_| unchanged) {
                current.attempts += 1;
                current.reason = Some(err.to_string());
                let policy = remote.config.retry;
                if current.attempts >= policy.attempts {
                    current.gave_up = true;
                    tracing::error!(
                        backup = id,
                        "offsite {:?} failed {} times, giving up: {err}",
                        task.job,
                        current.attempts
                    );
                } else {
                    let wait = policy.wait_after(current.attempts);
                    current.not_before = Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                    tracing::warn!(backup = id, "offsite {:?} failed, trying again in {wait:?}: {err}", task.job);
                }
            }
        }
    }
    if let Err(err) = state.save(&shared.file) {
        tracing::error!("cannot save the offsite state {}: {err}", shared.file.display());
    }
    drop(state);
    shared.wake.notify_all();
    let hook = lock(&shared.on_change).clone();
    if let Some(hook) = hook {
        hook();
    }
}

/// Uploads the archive (encrypted when configured), checking it against
/// its record as it is read, then the record.
fn copy(shared: &Shared, remote: &Remote, task: &Task) -> Result<Option<RemoteRecord>, OffsiteError> {
    let backup = &task.backup;
    let path = shared.backups.join(&backup.name);
    let file = match open_regular(&shared.backups, &backup.name) {
        Ok(opened) => opened.file,
        Err(SafeOpenError::NotFound) => {
            return Err(OffsiteError::Local(format!("{} is missing, or not a regular file", path.display())));
        }
        Err(SafeOpenError::Io(err)) => {
            return Err(OffsiteError::Local(format!("cannot read {}: {err}", path.display())));
        }
    };
    let encrypt_to = remote.config.encrypt_to.clone();
    let encrypted = encrypt_to.is_some();
    let key = archive_file(&backup.name, encrypted);
    let mut reader = HashingReader::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut upload = remote.store.upload(&key);
    let failed_write = |err: std::io::Error| OffsiteError::Remote(format!("uploading {}: {err}", backup.name));
    match &encrypt_to {
        Some(to) => {
            let mut sealed = to.wrap(&mut upload)?;
            std::io::copy(&mut reader, &mut sealed).map_err(failed_write)?;
            sealed.finish().map_err(failed_write)?;
        }
        None => {
            std::io::copy(&mut reader, &mut upload).map_err(failed_write)?;
        }
    }
    if let Some(reason) = mismatch(&reader.finish(), backup) {
        return Err(OffsiteError::Local(format!("the local archive changed: {reason}")));
    }
    upload.finish()?;
    put_record(remote, backup, encrypted).map(Some)
}

/// Writes a backup's record beside its archive.
fn put_record(remote: &Remote, backup: &crate::model::Backup, encrypted: bool) -> Result<RemoteRecord, OffsiteError> {
    let record = RemoteRecord { backup: backup.clone(), encrypted };
    let json = serde_json::to_vec_pretty(&record).map_err(|err| OffsiteError::Local(err.to_string()))?;
    remote.store.put_small(&record_file(&backup.name), json)?;
    Ok(record)
}

/// Removes a backup's record, then its archive (in both forms).
fn remove(remote: &Remote, task: &Task) -> Result<(), OffsiteError> {
    let name = &task.backup.name;
    remote.store.delete(&record_file(name))?;
    remote.store.delete(&archive_file(name, false))?;
    remote.store.delete(&archive_file(name, true))
}
