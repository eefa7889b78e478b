//! The format-1 catalog, `backups/catalog.json` (every record and schedule
//! in one JSON document) with its id mark `backups/ids.json`. It is read
//! while no snapshot exists; the first change writes its content as a
//! snapshot, and a later change removes the two files (a later one, so that
//! a first call the host cleans up after cannot lose both).

use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;

use super::folder::{LEGACY_CATALOG_FILE, LEGACY_HIGH_WATER_FILE};
use super::store::{HighWater, StoreError, read_high_water};
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::{Backup, Schedule};

const FORMAT: u32 = 1;

/// The content of a format-1 catalog.
#[derive(Debug, Deserialize)]
pub(super) struct Legacy {
    format: u32,
    /// The id the next backup gets.
    pub next_backup_id: u64,
    /// The id the next schedule gets.
    pub next_schedule_id: u64,
    /// Backup records, in no particular order.
    pub backups: Vec<Backup>,
    /// Schedules.
    pub schedules: Vec<Schedule>,
}

/// The format-1 catalog in `backups`, if there is one.
pub(super) fn read(backups: &Path) -> Result<Option<Legacy>, StoreError> {
    let path = backups.join(LEGACY_CATALOG_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(PluginError::io("read", &path, &err).into()),
    };
    let damaged = |reason: String| StoreError::Damaged { path: path.clone(), reason };
    match serde_json::from_slice::<Legacy>(&bytes) {
        Ok(legacy) if legacy.format == FORMAT => Ok(Some(legacy)),
        Ok(legacy) => Err(damaged(format!("it has format {}, this plugin reads format {FORMAT}", legacy.format))),
        Err(err) => Err(damaged(err.to_string())),
    }
}

/// The format-1 id high-water mark, when it is there and readable.
pub(super) fn high_water(backups: &Path) -> Option<HighWater> {
    read_high_water(&backups.join(LEGACY_HIGH_WATER_FILE))
}

/// Moves a damaged format-1 catalog to `catalog.json.corrupt-<now>` so it
/// can be inspected.
pub(super) fn set_aside(ctx: Context, now: i64) -> Result<String> {
    let path = ctx.roots.backups.join(LEGACY_CATALOG_FILE);
    let aside = ctx.roots.backups.join(format!("{LEGACY_CATALOG_FILE}.corrupt-{now}"));
    fs::rename(&path, &aside).map_err(|e| PluginError::io("move aside", &path, &e))?;
    Ok(aside.display().to_string())
}
