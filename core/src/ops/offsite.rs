//! Offsite copies in the operations: every face gets them through
//! [`Backups`]. A create (by hand, by a schedule or an upload) queues a
//! copy; an update queues the record again; a delete or an expiry queues
//! the removal. Lists and lookups add each backup's offsite state and the
//! backups that only the bucket still holds (a new machine, a lost archive);
//! a restore, verify or download of such a backup first fetches it into
//! `backups/`, checked against its SHA-256, where the catalog adopts it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::{Backups, OpsError, PAGE};
use crate::model::{Backup, ExpiryChange, ListedBackup, ListedPage, OffsiteStatus, TickReport, archive_id};
use crate::offsite::{Mode, Offsite, OffsiteConfig};
use crate::runtime::CallError;

/// How long a listing of the bucket is trusted before a list lists it again.
const LISTING_AGE: Duration = Duration::from_secs(60);

impl Backups {
    /// The same with offsite copies under `config`. `mode` says how copies
    /// run; a tenant opened for reading only never copies nor saves.
    pub fn with_offsite(mut self, config: OffsiteConfig, mode: Mode) -> Backups {
        let mode = if self.tenant.is_locked() { mode } else { Mode::ReadOnly };
        let offsite = Offsite::open(&self.tenant, config, mode);
        let activity = Arc::downgrade(&self.activity);
        offsite.on_change(Arc::new(move || {
            if let Some(activity) = activity.upgrade() {
                activity.changed();
            }
        }));
        self.offsite = Some(offsite);
        self
    }

    /// The tenant's offsite copies, when a target is configured.
    pub fn offsite(&self) -> Option<&Offsite> {
        self.offsite.as_ref()
    }

    /// `backup` with its offsite state, as the faces show it.
    pub fn listed(&self, backup: Backup) -> ListedBackup {
        let status = self.offsite.as_ref().map_or_else(OffsiteStatus::none, |offsite| offsite.status(backup.id));
        ListedBackup::new(backup, status, true)
    }

    /// A page of backups, newest first, with their offsite state, including
    /// the backups only the bucket holds.
    pub fn list_listed(&self, search: Option<&str>, limit: u32, offset: u32) -> Result<ListedPage, OpsError> {
        let remote = self.remote_only(search);
        if remote.is_empty() {
            let page = self.list(search, limit, offset)?;
            let backups = page.backups.into_iter().map(|backup| self.listed(backup)).collect();
            return Ok(ListedPage { backups, amount: page.amount });
        }
        // The page is cut from the local backups up to its end merged with
        // every remote-only one: local backups past that cannot come before.
        let end = u64::from(offset) + u64::from(limit);
        let mut local = Vec::new();
        let amount = loop {
            let page = self.list(search, PAGE, local.len() as u32)?;
            let last = page.backups.is_empty();
            local.extend(page.backups);
            if last || local.len() as u64 >= end.min(page.amount) {
                break page.amount;
            }
        };
        let mut merged: Vec<ListedBackup> = local.into_iter().map(|backup| self.listed(backup)).collect();
        let total = amount + remote.len() as u64;
        merged.extend(remote);
        merged.sort_by(|a, b| b.backup.created_at.cmp(&a.backup.created_at).then(b.backup.id.cmp(&a.backup.id)));
        let backups = merged.into_iter().skip(offset as usize).take(limit as usize).collect();
        Ok(ListedPage { backups, amount: total })
    }

    /// One backup with its offsite state, also when only the bucket holds it.
    pub fn get_listed(&self, id: u64) -> Result<ListedBackup, OpsError> {
        match self.get(id) {
            Ok(backup) => Ok(self.listed(backup)),
            Err(OpsError::Plugin(CallError::NotFound(message))) => self
                .remote_only(None)
                .into_iter()
                .find(|listed| listed.backup.id == id)
                .ok_or(OpsError::Plugin(CallError::NotFound(message))),
            Err(err) => Err(err),
        }
    }

    /// Copies backup `id` offsite again now: after a failed copy, or one
    /// made before the target was configured.
    pub fn offsite_retry(&self, id: u64) -> Result<ListedBackup, OpsError> {
        let offsite = self.offsite.as_ref().ok_or(OpsError::NoOffsite)?;
        let backup = self.get(id)?;
        if !offsite.retry(id) {
            offsite.copy(&backup);
        }
        Ok(self.listed(backup))
    }

    /// Runs the queued offsite work once in this thread (a command that
    /// ends after its operation); answers what is still pending.
    pub fn offsite_run_pending(&self) -> usize {
        self.offsite.as_ref().map_or(0, |offsite| {
            offsite.run_pending();
            offsite.pending()
        })
    }

    /// The remote-only backups matching `search`, newest first: records in
    /// the bucket whose id has no archive in `backups/` and that have not
    /// expired.
    fn remote_only(&self, search: Option<&str>) -> Vec<ListedBackup> {
        let Some(offsite) = &self.offsite else { return Vec::new() };
        offsite.refresh_listing(LISTING_AGE);
        let records = offsite.remote_records();
        if records.is_empty() {
            return Vec::new();
        }
        let local = self.local_archive_ids();
        let now = self.clock.now();
        let needle = search.map(|text| text.trim().to_lowercase()).filter(|text| !text.is_empty());
        let matches = |backup: &Backup| {
            needle.as_ref().is_none_or(|needle| {
                backup.name.to_lowercase().contains(needle) || backup.description.to_lowercase().contains(needle)
            })
        };
        records
            .into_iter()
            .map(|record| record.backup)
            .filter(|backup| !local.contains(&backup.id) && backup.expiry.is_none_or(|at| at > now) && matches(backup))
            .map(|backup| ListedBackup::new(backup, OffsiteStatus::copied(), false))
            .collect()
    }

    /// The ids of the archives in `backups/`.
    pub(crate) fn local_archive_ids(&self) -> HashSet<u64> {
        std::fs::read_dir(&self.tenant.dirs().backups)
            .map(|entries| entries.flatten().filter_map(|e| archive_id(e.file_name().to_str()?)).collect())
            .unwrap_or_default()
    }

    /// Backup `id`, its archive fetched from the bucket first when
    /// `backups/` lacks it, with the description and expiry its name does
    /// not carry put back. Without a target or a remote copy the backup is
    /// answered as the catalog has it (or not found), and the operation
    /// reports a missing archive as usual.
    pub(crate) fn ensure_local(&self, id: u64) -> Result<Backup, OpsError> {
        let local = self.get(id);
        let Some(offsite) = &self.offsite else { return local };
        match &local {
            Ok(backup) if self.tenant.dirs().backups.join(&backup.name).is_file() => return local,
            Ok(_) | Err(OpsError::Plugin(CallError::NotFound(_))) => {}
            Err(_) => return local,
        }
        offsite.refresh_listing(LISTING_AGE);
        let Some(record) = offsite.remote_record(id) else { return local };
        let now = self.clock.now();
        if record.backup.expiry.is_some_and(|at| at <= now) {
            return local;
        }
        offsite.fetch(&record)?;
        let expiry = record.backup.expiry.map_or(ExpiryChange::Keep, ExpiryChange::Set);
        match self.runtime.update(&self.live(), id, Some(&record.backup.description), expiry) {
            Ok(backup) => Ok(backup),
            Err(err) => {
                tracing::warn!("backup {id} was fetched, but its description and expiry could not be put back: {err}");
                self.get(id)
            }
        }
    }

    /// Before a create: when the bucket's newest backup has a higher id than
    /// every local archive and is not local, it is fetched, so that the
    /// catalog (which keeps its ids above every id it has seen) never gives
    /// a new backup an id the bucket already uses.
    pub(crate) fn adopt_newest_remote(&self) -> Result<(), OpsError> {
        let Some(offsite) = &self.offsite else { return Ok(()) };
        offsite.refresh_listing(LISTING_AGE);
        let Some(newest) = offsite.remote_records().into_iter().map(|record| record.backup.id).max() else {
            return Ok(());
        };
        let local = self.local_archive_ids();
        if local.iter().any(|id| *id >= newest) {
            return Ok(());
        }
        tracing::info!("fetching offsite backup {newest} so that new backup ids follow the ones in the bucket");
        match self.ensure_local(newest) {
            // Not local and not fetched (its remote copy expired meanwhile).
            Ok(_) | Err(OpsError::Plugin(CallError::NotFound(_))) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Queues what a successful create, tick, update or delete means
    /// offsite.
    pub(crate) fn offsite_after(&self, change: Change<'_>) {
        let Some(offsite) = &self.offsite else { return };
        match change {
            Change::Created(backup) => offsite.copy(backup),
            Change::Updated(backup) => offsite.refresh(backup),
            Change::Deleted(id) => {
                offsite.remove(id);
            }
            Change::Ticked(report) => {
                report.created.iter().for_each(|backup| offsite.copy(backup));
                for id in &report.expired {
                    offsite.remove(*id);
                }
            }
        }
    }

    /// Deletes backup `id` when only the bucket holds it; answers whether
    /// it did.
    pub(crate) fn delete_remote_only(&self, id: u64) -> bool {
        let Some(offsite) = &self.offsite else { return false };
        self.remote_only(None).iter().any(|listed| listed.backup.id == id) && offsite.remove(id)
    }
}

/// A successful change, as the offsite copies see it.
pub(crate) enum Change<'a> {
    /// A backup was made.
    Created(&'a Backup),
    /// A backup's description or expiry changed.
    Updated(&'a Backup),
    /// A backup was deleted.
    Deleted(u64),
    /// A tick made and expired backups.
    Ticked(&'a TickReport),
}
