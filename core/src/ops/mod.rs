//! The backup operations, the same for every face: the command line, the
//! HTTP API, the web pages, the schedule timer and an embedding
//! application all call [`Backups`]. The safety nets live here once:
//! consistent snapshots for every backup, one backup or restore per tenant
//! at a time (a second one is [`OpsError::Busy`] at once), the journaled
//! restore with its rollback, disk-full detection, and archive names
//! checked before a file is opened.

mod activity;
mod admission;
mod engine;
mod error;
mod import;
mod offsite;
mod restore;
mod snapshot;
mod space;

pub use activity::{Activity, ActivityReport, Operation, OperationKind};
pub use admission::{Admission, FairQueue, Turn};
pub use engine::{DataEngine, NoDatabase, WritesPaused};
pub use error::{ErrorKind, OpsError, size_in_words};
pub use import::ImportStaging;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use chrono::{DateTime, Utc};

use crate::model::{
    Backup, BackupPage, ExpiryChange, Schedule, ScheduleInput, SchedulePage, SchedulePatch, TickReport, VerifyReport,
    is_archive_name,
};
use crate::offsite::Offsite;
use crate::runtime::{CallError, Clock, Invocation, ProgressFn, Runtime, SystemClock};
use crate::tenant::leftovers::Before;
use crate::tenant::safe_files::{OpenedFile, SafeOpenError, open_regular};
use crate::tenant::tree_copy::tree_size;
use crate::tenant::{Tenant, TenantDirs};
use offsite::Change;
use snapshot::Snapshot;

/// Most ids one [`Backups::delete_many`] takes.
pub const MAX_BULK_IDS: usize = 1000;
/// Items read per page when an operation goes through all backups or
/// schedules.
const PAGE: u32 = 1000;

/// The backups of one tenant: the opened tenant, the plugin that makes
/// them, and the database whose files they hold.
pub struct Backups {
    tenant: Tenant,
    quota: Quota,
    admission: Option<Arc<dyn Admission>>,
    runtime: Arc<Runtime>,
    engine: Arc<dyn DataEngine>,
    clock: Arc<dyn Clock>,
    long_running: Mutex<()>,
    snapshots: AtomicU64,
    offsite: Option<Offsite>,
    activity: Arc<Activity>,
    /// An upload is being received (one at a time, so that one tenant's
    /// uploads cannot fill the disk it shares with others).
    uploading: Arc<AtomicBool>,
}

/// Limits on a tenant's backups; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Most bytes all backups may take.
    pub bytes: Option<u64>,
    /// Most backups kept.
    pub backups: Option<u64>,
}

/// What a tenant's backups take.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    /// How many there are.
    count: u64,
    /// Their bytes.
    bytes: u64,
    /// The size of the newest, when there is one.
    newest: Option<u64>,
}

/// The tenant's backup-or-restore slot and, with a shared queue, its turn.
struct Running<'a> {
    _slot: MutexGuard<'a, ()>,
    _turn: Option<Turn>,
}

/// A backup a bulk delete could not remove, and why.
#[derive(Debug)]
pub struct BulkFailure {
    /// The backup.
    pub id: u64,
    /// Why it was not deleted.
    pub error: OpsError,
}

impl Backups {
    /// The backups of `tenant`, made by `runtime`, around the database
    /// `engine`, on the system clock.
    pub fn new(tenant: Tenant, runtime: Arc<Runtime>, engine: Arc<dyn DataEngine>) -> Backups {
        let activity = Arc::new(Activity::after(tenant.recovery()));
        Backups {
            tenant,
            quota: Quota::default(),
            admission: None,
            runtime,
            engine,
            clock: Arc::new(SystemClock),
            long_running: Mutex::new(()),
            snapshots: AtomicU64::new(0),
            offsite: None,
            activity,
            uploading: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same with another clock (tests move time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Backups {
        self.clock = clock;
        self
    }

    /// The same with `quota` on the tenant's backups.
    pub fn with_quota(mut self, quota: Quota) -> Backups {
        self.quota = quota;
        self
    }

    /// The same with long operations (create, restore, verify, a due tick)
    /// admitted by `admission`, a queue shared with other tenants.
    pub fn with_admission(mut self, admission: Arc<dyn Admission>) -> Backups {
        self.admission = Some(admission);
        self
    }

    /// The tenant.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The loaded plugin.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// What the tenant's long operations are doing.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// An invocation of the plugin on `dirs`.
    fn invocation(&self, dirs: TenantDirs, progress: Option<ProgressFn>) -> Invocation {
        Invocation { dirs, clock: self.clock.clone(), progress, data_bytes: 0 }
    }

    /// An invocation on the tenant's own folders.
    fn live(&self) -> Invocation {
        self.invocation(self.tenant.dirs().clone(), None)
    }

    /// Starts the tenant's only backup or restore, or answers Busy; then
    /// waits for a turn in the shared queue of long operations.
    fn begin_long(&self) -> Result<Running<'_>, OpsError> {
        let slot = match self.long_running.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Err(OpsError::Busy),
        };
        Ok(Running { _slot: slot, _turn: self.turn() })
    }

    /// A turn in the shared queue of long operations, when there is one.
    fn turn(&self) -> Option<Turn> {
        let instances = self.runtime.instances_per_job() as usize;
        self.admission.as_ref().map(|admission| admission.admit(&self.tenant.root().to_string_lossy(), instances))
    }

    /// What the tenant's backups take now: how many, their bytes, and the
    /// size of the newest.
    fn usage(&self) -> Result<Usage, OpsError> {
        let mut usage = Usage::default();
        each_page(
            |offset| self.list(None, PAGE, offset).map(|page| (page.backups, page.amount)),
            |backups| {
                usage.newest = usage.newest.or(backups.first().map(|b| b.size));
                usage.count += backups.len() as u64;
                usage.bytes += backups.iter().map(|b| b.size).sum::<u64>();
                true
            },
        )?;
        Ok(usage)
    }

    /// Bytes the tenant's backups may still take under its quota, `None`
    /// without a byte quota.
    fn quota_room(&self) -> Result<Option<u64>, OpsError> {
        let Some(allowed) = self.quota.bytes else {
            return Ok(None);
        };
        Ok(Some(allowed.saturating_sub(self.usage()?.bytes)))
    }

    /// Refuses a new backup that would pass the tenant's quota: a create
    /// (`size` unknown: about the newest backup's) or an upload of `size`
    /// bytes.
    fn check_quota(&self, size: Option<u64>) -> Result<(), OpsError> {
        if self.quota.bytes.is_none() && self.quota.backups.is_none() {
            return Ok(());
        }
        let Usage { count, bytes: used, newest } = self.usage()?;
        if let Some(allowed) = self.quota.backups
            && count >= allowed
        {
            return Err(OpsError::QuotaExceeded(format!(
                "the tenant keeps {count} backups and its quota allows {allowed}; delete some or give them an expiry"
            )));
        }
        if let Some(allowed) = self.quota.bytes {
            let next = size.or(newest).unwrap_or_else(|| self.content_size());
            if used.saturating_add(next) > allowed {
                return Err(OpsError::QuotaExceeded(format!(
                    "the tenant's backups use {} of the {} its quota allows, and the next one needs about {}; \
                     delete some or give them an expiry",
                    size_in_words(used),
                    size_in_words(allowed),
                    size_in_words(next)
                )));
            }
        }
        Ok(())
    }

    /// Runs `call` on a fresh consistent snapshot of `data/`.
    fn on_snapshot<T>(
        &self,
        progress: Option<ProgressFn>,
        call: impl FnOnce(&Runtime, &Invocation) -> Result<T, crate::runtime::CallError>,
    ) -> Result<T, OpsError> {
        let n = self.snapshots.fetch_add(1, Ordering::Relaxed);
        let snapshot = Snapshot::take(&self.tenant, self.engine.as_ref(), n)?;
        let content = self.content_size();
        let invocation =
            Invocation { data_bytes: content, ..self.invocation(snapshot.dirs(self.tenant.dirs()), progress) };
        let backups = &self.tenant.dirs().backups;
        let space = space::Space::before(backups, content);
        std::fs::create_dir_all(&self.tenant.work().root).map_err(|e| OpsError::Io(e.to_string()))?;
        let before = Before::note(backups, &self.tenant.work().plugin_call_note());
        call(&self.runtime, &invocation).map_err(|err| {
            let _held = self.runtime.hold_tenant(self.tenant.root());
            before.clean_after(err.stopped_the_plugin());
            space.explain(err)
        })
    }

    /// Makes a backup of a consistent snapshot now. Busy at once when
    /// another backup or restore runs.
    pub fn create(
        &self,
        description: &str,
        expiry: Option<DateTime<Utc>>,
        progress: Option<ProgressFn>,
    ) -> Result<Backup, OpsError> {
        let _running = self.begin_long()?;
        self.check_quota(None)?;
        self.adopt_newest_remote()?;
        let started = std::time::Instant::now();
        let tracked = self.activity.start(OperationKind::Create, None);
        let made =
            self.on_snapshot(tracked.progress(progress), |runtime, inv| runtime.create(inv, description, expiry));
        tracked.finish(&made, made.as_ref().ok().map(|b| b.id), true);
        let backup = made?;
        tracing::info!("created backup {} in {} ms: {} bytes", backup.name, started.elapsed().as_millis(), backup.size);
        self.offsite_after(Change::Created(&backup));
        Ok(backup)
    }

    /// A page of backups, newest first.
    pub fn list(&self, search: Option<&str>, limit: u32, offset: u32) -> Result<BackupPage, OpsError> {
        Ok(self.runtime.list(&self.live(), search, limit, offset)?)
    }

    /// One backup.
    pub fn get(&self, id: u64) -> Result<Backup, OpsError> {
        Ok(self.runtime.get(&self.live(), id)?)
    }

    /// Changes a backup's description and expiry.
    pub fn update(&self, id: u64, description: Option<&str>, expiry: ExpiryChange) -> Result<Backup, OpsError> {
        let backup = self.runtime.update(&self.live(), id, description, expiry)?;
        self.offsite_after(Change::Updated(&backup));
        self.activity.changed();
        Ok(backup)
    }

    /// Deletes a backup and its archive, and its offsite copy.
    pub fn delete(&self, id: u64) -> Result<(), OpsError> {
        let deleted = match self.runtime.delete(&self.live(), id) {
            Ok(()) => {
                self.offsite_after(Change::Deleted(id));
                Ok(())
            }
            Err(CallError::NotFound(_)) if self.delete_remote_only(id) => Ok(()),
            Err(err) => Err(err.into()),
        };
        self.activity.change(deleted)
    }

    /// Deletes several backups (each id once); reports each.
    pub fn delete_many(&self, ids: &[u64]) -> (Vec<u64>, Vec<BulkFailure>) {
        let mut seen = std::collections::HashSet::new();
        let (mut deleted, mut failed) = (Vec::new(), Vec::new());
        for &id in ids.iter().filter(|id| seen.insert(**id)) {
            match self.delete(id) {
                Ok(()) => deleted.push(id),
                Err(error) => failed.push(BulkFailure { id, error }),
            }
        }
        (deleted, failed)
    }

    /// Re-reads a backup's archive and checks it.
    pub fn verify(&self, id: u64, progress: Option<ProgressFn>) -> Result<VerifyReport, OpsError> {
        let size = self.ensure_local(id)?.size;
        let _turn = self.turn();
        let tracked = self.activity.start(OperationKind::Verify, Some(id));
        let invocation =
            Invocation { data_bytes: size, ..self.invocation(self.tenant.dirs().clone(), tracked.progress(progress)) };
        let checked = self.verify_with(&invocation, id);
        tracked.finish(&checked, None, false);
        checked
    }

    /// Runs the plugin's check of backup `id`.
    fn verify_with(&self, invocation: &Invocation, id: u64) -> Result<VerifyReport, OpsError> {
        match self.runtime.verify(invocation, id) {
            // A verify reads without holding changes back: when the backup
            // was deleted meanwhile, that is what the caller hears.
            Err(CallError::Storage(message)) => match self.get(id) {
                Err(gone @ OpsError::Plugin(CallError::NotFound(_))) => Err(gone),
                _ => Err(OpsError::Plugin(CallError::Storage(message))),
            },
            answer => Ok(answer?),
        }
    }

    /// Opens a backup's archive for reading (a download). The file name
    /// comes from the record and must have the archive shape; the file is
    /// opened without following links.
    pub fn open_archive(&self, id: u64) -> Result<(Backup, OpenedFile), OpsError> {
        let backup = self.ensure_local(id)?;
        if !is_archive_name(&backup.name, backup.id) {
            return Err(OpsError::Io(format!(
                "the catalog names the archive of backup {} {:?}, which is not an archive file name; it is not served",
                backup.id, backup.name
            )));
        }
        match open_regular(&self.tenant.dirs().backups, &backup.name) {
            Ok(file) => Ok((backup, file)),
            Err(SafeOpenError::NotFound) => Err(OpsError::ArchiveMissing { id: backup.id, name: backup.name }),
            Err(SafeOpenError::Io(err)) => Err(OpsError::Io(format!("cannot open {}: {err}", backup.name))),
        }
    }

    /// Adds a schedule.
    pub fn schedule_create(&self, input: &ScheduleInput) -> Result<Schedule, OpsError> {
        self.activity.change(self.runtime.schedule_create(&self.live(), input).map_err(OpsError::from))
    }

    /// A page of schedules.
    pub fn schedule_list(&self, limit: u32, offset: u32) -> Result<SchedulePage, OpsError> {
        Ok(self.runtime.schedule_list(&self.live(), limit, offset)?)
    }

    /// Changes a schedule.
    pub fn schedule_update(&self, id: u64, patch: &SchedulePatch) -> Result<Schedule, OpsError> {
        self.activity.change(self.runtime.schedule_update(&self.live(), id, patch).map_err(OpsError::from))
    }

    /// Removes a schedule; its backups stay.
    pub fn schedule_delete(&self, id: u64) -> Result<(), OpsError> {
        self.activity.change(self.runtime.schedule_delete(&self.live(), id).map_err(OpsError::from))
    }

    /// Runs what is due at `now`; `None` when a due schedule must wait
    /// because a backup or restore runs (it runs at the next tick).
    ///
    /// Only a tick with a due schedule makes a backup, so only such a tick
    /// takes the backup-or-restore slot and a snapshot: an idle tick never
    /// makes a person's backup fail with Busy. An idle tick still removes
    /// expired backups.
    pub fn tick(&self, now: DateTime<Utc>) -> Result<Option<TickReport>, OpsError> {
        if !self.any_due(now)? {
            let report = self.runtime.schedule_tick(&self.live(), now)?;
            self.offsite_after(Change::Ticked(&report));
            if !report.expired.is_empty() {
                self.activity.changed();
            }
            return Ok(Some(report));
        }
        let Ok(_running) = self.begin_long() else {
            return Ok(None);
        };
        if let Err(err) = self.adopt_newest_remote() {
            tracing::warn!("the newest offsite backup could not be fetched before the schedule runs: {err}");
        }
        let tracked = self.activity.start(OperationKind::Scheduled, None);
        let ticked = self.on_snapshot(tracked.progress(None), |runtime, inv| runtime.schedule_tick(inv, now));
        let made = ticked.as_ref().ok().and_then(|report| report.created.first().map(|b| b.id));
        tracked.finish(&ticked, made, true);
        let report = ticked?;
        self.offsite_after(Change::Ticked(&report));
        Ok(Some(report))
    }

    /// Whether an enabled schedule is due at `now`.
    fn any_due(&self, now: DateTime<Utc>) -> Result<bool, OpsError> {
        let mut due = false;
        each_page(
            |offset| self.schedule_list(PAGE, offset).map(|page| (page.schedules, page.amount)),
            |schedules| {
                due = schedules.iter().any(|s| s.enabled && s.next_run.is_some_and(|next| next <= now));
                !due
            },
        )?;
        Ok(due)
    }

    /// Bytes the tenant's data, public files and translations hold.
    pub fn content_size(&self) -> u64 {
        let dirs = self.tenant.dirs();
        [&dirs.data, &dirs.public, &dirs.translations].iter().map(|dir| tree_size(dir).unwrap_or(0)).sum()
    }
}

/// Fetches page after page (`fetch` answers a page at an offset and the
/// total) and hands each to `visit` until it answers false or the pages end.
fn each_page<T>(
    mut fetch: impl FnMut(u32) -> Result<(Vec<T>, u64), OpsError>,
    mut visit: impl FnMut(Vec<T>) -> bool,
) -> Result<(), OpsError> {
    let mut offset = 0;
    loop {
        let (items, total) = fetch(offset)?;
        let last = items.is_empty();
        if !visit(items) || last {
            return Ok(());
        }
        offset += PAGE;
        if u64::from(offset) >= total {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
