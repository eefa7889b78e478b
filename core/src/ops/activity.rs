//! What a tenant's long operations are doing, kept in memory: each running
//! create, restore, verify or scheduled backup with the bytes the plugin has
//! reported so far, the last few that finished, a counter that moves with
//! every change to the backups or schedules, and what the restore journal
//! settled when the tenant was opened. The operations feed it through the
//! plugin's progress callbacks; every face reads it (the HTTP API answers it
//! at `GET /backup/activity`, which the web pages poll).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::OpsError;
use crate::runtime::ProgressFn;
use crate::tenant::journal::Recovery;

/// Finished operations remembered.
const KEPT: usize = 8;

/// What a long operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// A backup made by a person.
    Create,
    /// A restore.
    Restore,
    /// A check of an archive.
    Verify,
    /// A backup made by the schedule timer.
    Scheduled,
}

/// One long operation, running or finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operation {
    /// Counts up from 1 in each run of the server.
    pub id: u64,
    /// What it does.
    pub kind: OperationKind,
    /// The backup it restores or verifies, or the one it made.
    pub backup_id: Option<u64>,
    /// Bytes done so far, as the plugin reports them.
    pub done: u64,
    /// Bytes in all, as the plugin reports them; 0 until it knows.
    pub total: u64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished; `null` while it runs.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed; `null` while it runs and when it succeeded.
    pub error: Option<String>,
}

/// What [`Activity::report`] answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityReport {
    /// Operations running now, oldest first.
    pub running: Vec<Operation>,
    /// The last operations that finished, newest first.
    pub finished: Vec<Operation>,
    /// Moves up with every change to the backups or schedules (a backup
    /// made, changed, deleted or expired, a restore, a schedule run or
    /// changed): a client that saw another value reloads its lists.
    pub changes: u64,
    /// When the server found a restore that a stop interrupted: what the
    /// restore journal did about it, in words; `null` otherwise.
    pub interrupted_restore: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    running: Vec<Operation>,
    finished: VecDeque<Operation>,
    changes: u64,
}

/// The in-memory record of a tenant's long operations.
#[derive(Debug, Default)]
pub struct Activity {
    state: Mutex<State>,
    interrupted_restore: Option<String>,
}

impl Activity {
    /// A fresh record for a tenant whose opening settled `recovery`.
    pub fn after(recovery: Recovery) -> Activity {
        let interrupted_restore = match recovery {
            Recovery::Nothing => None,
            Recovery::StagingRemoved => Some(
                "A restore was stopped by a server stop before it changed anything: the data is exactly as it was \
                 before that restore."
                    .to_owned(),
            ),
            Recovery::RolledBack { backup_id } => Some(format!(
                "The restore of backup {backup_id} was stopped by a server stop. The restore journal put the \
                 previous files back: the data is exactly as it was before that restore, nothing changed."
            )),
            Recovery::Finished { backup_id } => Some(format!(
                "The restore of backup {backup_id} was stopped by a server stop after its files were swapped in. \
                 The restore journal finished it: the data is exactly that of backup {backup_id}."
            )),
        };
        Activity { state: Mutex::default(), interrupted_restore }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that an operation of `kind` starts now.
    pub fn start(self: &Arc<Self>, kind: OperationKind, backup_id: Option<u64>) -> Tracked {
        let mut state = self.lock();
        state.next_id += 1;
        let id = state.next_id;
        state.running.push(Operation {
            id,
            kind,
            backup_id,
            done: 0,
            total: 0,
            started_at: Utc::now(),
            finished_at: None,
            error: None,
        });
        Tracked { activity: self.clone(), id, open: true }
    }

    /// Notes a change to the backups or schedules.
    pub fn changed(&self) {
        self.lock().changes += 1;
    }

    /// Notes a change when `result` is a success; passes it on.
    pub fn change<T>(&self, result: Result<T, OpsError>) -> Result<T, OpsError> {
        if result.is_ok() {
            self.changed();
        }
        result
    }

    /// What runs now and what finished last.
    pub fn report(&self) -> ActivityReport {
        let state = self.lock();
        ActivityReport {
            running: state.running.clone(),
            finished: state.finished.iter().cloned().collect(),
            changes: state.changes,
            interrupted_restore: self.interrupted_restore.clone(),
        }
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut Operation)) {
        if let Some(operation) = self.lock().running.iter_mut().find(|op| op.id == id) {
            change(operation);
        }
    }

    fn end(&self, id: u64, backup_id: Option<u64>, error: Option<String>, changed: bool) {
        let mut state = self.lock();
        let Some(index) = state.running.iter().position(|op| op.id == id) else { return };
        let mut operation = state.running.remove(index);
        operation.finished_at = Some(Utc::now());
        operation.backup_id = backup_id.or(operation.backup_id);
        if error.is_none() && operation.total > 0 {
            operation.done = operation.total;
        }
        operation.error = error;
        state.finished.push_front(operation);
        state.finished.truncate(KEPT);
        if changed {
            state.changes += 1;
        }
    }
}

/// A running operation in the record; dropping it unfinished records that
/// it stopped.
pub struct Tracked {
    activity: Arc<Activity>,
    id: u64,
    open: bool,
}

impl Tracked {
    /// A progress callback that moves this operation's bytes, then calls
    /// `outer`.
    pub fn progress(&self, outer: Option<ProgressFn>) -> Option<ProgressFn> {
        let (activity, id) = (self.activity.clone(), self.id);
        Some(Arc::new(move |done, total| {
            activity.update(id, |op| {
                op.done = done;
                op.total = total;
            });
            if let Some(outer) = &outer {
                outer(done, total);
            }
        }))
    }

    /// Records the outcome; `made` is the backup the operation made, and
    /// `changed` whether a success changed the backups or schedules.
    pub fn finish<T>(mut self, result: &Result<T, OpsError>, made: Option<u64>, changed: bool) {
        self.open = false;
        match result {
            Ok(_) => self.activity.end(self.id, made, None, changed),
            Err(err) => self.activity.end(self.id, None, Some(err.to_string()), false),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.open {
            self.activity.end(self.id, None, Some("the operation stopped unexpectedly".to_owned()), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_the_running_operation_and_finishing_keeps_it() {
        let activity = Arc::new(Activity::after(Recovery::Nothing));
        let tracked = activity.start(OperationKind::Verify, Some(3));
        let seen = Arc::new(Mutex::new(None));
        let outer_seen = seen.clone();
        let outer: ProgressFn = Arc::new(move |done, total| *outer_seen.lock().unwrap() = Some((done, total)));
        tracked.progress(Some(outer)).unwrap()(5, 10);
        let report = activity.report();
        assert_eq!((report.running[0].done, report.running[0].total), (5, 10));
        assert_eq!(*seen.lock().unwrap(), Some((5, 10)), "the outer callback is still called");
        tracked.finish(&Ok::<_, OpsError>(()), None, true);
        let report = activity.report();
        assert!(report.running.is_empty());
        assert_eq!((report.finished[0].done, report.finished[0].backup_id, report.changes), (10, Some(3), 1));
    }

    #[test]
    fn a_failure_or_a_drop_is_recorded_without_a_change() {
        let activity = Arc::new(Activity::after(Recovery::RolledBack { backup_id: 4 }));
        activity.start(OperationKind::Create, None).finish(&Err::<(), _>(OpsError::Busy), Some(9), true);
        drop(activity.start(OperationKind::Restore, Some(2)));
        let report = activity.report();
        assert_eq!(report.changes, 0);
        assert_eq!(report.finished.len(), 2);
        assert!(report.finished.iter().all(|op| op.error.is_some()));
        assert!(report.interrupted_restore.unwrap().contains("nothing changed"));
    }
}
