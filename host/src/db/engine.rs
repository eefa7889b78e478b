//! The database as the backup operations see it ([`DataEngine`]): while the
//! server runs, [`LiveDatabase`] pauses writes through the gate and closes
//! and reopens the engine around a restore's swap; from the command line,
//! with no server running, [`OfflineDatabase`] only checks that the files
//! open.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use kinesis_backup_core::ops::{DataEngine, WritesPaused};
use tokio::runtime::Handle;

use super::Db;
use super::gate::{ClosedDb, DbGate};

/// Whether the database files in `data_dir` open and hold users.
fn check_files(data_dir: &Path) -> Result<(), String> {
    Db::open_existing(data_dir).map(drop).map_err(|err| err.to_string())
}

/// The server's database behind its gate. The operations call it from the
/// blocking thread pool, so it waits on the gate's async locks there.
pub struct LiveDatabase {
    gate: Arc<DbGate>,
    data_dir: PathBuf,
    handle: Handle,
    closed: Mutex<Option<ClosedDb>>,
}

impl LiveDatabase {
    /// The engine for `gate`, whose files are in `data_dir`. Call from
    /// inside the tokio runtime whose blocking pool runs the operations.
    pub fn new(gate: Arc<DbGate>, data_dir: PathBuf) -> LiveDatabase {
        LiveDatabase { gate, data_dir, handle: Handle::current(), closed: Mutex::new(None) }
    }

    fn closed(&self) -> std::sync::MutexGuard<'_, Option<ClosedDb>> {
        self.closed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DataEngine for LiveDatabase {
    fn pause_writes(&self) -> WritesPaused {
        Box::new(self.handle.block_on(self.gate.pause_writes()))
    }

    fn check(&self, data_dir: &Path) -> Result<(), String> {
        check_files(data_dir)
    }

    fn close(&self) {
        let mut closed = self.closed();
        if closed.is_none() {
            *closed = Some(self.handle.block_on(self.gate.close()));
        }
    }

    fn open(&self) -> Result<(), String> {
        let mut closed = self.closed();
        let guard = match closed.take() {
            Some(guard) => guard,
            None => self.handle.block_on(self.gate.close()),
        };
        match Db::open_existing(&self.data_dir) {
            Ok(db) => {
                guard.reopen(db);
                Ok(())
            }
            // Dropping the guard leaves the gate empty: requests fail at
            // once with a clear message instead of waiting.
            Err(err) => Err(err.to_string()),
        }
    }
}

/// The database when no server runs: nothing to pause or close; a restore
/// is accepted only when its database files, if it has any, open.
pub struct OfflineDatabase {
    data_dir: PathBuf,
}

impl OfflineDatabase {
    /// The engine for the database files in `data_dir`.
    pub fn new(data_dir: PathBuf) -> OfflineDatabase {
        OfflineDatabase { data_dir }
    }
}

impl OfflineDatabase {
    /// Like [`check_files`], but a `data/` without a database file is
    /// accepted: such a tenant has never been served (a server creates the
    /// database on its first start).
    fn check_if_present(data_dir: &Path) -> Result<(), String> {
        match std::fs::symlink_metadata(data_dir.join(super::DB_FILE)) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            _ => check_files(data_dir),
        }
    }
}

impl DataEngine for OfflineDatabase {
    fn pause_writes(&self) -> WritesPaused {
        Box::new(())
    }

    fn check(&self, data_dir: &Path) -> Result<(), String> {
        Self::check_if_present(data_dir)
    }

    fn close(&self) {}

    fn open(&self) -> Result<(), String> {
        Self::check_if_present(&self.data_dir)
    }
}
