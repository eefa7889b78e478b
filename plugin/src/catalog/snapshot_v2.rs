//! The format-2 snapshot, which catalogs written before format 3 hold: a
//! JSON header line (format, generation, next ids, folder note, schedules,
//! `index_bytes`), an index of `index_bytes` bytes, then every record as a
//! JSON line. It is read whole, while no newer snapshot exists; the first
//! change replaces it with a format-3 snapshot of the next generation.

use serde::Deserialize;

use super::folder::FolderNote;
use crate::records::{Backup, Schedule};

/// The format this module reads.
pub(super) const FORMAT: u32 = 2;

/// The header line of a format-2 snapshot.
#[derive(Debug, Deserialize)]
pub(super) struct Header {
    pub generation: u64,
    pub next_backup_id: u64,
    pub next_schedule_id: u64,
    pub note: Option<FolderNote>,
    pub schedules: Vec<Schedule>,
    index_bytes: u64,
}

/// The content of a format-2 snapshot.
#[derive(Debug)]
pub(super) struct SnapshotV2 {
    pub header: Header,
    /// Every record, in the snapshot's order.
    pub backups: Vec<Backup>,
}

/// Parses a format-2 snapshot from its header line `header` and the bytes
/// after it; `Err` says what is wrong.
pub(super) fn parse(header: &[u8], body: &[u8]) -> Result<SnapshotV2, String> {
    let header: Header = serde_json::from_slice(header).map_err(|e| format!("its header: {e}"))?;
    let records = usize::try_from(header.index_bytes)
        .ok()
        .and_then(|index| body.get(index..))
        .ok_or_else(|| "it ends inside its index".to_string())?;
    let backups = records
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice::<Backup>(line).map_err(|e| format!("a record: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SnapshotV2 { header, backups })
}
