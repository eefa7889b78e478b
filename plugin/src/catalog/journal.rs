//! The changes since the snapshot, `backup-catalog/journal`: JSON lines,
//! the first naming the snapshot generation they apply to. A change appends
//! its lines and syncs the file, so its cost does not depend on the size of
//! the catalog. Every line records a whole value (a record, a schedule, the
//! next ids, the folder note) or a removal, so the last line about a thing
//! is what holds; position lines say where a changed backup stands in the
//! snapshot.
//!
//! A last line without its line feed is a write that did not finish: it is
//! ignored, and the next change cuts it off before appending. Any other line
//! that does not parse makes the journal damaged.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::FolderNote;
use super::store::{JOURNAL_FILE, StoreError, write_atomically};
use crate::error::{PluginError, Result};
use crate::records::{Backup, Schedule};

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Entry {
    /// The snapshot generation the following lines apply to (first line).
    Generation(u64),
    /// A backup record, new or changed.
    Put(Backup),
    /// A backup record removed.
    Delete(u64),
    /// Where backup `id` stands in the order of the snapshot this journal
    /// belongs to (`None`: it is not in it), written before the first change
    /// of that backup, so that reads need not look it up.
    Position {
        /// The backup.
        id: u64,
        /// Its position in the snapshot.
        position: Option<u32>,
    },
    /// A schedule, new or changed.
    PutSchedule(Schedule),
    /// A schedule removed.
    DeleteSchedule(u64),
    /// The ids the next backup and schedule get.
    NextIds {
        /// Next backup id.
        backup: u64,
        /// Next schedule id.
        schedule: u64,
    },
    /// The folder note (see `folder`).
    Seen(FolderNote),
}

/// What was read from the journal.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// The generation of the first line; `None` when the file is missing or
    /// its first line is incomplete.
    pub generation: Option<u64>,
    /// The lines after the first.
    pub entries: Vec<Entry>,
    /// Bytes up to the end of the last whole line.
    pub whole_bytes: u64,
    /// Bytes in the file (more than `whole_bytes` after a torn write).
    pub file_bytes: u64,
}

/// Reads the journal in `dir`.
pub(super) fn read(dir: &Path) -> Result<Journal, StoreError> {
    let path = dir.join(JOURNAL_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Journal::default()),
        Err(err) => return Err(PluginError::io("read", &path, &err).into()),
    };
    parse(&bytes, &path)
}

fn parse(bytes: &[u8], path: &Path) -> Result<Journal, StoreError> {
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |last| last + 1);
    let mut journal = Journal { whole_bytes: whole as u64, file_bytes: bytes.len() as u64, ..Journal::default() };
    for (number, line) in bytes[..whole].split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        let entry: Entry = serde_json::from_slice(line).map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            reason: format!("line {}: {e}", number + 1),
        })?;
        match (number, entry) {
            (0, Entry::Generation(generation)) => journal.generation = Some(generation),
            (0, _) | (_, Entry::Generation(_)) => {
                return Err(StoreError::Damaged {
                    path: path.to_path_buf(),
                    reason: format!("line {}: only the first line names a generation", number + 1),
                });
            }
            (_, entry) => journal.entries.push(entry),
        }
    }
    Ok(journal)
}

/// Encodes entries as journal lines.
pub(super) fn encode(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for entry in entries {
        serde_json::to_writer(&mut bytes, entry)
            .map_err(|e| PluginError::Storage(format!("could not encode a catalog change: {e}")))?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

/// Replaces the journal in `dir` with one for `generation` holding
/// `entries`, atomically. Returns its size.
pub(super) fn start(dir: &Path, generation: u64, entries: &[Entry]) -> Result<u64> {
    let mut bytes = encode(&[Entry::Generation(generation)])?;
    bytes.extend(encode(entries)?);
    write_atomically(dir, JOURNAL_FILE, &bytes)?;
    Ok(bytes.len() as u64)
}

/// Appends `lines` to the journal in `dir` after its first `whole_bytes`
/// (cutting off a torn last line) and syncs it. Returns the new size.
pub(super) fn append(dir: &Path, whole_bytes: u64, file_bytes: u64, lines: &[u8]) -> Result<u64> {
    let path: PathBuf = dir.join(JOURNAL_FILE);
    let failed = |err: io::Error| PluginError::io("append to", &path, &err);
    let mut file: File = OpenOptions::new().write(true).open(&path).map_err(failed)?;
    if file_bytes != whole_bytes {
        file.set_len(whole_bytes).map_err(failed)?;
    }
    file.seek(SeekFrom::Start(whole_bytes)).map_err(failed)?;
    file.write_all(lines).map_err(failed)?;
    file.sync_data().map_err(failed)?;
    Ok(whole_bytes + lines.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_ignored_and_others_must_parse() {
        let path = Path::new("journal");
        let mut bytes = encode(&[Entry::Generation(3), Entry::Delete(7)]).unwrap();
        let whole = bytes.len() as u64;
        bytes.extend_from_slice(b"{\"delete\":");
        let journal = parse(&bytes, path).unwrap();
        assert_eq!(journal.generation, Some(3));
        assert_eq!(journal.entries, [Entry::Delete(7)]);
        assert_eq!((journal.whole_bytes, journal.file_bytes), (whole, bytes.len() as u64));

        bytes.push(b'\n');
        assert!(matches!(parse(&bytes, path), Err(StoreError::Damaged { .. })));
        let out_of_place = encode(&[Entry::Delete(1)]).unwrap();
        assert!(matches!(parse(&out_of_place, path), Err(StoreError::Damaged { .. })));
    }
}
