//! A tenant: one root folder holding `.env`, `data/`, `public/`,
//! `translations/` and `backups/`, plus the host's working folders under
//! `.kinesis/`. This module owns the layout and every name in it
//! ([`layout`]), reading and writing `.env` ([`env`], [`env_file`],
//! [`settings`]), the lock that keeps a second writer process out
//! ([`lock`]), the restore journal and its recovery ([`journal`]), and the
//! what an interrupted plugin call left ([`leftovers`]), and the file
//! primitives they share ([`files`], [`tree_copy`], [`safe_files`]).
//!
//! [`Tenant::open`] is the one way in: it creates missing folders, takes the
//! lock when asked, settles a restore a crash interrupted and removes stale
//! snapshots, so that every face (server, CLI, an embedding application)
//! finds the tenant whole.

pub mod env;
pub mod env_file;
pub mod files;
pub mod hosting;
pub mod journal;
pub mod layout;
pub mod leftovers;
pub mod lock;
pub mod safe_files;
pub mod settings;
pub mod tree_copy;

use std::path::{Path, PathBuf};

pub use env::EnvError;
pub use layout::{LOCK_FILE, RestoreDirs, TenantDirs, WorkDirs};
pub use lock::{LockError, TenantLock};

/// Whether the opener will change the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only (list, get, verify): no lock is kept, so a running server
    /// and a reading command can work side by side.
    Read,
    /// Changes the tenant: the lock is taken and held while the value lives.
    Write,
}

/// Why a tenant could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The folders could not be created.
    #[error("cannot create the tenant folders under {root}: {source}")]
    Folders {
        /// The root.
        root: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process uses the root.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// A restore interrupted by a crash could not be settled.
    #[error("a restore was interrupted and cannot be settled: {0}")]
    Recovery(#[from] journal::JournalError),
}

/// An opened tenant.
#[derive(Debug)]
pub struct Tenant {
    dirs: TenantDirs,
    work: WorkDirs,
    lock: Option<TenantLock>,
    recovered: journal::Recovery,
}

impl Tenant {
    /// Opens the tenant at `root` for `access`: creates missing folders,
    /// takes the lock (for [`Access::Write`]), settles an interrupted
    /// restore, and removes snapshots a crash left behind. A reader that
    /// finds an interrupted restore takes the lock briefly to settle it, or
    /// leaves it to the process that holds the lock.
    pub fn open(root: &Path, access: Access) -> Result<Tenant, TenantError> {
        let dirs = TenantDirs::for_root(root);
        dirs.ensure_exist().map_err(|source| TenantError::Folders { root: root.to_owned(), source })?;
        let work = WorkDirs::for_root(root);
        let lock = match access {
            Access::Write => Some(TenantLock::acquire(root)?),
            Access::Read => None,
        };
        let mut tenant = Tenant { dirs, work, lock, recovered: journal::Recovery::Nothing };
        tenant.recovered = match access {
            Access::Write => tenant.settle()?,
            Access::Read if tenant.work.needs_settling() => match TenantLock::acquire(root) {
                Ok(_briefly) => tenant.settle()?,
                Err(LockError::Held { .. }) => journal::Recovery::Nothing,
                Err(err) => return Err(err.into()),
            },
            Access::Read => journal::Recovery::Nothing,
        };
        Ok(tenant)
    }

    /// What opening the tenant found of an interrupted restore, and did.
    pub fn recovery(&self) -> journal::Recovery {
        self.recovered
    }

    /// Settles an interrupted restore and removes stale snapshots; answers
    /// what the restore journal did.
    fn settle(&self) -> Result<journal::Recovery, TenantError> {
        let recovery = journal::recover(&self.dirs, &self.work.restore())?;
        match recovery {
            journal::Recovery::Nothing => {}
            journal::Recovery::StagingRemoved => {
                tracing::info!(
                    "removed the staging folder of a restore that was interrupted before it changed anything"
                )
            }
            journal::Recovery::RolledBack { backup_id } => tracing::warn!(
                "the restore of backup {backup_id} was interrupted; the tenant was put back as it was before it"
            ),
            journal::Recovery::Finished { backup_id } => {
                tracing::info!("finished cleaning up after the restore of backup {backup_id}")
            }
        }
        leftovers::settle(&self.dirs.backups, &self.work.plugin_call_note());
        self.remove_stale_snapshots();
        Ok(recovery)
    }

    /// Removes the snapshots, uploads being checked and fetches an earlier
    /// run left behind.
    fn remove_stale_snapshots(&self) {
        let Ok(entries) = std::fs::read_dir(&self.work.root) else { return };
        for entry in entries.flatten() {
            let is_scratch = entry.file_name().to_str().is_some_and(WorkDirs::is_scratch_name);
            if is_scratch && entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                match std::fs::remove_dir_all(entry.path()) {
                    Ok(()) => {
                        tracing::info!(path = %entry.path().display(), "removed scratch space left by an earlier run")
                    }
                    Err(err) => {
                        tracing::warn!(path = %entry.path().display(), "cannot remove old scratch space: {err}")
                    }
                }
            }
        }
    }

    /// The tenant's folders.
    pub fn dirs(&self) -> &TenantDirs {
        &self.dirs
    }

    /// The host's working folders of this tenant.
    pub fn work(&self) -> &WorkDirs {
        &self.work
    }

    /// The tenant's root folder.
    pub fn root(&self) -> &Path {
        &self.dirs.root
    }

    /// Whether this value holds the tenant lock.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_settles_an_interrupted_restore_and_removes_stale_snapshots() {
        let root = tempfile::tempdir().unwrap();
        let tenant = Tenant::open(root.path(), Access::Write).unwrap();
        std::fs::write(tenant.dirs().data.join("db"), "before").unwrap();
        let restore = tenant.work().restore();
        let staged = journal::prepare_staging(tenant.dirs(), &restore).unwrap();
        std::fs::write(staged.data.join("db"), "backup").unwrap();
        let swap = journal::Swap::begin(tenant.dirs(), &restore, 1).unwrap();
        swap.apply().unwrap();
        std::fs::create_dir_all(tenant.work().snapshot(9)).unwrap();
        drop(swap);
        drop(tenant);

        let reader = Tenant::open(root.path(), Access::Read).unwrap();
        assert!(!reader.is_locked());
        assert_eq!(std::fs::read_to_string(reader.dirs().data.join("db")).unwrap(), "before");
        assert!(!restore.root.exists());
        assert_eq!(std::fs::read_dir(&reader.work().root).unwrap().count(), 0);
    }

    #[test]
    fn a_writer_holds_the_lock_and_a_reader_does_not_wait_for_it() {
        let root = tempfile::tempdir().unwrap();
        let writer = Tenant::open(root.path(), Access::Write).unwrap();
        assert!(writer.is_locked());
        assert!(matches!(Tenant::open(root.path(), Access::Write), Err(TenantError::Locked(_))));
        Tenant::open(root.path(), Access::Read).unwrap();
    }
}
