//! Where the catalog's files live and how they are replaced: the names
//! inside `backups/backup-catalog/`, atomic replacement (temporary file,
//! synced, renamed), the id high-water mark, and the error of a damaged file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PluginError, Result};

/// The folder inside `backups/` that holds the catalog's files. Its own
/// writes change only this folder, so the modification time of `backups/`
/// moves only when archives (or other entries) come and go.
pub const CATALOG_DIR: &str = "backup-catalog";
/// The compacted catalog inside [`CATALOG_DIR`].
pub const SNAPSHOT_FILE: &str = "snapshot";
/// The changes since the snapshot, one JSON line each, inside [`CATALOG_DIR`].
pub const JOURNAL_FILE: &str = "journal";
/// File name of the id high-water mark inside [`CATALOG_DIR`].
pub const HIGH_WATER_FILE: &str = "ids.json";
/// A file rewritten to learn the file system's current time (see
/// `folder::steady_mtime`).
pub(super) const PROBE_FILE: &str = "probe";

/// Why the stored catalog could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum StoreError {
    /// A file of the catalog does not hold what it must.
    #[error("{} is damaged ({reason})", path.display())]
    Damaged {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading failed.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The folder of the catalog's files.
pub(super) fn catalog_dir(backups: &Path) -> PathBuf {
    backups.join(CATALOG_DIR)
}

/// The next ids, kept in a file of their own so that a catalog rebuilt from
/// the archives (after it was damaged or lost) never hands out an id a
/// deleted backup or schedule had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct HighWater {
    pub next_backup_id: u64,
    pub next_schedule_id: u64,
}

/// The high-water mark in `path`, when it is there and readable.
pub(super) fn read_high_water(path: &Path) -> Option<HighWater> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// Writes the high-water mark into `dir` atomically.
pub(super) fn write_high_water(dir: &Path, mark: HighWater) -> Result<()> {
    let bytes = serde_json::to_vec(&mark)
        .map_err(|e| PluginError::Storage(format!("could not encode the id high-water mark: {e}")))?;
    write_atomically(dir, HIGH_WATER_FILE, &bytes)
}

/// Writes `name` in `dir` atomically: a temporary file, synced, then
/// renamed over it.
pub(super) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    write_parts_atomically(dir, name, &[bytes])
}

/// Writes `parts`, one after the other, as `name` in `dir` atomically.
pub(super) fn write_parts_atomically(dir: &Path, name: &str, parts: &[&[u8]]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.flush()?;
        file.sync_all()
    };
    if let Err(err) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(PluginError::io("write", &tmp, &err));
    }
    let target = dir.join(name);
    fs::rename(&tmp, &target).map_err(|e| PluginError::io("replace", &target, &e))
}

/// Creates the catalog's folder when it is missing.
pub(super) fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(PluginError::io("create", dir, &err)),
    }
}
