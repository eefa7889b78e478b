//! The [`Tenant`]: everything the server keeps per root folder — its
//! folders, the lock that keeps other processes out, the database behind
//! its gate, the settings from `.env`, and the lock that lets one backup or
//! restore run at a time. Requests and timer ticks reach all of it through
//! this one value, so serving several tenants later means holding several.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::db::{Db, DbError, DbGate};
use super::settings::{Settings, SettingsError};
use super::{restore, snapshot};
use crate::tenants::{LockError, TenantDirs, TenantLock};

/// The folder under the root where the server keeps its working copies
/// (snapshots, data put aside during a restore). Never handed to a plugin.
const WORK_DIR: &str = ".kinesis";

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
    /// `.env` could not be read or holds a bad setting.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A restore interrupted by a crash could not be cleaned up.
    #[error(transparent)]
    Recovery(#[from] restore::RestoreError),
}

/// A backup or restore of this tenant is running.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a backup or restore is already running for this tenant; try again when it has finished")]
pub struct Busy;

/// Proof that its holder runs the tenant's only backup or restore; move it
/// into the blocking work so the lock lasts as long as the work does.
#[derive(Debug)]
pub struct OperationGuard {
    _guard: OwnedMutexGuard<()>,
}

/// One tenant served by this process.
#[derive(Debug)]
pub struct Tenant {
    dirs: TenantDirs,
    db: DbGate,
    settings: RwLock<Settings>,
    operation: Arc<Mutex<()>>,
    _lock: TenantLock,
}

impl Tenant {
    /// Opens the tenant at `root`: creates missing folders, takes the
    /// tenant lock, finishes a restore a crash interrupted, reads (and on
    /// first start creates) `.env`, and opens (or creates) the database.
    pub fn open(root: &Path) -> Result<Tenant, TenantError> {
        let dirs = TenantDirs::for_root(root);
        dirs.ensure_exist().map_err(|source| TenantError::Folders {
            root: root.to_owned(),
            source,
        })?;
        let lock = TenantLock::acquire(root)?;
        let work_dir = root.join(WORK_DIR);
        restore::recover_interrupted(&dirs, &work_dir)?;
        snapshot::remove_stale(&work_dir);
        let settings = Settings::load_or_init(&dirs)?;
        let db = Db::create(&dirs.data)?;
        Ok(Tenant {
            dirs,
            db: DbGate::new(db),
            settings: RwLock::new(settings),
            operation: Arc::new(Mutex::new(())),
            _lock: lock,
        })
    }

    /// The tenant's folders.
    pub fn dirs(&self) -> &TenantDirs {
        &self.dirs
    }

    /// The server's working folder for this tenant (`ROOT/.kinesis`).
    pub fn work_dir(&self) -> PathBuf {
        self.dirs.root.join(WORK_DIR)
    }

    /// The database.
    pub fn db(&self) -> &DbGate {
        &self.db
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads `.env` again (after a restore replaced it).
    pub fn reload_settings(&self) -> Result<(), SettingsError> {
        let fresh = Settings::load_or_init(&self.dirs)?;
        *self
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        Ok(())
    }

    /// Starts the tenant's only backup or restore, or says another runs.
    pub fn try_begin_operation(&self) -> Result<OperationGuard, Busy> {
        self.operation
            .clone()
            .try_lock_owned()
            .map(|guard| OperationGuard { _guard: guard })
            .map_err(|_| Busy)
    }
}

impl From<Busy> for super::response::ApiError {
    fn from(busy: Busy) -> Self {
        super::response::ApiError::conflict(busy.to_string())
    }
}
