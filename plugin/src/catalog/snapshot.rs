//! The compacted catalog, `backup-catalog/snapshot` (format 2): one file,
//! replaced atomically, in three parts.
//!
//! 1. A header line (JSON): format, generation, next ids, the folder note,
//!    the schedules, and the length of the index.
//! 2. The index: one line per backup, newest first,
//!    `ID CREATED EXPIRY OFFSET LENGTH "NAME" "DESCRIPTION"` (`-` for no
//!    expiry; name and description as JSON string tokens). Listing, search
//!    and lookups read only these lines, with no JSON parsing.
//! 3. The records: each backup as its full JSON (every serde field of
//!    [`Backup`]), one per line, at `OFFSET` from the start of this part.
//!    Only the records of a page, or the one asked for, are read and parsed.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::FolderNote;
use super::store::{SNAPSHOT_FILE, StoreError, write_atomically};
use super::text::{decode_json_string, push_json_string, split_json_string};
use crate::error::{PluginError, Result};
use crate::records::{Backup, Schedule};

/// The snapshot format this plugin reads and writes.
pub(super) const FORMAT: u32 = 2;
/// How much is read at a time while looking for the end of the header.
const FIRST_READ: usize = 64 << 10;
/// Records closer together than this are read in one go.
const COALESCE_GAP: u64 = 16 << 10;

/// The header line of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Header {
    pub format: u32,
    /// Tells which journal belongs to this snapshot.
    pub generation: u64,
    pub next_backup_id: u64,
    pub next_schedule_id: u64,
    /// The folder note that held when the snapshot was written.
    pub note: Option<FolderNote>,
    /// Every schedule, in id order.
    pub schedules: Vec<Schedule>,
    /// Bytes of the index part.
    pub index_bytes: u64,
}

/// One index line: what listing and search need of a backup.
#[derive(Debug, Clone)]
pub(super) struct IndexEntry {
    pub id: u64,
    pub created_at: i64,
    pub expiry: Option<i64>,
    offset: u64,
    length: u64,
    /// Where the name and description tokens are in the index text.
    text: (usize, usize),
}

impl IndexEntry {
    /// Whether the backup has expired at `now`, as [`Backup::is_expired`].
    pub fn is_expired(&self, now: i64) -> bool {
        self.expiry.is_some_and(|expiry| expiry <= now)
    }
}

/// An opened snapshot: its header and index in memory, and the file kept
/// open for reading records (a later replacement of the file does not
/// change what this handle reads).
pub(super) struct Snapshot {
    pub header: Header,
    pub entries: Vec<IndexEntry>,
    index: String,
    file: File,
    records_start: u64,
    path: PathBuf,
}

impl Snapshot {
    /// Opens the snapshot in `dir`; `None` when there is none.
    pub fn open(dir: &Path) -> Result<Option<Snapshot>, StoreError> {
        let path = dir.join(SNAPSHOT_FILE);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(PluginError::io("read", &path, &err).into()),
        };
        let damaged = |reason: String| StoreError::Damaged { path: path.clone(), reason };
        let read_failed = |err: io::Error| StoreError::from(PluginError::io("read", &path, &err));
        let mut bytes = Vec::new();
        let header_end = loop {
            let start = bytes.len();
            bytes.resize(start + FIRST_READ, 0);
            let read = file.read(&mut bytes[start..]).map_err(read_failed)?;
            bytes.truncate(start + read);
            if let Some(end) = bytes[start..].iter().position(|b| *b == b'\n') {
                break start + end;
            }
            if read == 0 {
                return Err(damaged("it has no header line".to_string()));
            }
        };
        let header: Header =
            serde_json::from_slice(&bytes[..header_end]).map_err(|e| damaged(format!("its header: {e}")))?;
        if header.format != FORMAT {
            return Err(damaged(format!("it has format {}, this plugin reads format {FORMAT}", header.format)));
        }
        let index_start = header_end + 1;
        let records_start = index_start as u64 + header.index_bytes;
        let index_end = usize::try_from(records_start).map_err(|_| damaged("its index is too large".to_string()))?;
        if bytes.len() < index_end {
            let have = bytes.len();
            bytes.resize(index_end, 0);
            file.read_exact(&mut bytes[have..]).map_err(|err| match err.kind() {
                io::ErrorKind::UnexpectedEof => damaged("it ends inside its index".to_string()),
                _ => read_failed(err),
            })?;
        }
        bytes.truncate(index_end);
        bytes.drain(..index_start);
        let index = String::from_utf8(bytes).map_err(|_| damaged("its index is not UTF-8".to_string()))?;
        let mut entries = Vec::new();
        let mut at = 0;
        for line in index.split_terminator('\n') {
            let entry = parse_index_line(line, at).ok_or_else(|| damaged(format!("index line {line:?}")))?;
            entries.push(entry);
            at += line.len() + 1;
        }
        Ok(Some(Snapshot { header, entries, index, file, records_start, path }))
    }

    /// The name and description of the backup of `entry`.
    pub fn texts(&self, entry: &IndexEntry) -> Result<(Cow<'_, str>, Cow<'_, str>)> {
        let text = &self.index[entry.text.0..entry.text.1];
        let parsed = split_json_string(text).and_then(|(name, rest)| {
            let (description, rest) = split_json_string(rest.strip_prefix(' ')?)?;
            rest.is_empty().then_some(())?;
            Some((decode_json_string(name)?, decode_json_string(description)?))
        });
        parsed.ok_or_else(|| self.damaged(format!("the index line of backup {}", entry.id)))
    }

    /// The full records of `entries`, in the same order. Records lying
    /// close together in the file are read in one go.
    pub fn records(&self, entries: &[&IndexEntry]) -> Result<Vec<Backup>> {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries[i].offset);
        let mut found: Vec<Option<Backup>> = vec![None; entries.len()];
        let mut group_start = 0;
        while group_start < order.len() {
            let first = entries[order[group_start]];
            let mut end = first.offset + first.length;
            let mut group_end = group_start + 1;
            while group_end < order.len() && entries[order[group_end]].offset <= end + COALESCE_GAP {
                let next = entries[order[group_end]];
                end = end.max(next.offset + next.length);
                group_end += 1;
            }
            let span = self.read_span(first.offset, end)?;
            for &i in &order[group_start..group_end] {
                let entry = entries[i];
                let from = (entry.offset - first.offset) as usize;
                found[i] = Some(self.parse_record(entry, &span[from..from + entry.length as usize])?);
            }
            group_start = group_end;
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Every record, in index order.
    pub fn all_records(&self) -> Result<Vec<Backup>> {
        let end = self.entries.iter().map(|e| e.offset + e.length).max().unwrap_or(0);
        let span = self.read_span(0, end)?;
        self.entries
            .iter()
            .map(|entry| {
                let from = entry.offset as usize;
                self.parse_record(entry, &span[from..from + entry.length as usize])
            })
            .collect()
    }

    fn read_span(&self, from: u64, to: u64) -> Result<Vec<u8>> {
        let mut span = vec![0; (to - from) as usize];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.records_start + from)).and_then(|_| file.read_exact(&mut span)).map_err(
            |err| match err.kind() {
                io::ErrorKind::UnexpectedEof => self.damaged("it ends inside its records".to_string()),
                _ => PluginError::io("read", &self.path, &err),
            },
        )?;
        Ok(span)
    }

    fn parse_record(&self, entry: &IndexEntry, bytes: &[u8]) -> Result<Backup> {
        match serde_json::from_slice::<Backup>(bytes) {
            Ok(backup) if backup.id == entry.id => Ok(backup),
            Ok(backup) => Err(self.damaged(format!("index line {} points at the record of {}", entry.id, backup.id))),
            Err(err) => Err(self.damaged(format!("the record of backup {}: {err}", entry.id))),
        }
    }

    /// A storage error saying the snapshot is damaged, as read operations
    /// report it.
    fn damaged(&self, reason: String) -> PluginError {
        super::damaged_error(&StoreError::Damaged { path: self.path.clone(), reason })
    }
}

/// Parses `ID CREATED EXPIRY OFFSET LENGTH "NAME" "DESCRIPTION"`, found at
/// byte `at` of the index.
fn parse_index_line(line: &str, at: usize) -> Option<IndexEntry> {
    let mut fields = line.splitn(6, ' ');
    let id = fields.next()?.parse().ok()?;
    let created_at = fields.next()?.parse().ok()?;
    let expiry = match fields.next()? {
        "-" => None,
        value => Some(value.parse().ok()?),
    };
    let offset = fields.next()?.parse().ok()?;
    let length = fields.next()?.parse().ok()?;
    let text = fields.next()?;
    let text_start = at + (line.len() - text.len());
    Some(IndexEntry { id, created_at, expiry, offset, length, text: (text_start, at + line.len()) })
}

/// Writes a snapshot of `backups` (newest first, as listed) into `dir`,
/// atomically. `header.index_bytes` is filled in here.
pub(super) fn write(dir: &Path, mut header: Header, backups: &[Backup]) -> Result<()> {
    let mut index = String::new();
    let mut records = Vec::new();
    for backup in backups {
        let offset = records.len();
        serde_json::to_writer(&mut records, backup)
            .map_err(|e| PluginError::Storage(format!("could not encode backup {}: {e}", backup.id)))?;
        let length = records.len() - offset;
        records.push(b'\n');
        let expiry = backup.expiry.map_or_else(|| "-".to_string(), |e| e.to_string());
        let _ = write!(index, "{} {} {expiry} {offset} {length} ", backup.id, backup.created_at);
        push_json_string(&mut index, &backup.name);
        index.push(' ');
        push_json_string(&mut index, &backup.description);
        index.push('\n');
    }
    header.format = FORMAT;
    header.index_bytes = index.len() as u64;
    let mut bytes = serde_json::to_vec(&header)
        .map_err(|e| PluginError::Storage(format!("could not encode the catalog header: {e}")))?;
    bytes.push(b'\n');
    bytes.extend_from_slice(index.as_bytes());
    bytes.extend_from_slice(&records);
    write_atomically(dir, SNAPSHOT_FILE, &bytes)
}

/// Sorts backups as lists show them: newest first, then highest id first.
pub(super) fn newest_first(a_created: i64, a_id: u64, b_created: i64, b_id: u64) -> std::cmp::Ordering {
    b_created.cmp(&a_created).then(b_id.cmp(&a_id))
}
