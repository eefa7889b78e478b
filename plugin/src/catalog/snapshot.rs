//! The compacted catalog, `backup-catalog/snapshot` (format 3): one text
//! file, replaced atomically, read piece by piece with seeks and small reads
//! so that a call reads what it answers from, not the whole catalog.
//!
//! 1. A header line (JSON): format, generation, next ids, the folder note,
//!    the schedules, how many backups there are, their earliest expiry, the
//!    lowest and highest id, and the length of each section below.
//! 2. Order section: a fixed-width line per backup, newest first (see
//!    [`lines`](super::lines)): id, times and where its record lies. A
//!    backup's line number here is its *position*.
//! 3. Id section: `ID POSITION` lines sorted by id, fixed width, so a lookup
//!    reads a window of lines near where the id should be.
//! 4. Expiry section: `EXPIRY POSITION` lines of the backups with an expiry,
//!    earliest first, so expired backups are found by reading its start.
//! 5. Search section: the lower-cased name and description of each backup
//!    (see [`search`](super::search)), in position order.
//! 6. Name section: each name as a JSON string token on a line, in position
//!    order, for reconciling with the archives without parsing records.
//! 7. Records: each backup as its full JSON (every serde field of
//!    [`Backup`]), one per line, in position order.
//!
//! A format-2 snapshot (see [`snapshot_v2`](super::snapshot_v2)) is still
//! read.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::FolderNote;
use super::lines::{KEY_LINE, ORDER_LINE, OrderLine, parse_key, parse_order, push_key, push_order};
use super::snapshot_v2::{self, SnapshotV2};
use super::store::{SNAPSHOT_FILE, StoreError, write_parts_atomically};
use super::text::{decode_json_string, lowercase_contains, push_json_string, split_json_string};
use crate::error::{PluginError, Result};
use crate::records::{Backup, Schedule};

/// The snapshot format this plugin writes.
pub(super) const FORMAT: u32 = 3;
/// How much is read at a time while looking for the end of the header; the
/// first read also holds the start of the order section, which is what a
/// list of the first pages needs.
const FIRST_READ: usize = 16 << 10;
/// Records closer together than this are read in one go.
const COALESCE_GAP: u64 = 16 << 10;
/// Order lines closer together than this are read in one go.
const ORDER_GAP: u32 = 64;
/// Id lines read around the place an id should be.
const ID_WINDOW: usize = 160;
/// Expiry lines read at a time.
const EXPIRY_CHUNK: usize = 256;

/// The bytes of each section after the header line, in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Sections {
    pub order: u64,
    pub ids: u64,
    pub expiries: u64,
    pub search: u64,
    pub names: u64,
    pub records: u64,
}

impl Sections {
    fn ids_start(&self) -> u64 {
        self.order
    }
    fn expiries_start(&self) -> u64 {
        self.ids_start() + self.ids
    }
    fn search_start(&self) -> u64 {
        self.expiries_start() + self.expiries
    }
    fn names_start(&self) -> u64 {
        self.search_start() + self.search
    }
    fn records_start(&self) -> u64 {
        self.names_start() + self.names
    }
    fn total(&self) -> u64 {
        self.records_start() + self.records
    }
}

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
    /// How many backups the snapshot holds.
    pub backups: u32,
    /// The earliest expiry among them.
    pub earliest_expiry: Option<i64>,
    /// Their lowest and highest id.
    pub id_range: Option<(u64, u64)>,
    pub sections: Sections,
}

impl Header {
    /// A header of `generation` with what [`write`] fills in left empty.
    pub fn new(generation: u64, next_ids: (u64, u64), note: Option<FolderNote>, schedules: Vec<Schedule>) -> Header {
        Header {
            format: FORMAT,
            generation,
            next_backup_id: next_ids.0,
            next_schedule_id: next_ids.1,
            note,
            schedules,
            backups: 0,
            earliest_expiry: None,
            id_range: None,
            sections: Sections::default(),
        }
    }
}

/// What was found in `snapshot`.
pub(super) enum Opened {
    /// A snapshot of the current format.
    Current(Snapshot),
    /// A format-2 snapshot, read whole.
    Format2(SnapshotV2),
}

/// An opened snapshot: its header and the first bytes after it in memory,
/// and the file kept open for reading the rest (a later replacement of the
/// file does not change what this handle reads).
pub(super) struct Snapshot {
    pub header: Header,
    file: File,
    path: PathBuf,
    /// Where the sections start in the file.
    body_start: u64,
    /// The first bytes of the sections, read with the header.
    head: Vec<u8>,
}

/// Every part of a snapshot, read whole, for writing the next one.
pub(super) struct Stored {
    pub lines: Vec<OrderLine>,
    search: Vec<u8>,
    search_ends: Vec<usize>,
    names: Vec<u8>,
    name_ends: Vec<usize>,
    records: Vec<u8>,
}

impl Stored {
    /// The backup at `position`, as the next snapshot takes it over.
    pub fn item(&self, position: usize) -> Item<'_> {
        let start = |ends: &[usize]| if position == 0 { 0 } else { ends[position - 1] };
        let line = self.lines[position];
        let record = &self.records[line.offset as usize..line.offset as usize + line.length as usize];
        Item::Stored {
            line,
            search: &self.search[start(&self.search_ends)..self.search_ends[position]],
            name: &self.names[start(&self.name_ends)..self.name_ends[position]],
            record,
        }
    }
}

/// A backup as [`write`] takes it: the parts of an older snapshot, copied
/// as they are, or a record.
pub(super) enum Item<'a> {
    Stored { line: OrderLine, search: &'a [u8], name: &'a [u8], record: &'a [u8] },
    Fresh(&'a Backup),
}

impl Item<'_> {
    /// Creation time and id, by which lists sort.
    pub fn key(&self) -> (i64, u64) {
        match self {
            Item::Stored { line, .. } => (line.created_at, line.id),
            Item::Fresh(backup) => (backup.created_at, backup.id),
        }
    }
}

impl Snapshot {
    /// Opens the snapshot in `dir`; `None` when there is none.
    pub fn open(dir: &Path) -> Result<Option<Opened>, StoreError> {
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
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        let format = serde_json::from_slice::<Format>(&bytes[..header_end])
            .map_err(|e| damaged(format!("its header: {e}")))?
            .format;
        if format == snapshot_v2::FORMAT {
            file.read_to_end(&mut bytes).map_err(read_failed)?;
            let parsed = snapshot_v2::parse(&bytes[..header_end], &bytes[header_end + 1..]).map_err(damaged)?;
            return Ok(Some(Opened::Format2(parsed)));
        }
        if format != FORMAT {
            return Err(damaged(format!("it has format {format}, this plugin reads formats 2 and {FORMAT}")));
        }
        let header: Header =
            serde_json::from_slice(&bytes[..header_end]).map_err(|e| damaged(format!("its header: {e}")))?;
        let body_start = header_end as u64 + 1;
        let file_bytes = file.metadata().map_err(read_failed)?.len();
        let sections = header.sections;
        let backups = u64::from(header.backups);
        if sections.order != backups * ORDER_LINE as u64
            || sections.ids != backups * KEY_LINE as u64
            || sections.expiries > sections.ids
            || !sections.expiries.is_multiple_of(KEY_LINE as u64)
            || body_start + sections.total() != file_bytes
        {
            return Err(damaged(format!("its sections do not add up to its {file_bytes} bytes")));
        }
        bytes.drain(..header_end + 1);
        Ok(Some(Opened::Current(Snapshot { header, file, path, body_start, head: bytes })))
    }

    /// Bytes of the snapshot file.
    pub fn bytes(&self) -> u64 {
        self.body_start + self.header.sections.total()
    }

    /// How many backups the snapshot holds.
    pub fn count(&self) -> u32 {
        self.header.backups
    }

    /// The order lines of positions `from..to`.
    pub fn order(&self, from: u32, to: u32) -> Result<Vec<OrderLine>> {
        let to = to.min(self.count());
        if from >= to {
            return Ok(Vec::new());
        }
        let bytes = self.read(u64::from(from) * ORDER_LINE as u64, (to - from) as usize * ORDER_LINE)?;
        bytes
            .chunks_exact(ORDER_LINE)
            .map(|line| parse_order(line).ok_or_else(|| self.damaged(format!("order line {}", line.escape_ascii()))))
            .collect()
    }

    /// The order lines of `positions` (ascending), nearby ones read in one go.
    pub fn order_at(&self, positions: &[u32]) -> Result<Vec<OrderLine>> {
        let mut found = Vec::with_capacity(positions.len());
        let mut at = 0;
        while at < positions.len() {
            let mut end = at + 1;
            while end < positions.len() && positions[end] - positions[end - 1] <= ORDER_GAP {
                end += 1;
            }
            let first = positions[at];
            let run = self.order(first, positions[end - 1] + 1)?;
            for &position in &positions[at..end] {
                found.push(*run.get((position - first) as usize).ok_or_else(|| self.out_of_range(position))?);
            }
            at = end;
        }
        Ok(found)
    }

    /// The positions of `ids`, `None` for those the snapshot does not hold.
    /// Many ids are looked up in the whole id section, a few each in a
    /// window of lines around where it should be.
    pub fn positions(&self, ids: &[u64]) -> Result<Vec<Option<u32>>> {
        let count = self.count() as usize;
        if ids.len() * ID_WINDOW < count {
            return ids.iter().map(|&id| self.position(id)).collect();
        }
        let keys = self.keys(self.header.sections.ids_start(), 0, count)?;
        Ok(ids.iter().map(|id| keys.binary_search_by_key(id, |k| k.0).ok().map(|at| keys[at].1)).collect())
    }

    /// The position of `id`: a first window of id lines where `id` would be
    /// if ids were spread evenly, then halving.
    fn position(&self, id: u64) -> Result<Option<u32>> {
        let Some((lowest, highest)) = self.header.id_range.filter(|(low, high)| (*low..=*high).contains(&id)) else {
            return Ok(None);
        };
        let (mut low, mut high) = (0, self.count() as usize);
        let span = (highest - lowest).max(1);
        let mut guess = ((u128::from(id - lowest) * high.saturating_sub(1) as u128) / u128::from(span)) as usize;
        while low < high {
            let start = guess.saturating_sub(ID_WINDOW / 2).max(low);
            let end = (start + ID_WINDOW).min(high);
            let start = end.saturating_sub(ID_WINDOW).max(low);
            let keys = self.keys(self.header.sections.ids_start(), start, end)?;
            let (Some(first), Some(last)) = (keys.first(), keys.last()) else { break };
            if id < first.0 {
                high = start;
            } else if id > last.0 {
                low = end;
            } else {
                return Ok(keys.binary_search_by_key(&id, |k| k.0).ok().map(|at| keys[at].1));
            }
            guess = low + (high - low) / 2;
        }
        Ok(None)
    }

    /// The positions of the backups expired at `now`.
    pub fn expired(&self, now: i64) -> Result<Vec<u32>> {
        let mut expired = Vec::new();
        if self.header.earliest_expiry.is_none_or(|earliest| earliest > now) {
            return Ok(expired);
        }
        let lines = (self.header.sections.expiries / KEY_LINE as u64) as usize;
        let mut from = 0;
        while from < lines {
            let to = (from + EXPIRY_CHUNK).min(lines);
            for (expiry, position) in self.keys(self.header.sections.expiries_start(), from, to)? {
                if expiry as i64 > now {
                    return Ok(expired);
                }
                expired.push(position);
            }
            from = to;
        }
        Ok(expired)
    }

    /// The positions of the backups whose name or description contains
    /// `needle` (lower case, not empty), ascending.
    pub fn matching(&self, needle: &str) -> Result<Vec<u32>> {
        let sections = self.header.sections;
        let section = self.read(sections.search_start(), sections.search as usize)?;
        let found = super::search::scan(&section, needle);
        let mut matching = Vec::with_capacity(found.len());
        let mut check = Vec::new();
        for found in found {
            if found.line >= self.count() {
                return Err(self.out_of_range(found.line));
            }
            if found.check {
                check.push(found.line);
            } else {
                matching.push(found.line);
            }
        }
        if !check.is_empty() {
            let lines = self.order_at(&check)?;
            let records = self.records(&lines.iter().collect::<Vec<_>>())?;
            for (position, backup) in check.into_iter().zip(records) {
                if lowercase_contains(&backup.name, needle) || lowercase_contains(&backup.description, needle) {
                    matching.push(position);
                }
            }
            matching.sort_unstable();
        }
        Ok(matching)
    }

    /// Every name, in position order.
    pub fn names(&self) -> Result<Vec<String>> {
        let sections = self.header.sections;
        let section = self.read(sections.names_start(), sections.names as usize)?;
        let names = std::str::from_utf8(&section).map_err(|_| self.damaged("its names are not UTF-8".to_string()))?;
        let names: Vec<String> = names
            .split_terminator('\n')
            .map(|line| {
                split_json_string(line)
                    .filter(|(_, rest)| rest.is_empty())
                    .and_then(|(token, _)| decode_json_string(token))
                    .map(Cow::into_owned)
                    .ok_or_else(|| self.damaged(format!("name line {line:?}")))
            })
            .collect::<Result<_>>()?;
        if names.len() != self.count() as usize {
            return Err(self.damaged(format!("it has {} names for {} backups", names.len(), self.count())));
        }
        Ok(names)
    }

    /// The full records of `lines`, in the same order. Records lying close
    /// together in the file are read in one go.
    pub fn records(&self, lines: &[&OrderLine]) -> Result<Vec<Backup>> {
        let mut order: Vec<usize> = (0..lines.len()).collect();
        order.sort_by_key(|&i| lines[i].offset);
        let mut found: Vec<Option<Backup>> = vec![None; lines.len()];
        let mut group_start = 0;
        while group_start < order.len() {
            let first = lines[order[group_start]];
            let mut end = first.offset + u64::from(first.length);
            let mut group_end = group_start + 1;
            while group_end < order.len() && lines[order[group_end]].offset <= end + COALESCE_GAP {
                let next = lines[order[group_end]];
                end = end.max(next.offset + u64::from(next.length));
                group_end += 1;
            }
            let span = self.read_records(first.offset, end)?;
            for &i in &order[group_start..group_end] {
                let line = lines[i];
                let from = (line.offset - first.offset) as usize;
                found[i] = Some(self.parse_record(line, &span[from..from + line.length as usize])?);
            }
            group_start = group_end;
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Every part of the snapshot, for writing the next one.
    pub fn stored(&self) -> Result<Stored> {
        let sections = self.header.sections;
        let lines = self.order(0, self.count())?;
        let search = self.read(sections.search_start(), sections.search as usize)?.into_owned();
        let names = self.read(sections.names_start(), sections.names as usize)?.into_owned();
        let records = self.read(sections.records_start(), sections.records as usize)?.into_owned();
        let ends = |bytes: &[u8]| -> Vec<usize> {
            bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(at, _)| at + 1).collect()
        };
        let (search_ends, name_ends) = (ends(&search), ends(&names));
        if search_ends.len() != lines.len() || name_ends.len() != lines.len() {
            return Err(self.damaged("its sections disagree on the number of backups".to_string()));
        }
        for line in &lines {
            if line.offset + u64::from(line.length) >= sections.records {
                return Err(self.damaged(format!("the record of backup {} lies outside its records", line.id)));
            }
        }
        Ok(Stored { lines, search, search_ends, names, name_ends, records })
    }

    /// The key lines `from..to` of the section starting at `start`.
    fn keys(&self, start: u64, from: usize, to: usize) -> Result<Vec<(u64, u32)>> {
        let bytes = self.read(start + (from * KEY_LINE) as u64, (to - from) * KEY_LINE)?;
        bytes
            .chunks_exact(KEY_LINE)
            .map(|line| match parse_key(line) {
                Some((key, position)) if position < self.count() => Ok((key, position)),
                _ => Err(self.damaged(format!("key line {}", line.escape_ascii()))),
            })
            .collect()
    }

    /// Bytes `at..at + len` of the sections: from the first read when it
    /// holds them, else read now.
    fn read(&self, at: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        if let Some(bytes) = usize::try_from(at).ok().and_then(|at| self.head.get(at..at.checked_add(len)?)) {
            return Ok(Cow::Borrowed(bytes));
        }
        let mut bytes = vec![0; len];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.body_start + at)).and_then(|_| file.read_exact(&mut bytes)).map_err(|err| {
            match err.kind() {
                io::ErrorKind::UnexpectedEof => self.damaged("it ends early".to_string()),
                _ => PluginError::io("read", &self.path, &err),
            }
        })?;
        Ok(Cow::Owned(bytes))
    }

    fn read_records(&self, from: u64, to: u64) -> Result<Cow<'_, [u8]>> {
        if to > self.header.sections.records {
            return Err(self.damaged("a record lies outside its records".to_string()));
        }
        self.read(self.header.sections.records_start() + from, (to - from) as usize)
    }

    fn parse_record(&self, line: &OrderLine, bytes: &[u8]) -> Result<Backup> {
        match serde_json::from_slice::<Backup>(bytes) {
            Ok(backup) if backup.id == line.id => Ok(backup),
            Ok(backup) => Err(self.damaged(format!("order line {} points at the record of {}", line.id, backup.id))),
            Err(err) => Err(self.damaged(format!("the record of backup {}: {err}", line.id))),
        }
    }

    fn out_of_range(&self, position: u32) -> PluginError {
        self.damaged(format!("position {position} is out of range"))
    }

    /// A storage error saying the snapshot is damaged, as read operations
    /// report it.
    fn damaged(&self, reason: String) -> PluginError {
        super::damaged_error(&StoreError::Damaged { path: self.path.clone(), reason })
    }
}

/// Writes a snapshot of `items` (newest first, as listed) into `dir`,
/// atomically. What `header` counts of them is filled in here.
pub(super) fn write(dir: &Path, mut header: Header, items: &[Item]) -> Result<()> {
    let count = u32::try_from(items.len())
        .map_err(|_| PluginError::Storage(format!("{} backups are too many for one catalog", items.len())))?;
    let (mut order, mut search, mut names, mut records) = (Vec::new(), Vec::new(), String::new(), Vec::new());
    let mut ids = Vec::with_capacity(items.len());
    let mut expiries = Vec::new();
    for (position, item) in (0..count).zip(items) {
        let offset = records.len() as u64;
        let (id, created_at, expiry) = match item {
            Item::Stored { line, search: text, name, record } => {
                search.extend_from_slice(text);
                names.push_str(std::str::from_utf8(name).map_err(|_| name_error(line.id))?);
                records.extend_from_slice(record);
                (line.id, line.created_at, line.expiry)
            }
            Item::Fresh(backup) => {
                super::search::push_line(&mut search, &backup.name, &backup.description);
                push_json_string(&mut names, &backup.name);
                names.push('\n');
                serde_json::to_writer(&mut records, backup)
                    .map_err(|e| PluginError::Storage(format!("could not encode backup {}: {e}", backup.id)))?;
                (backup.id, backup.created_at, backup.expiry)
            }
        };
        let length = u32::try_from(records.len() as u64 - offset)
            .map_err(|_| PluginError::Storage(format!("the record of backup {id} is too large")))?;
        records.push(b'\n');
        push_order(&mut order, &OrderLine { id, created_at, expiry, offset, length });
        ids.push((id, position));
        if let Some(expiry) = expiry {
            expiries.push((expiry, position));
        }
    }
    ids.sort_unstable();
    expiries.sort_unstable();
    let (mut id_lines, mut expiry_lines) = (Vec::new(), Vec::new());
    for &(id, position) in &ids {
        push_key(&mut id_lines, id, position);
    }
    for &(expiry, position) in &expiries {
        push_key(&mut expiry_lines, expiry as u64, position);
    }
    header.format = FORMAT;
    header.backups = count;
    header.earliest_expiry = expiries.first().map(|e| e.0);
    header.id_range = ids.first().zip(ids.last()).map(|(low, high)| (low.0, high.0));
    header.sections = Sections {
        order: order.len() as u64,
        ids: id_lines.len() as u64,
        expiries: expiry_lines.len() as u64,
        search: search.len() as u64,
        names: names.len() as u64,
        records: records.len() as u64,
    };
    let mut bytes = serde_json::to_vec(&header)
        .map_err(|e| PluginError::Storage(format!("could not encode the catalog header: {e}")))?;
    bytes.push(b'\n');
    let parts = [&bytes[..], &order, &id_lines, &expiry_lines, &search, names.as_bytes(), &records];
    write_parts_atomically(dir, SNAPSHOT_FILE, &parts)
}

fn name_error(id: u64) -> PluginError {
    PluginError::Storage(format!("the stored name of backup {id} is not UTF-8"))
}

/// Sorts backups as lists show them: newest first, then highest id first.
pub(super) fn newest_first(a_created: i64, a_id: u64, b_created: i64, b_id: u64) -> std::cmp::Ordering {
    b_created.cmp(&a_created).then(b_id.cmp(&a_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: u64, created_at: i64, expiry: Option<i64>) -> Backup {
        Backup {
            id,
            name: format!("backup-{id}.tar.gz"),
            created_at,
            description: format!("number {id}"),
            expiry,
            size: id,
            sha256: "0".repeat(64),
            schedule_id: None,
            layout: None,
        }
    }

    fn open(dir: &Path) -> Snapshot {
        match Snapshot::open(dir).unwrap() {
            Some(Opened::Current(snapshot)) => snapshot,
            _ => panic!("no format-3 snapshot"),
        }
    }

    #[test]
    fn lookups_expiries_and_copies_agree_with_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        // Ids spread unevenly, so that the first guess of a lookup often misses.
        let mut backups: Vec<Backup> = (1..=700u64)
            .map(|i| i * i + if i > 500 { 1_000_000 } else { 0 })
            .map(|id| backup(id, (id % 97) as i64 * 60, (id % 3 == 0).then_some((id % 1000) as i64)))
            .collect();
        backups.sort_by(|a, b| newest_first(a.created_at, a.id, b.created_at, b.id));
        let items: Vec<Item> = backups.iter().map(Item::Fresh).collect();
        write(dir.path(), Header::new(1, (2_000_000, 1), None, Vec::new()), &items).unwrap();
        let snapshot = open(dir.path());
        assert_eq!(snapshot.count(), 700);
        let lines = snapshot.order(0, 700).unwrap();
        for (position, backup) in backups.iter().enumerate() {
            assert_eq!(lines[position].id, backup.id);
            assert_eq!(snapshot.positions(&[backup.id]).unwrap(), [Some(position as u32)], "id {}", backup.id);
        }
        for missing in [0, 2, 3, 250_001, 1_000_000, 1_251_000, 1_490_001, u64::MAX] {
            assert_eq!(snapshot.positions(&[missing]).unwrap(), [None], "id {missing}");
        }
        // Many ids at once are looked up in the whole id section.
        let many: Vec<u64> = backups.iter().map(|b| b.id).chain([5]).collect();
        let found = snapshot.positions(&many).unwrap();
        assert!(found[..700].iter().enumerate().all(|(p, f)| *f == Some(p as u32)) && found[700].is_none());

        let some = [&lines[3], &lines[699], &lines[0]];
        assert_eq!(snapshot.records(&some).unwrap(), [&backups[3], &backups[699], &backups[0]].map(Clone::clone));
        assert_eq!(snapshot.order_at(&[1, 2, 500, 699]).unwrap(), [lines[1], lines[2], lines[500], lines[699]]);
        let now = 300;
        let mut expired = snapshot.expired(now).unwrap();
        expired.sort_unstable();
        let expected: Vec<u32> =
            backups.iter().enumerate().filter(|(_, b)| b.is_expired(now)).map(|(p, _)| p as u32).collect();
        assert_eq!(expired, expected);
        assert_eq!(snapshot.names().unwrap(), backups.iter().map(|b| b.name.clone()).collect::<Vec<_>>());

        // A snapshot written from the parts of this one holds the same.
        let stored = snapshot.stored().unwrap();
        let mut items: Vec<Item> = (0..700).map(|p| stored.item(p)).collect();
        let extra = backup(3_000_000, -1, None);
        items.push(Item::Fresh(&extra));
        let copy = tempfile::tempdir().unwrap();
        write(copy.path(), Header::new(2, (3_000_001, 1), None, Vec::new()), &items).unwrap();
        let copied = open(copy.path());
        let lines = copied.order(0, 701).unwrap();
        let all: Vec<Backup> = backups.iter().cloned().chain([extra]).collect();
        assert_eq!(copied.records(&lines.iter().collect::<Vec<_>>()).unwrap(), all);
        assert_eq!(copied.matching("number 3000000").unwrap(), [700]);
        assert_eq!(copied.header.id_range, Some((1, 3_000_000)));
    }

    #[test]
    fn a_truncated_snapshot_is_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let backups = [backup(1, 0, None)];
        write(dir.path(), Header::new(1, (2, 1), None, Vec::new()), &[Item::Fresh(&backups[0])]).unwrap();
        let path = dir.path().join(SNAPSHOT_FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(Snapshot::open(dir.path()), Err(StoreError::Damaged { .. })));
    }
}
