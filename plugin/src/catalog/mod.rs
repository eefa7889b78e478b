//! The records of backups and schedules, kept so that a call costs little
//! however many backups there are. Every call runs in a fresh instance, so
//! each one reads what it needs from `backups/backup-catalog/`:
//!
//! - `snapshot`: the catalog as of its last compaction (see [`snapshot`]
//!   for the format): a header with the schedules, next ids, counts and
//!   folder note, then sections of fixed-width lines (the backups newest
//!   first, an id table, an expiry table), the search texts, the names and
//!   the records' full JSON. A call reads the header with the first lines
//!   of the order, then seeks to what it needs: a list the lines of its page,
//!   a search the search texts, a lookup a few lines of the id table; and
//!   only the records it returns. The count of backups and the earliest
//!   expiry in the header give a list's total without a scan.
//! - `journal`: every change since, appended as JSON lines and synced (see
//!   [`journal`]), so that a change writes only what it changed. Once the
//!   journal passes its limit ([`journal_limit`]) the next change folds it
//!   into a new snapshot (temporary file, synced, renamed) and starts an
//!   empty journal for the new generation. The journal also notes where each changed
//!   backup stands in the snapshot, so reads skip those lines without
//!   looking them up.
//! - `ids.json`: the id high-water mark, rewritten when ids are taken, so
//!   that a catalog rebuilt from the archives never reuses an id.
//! - `probe`: rewritten to read the file system's clock (see [`folder`]).
//!
//! The records are reconciled with the archives in `backups/`: records
//! without an archive are dropped, archives without a record adopted, and
//! the next ids raised above every id seen. Listing a large folder costs
//! real time, so the catalog keeps a folder note, the modification time of
//! `backups/` when records and archives last matched. The catalog's own
//! files live in a subfolder, so its writes do not move that time; while it
//! is unchanged the listing is skipped. Changes that add or remove entries
//! of `backups/` take a fresh note when they save.
//!
//! Read-only operations use [`Catalog::load`], which reconciles in memory
//! and writes nothing (a create may be writing its temporary file at the same
//! time). Mutating operations use [`Catalog::load_for_update`], which also
//! removes what interrupted operations left and expired backups, and saves.
//! A damaged catalog is an error for reads; the next change moves it aside
//! and rebuilds it from the archives. A format-1 `backups/catalog.json`, or
//! a format-2 snapshot, is read whole while no format-3 snapshot exists and
//! replaced by one at the first change.
//!
//! Crash safety: an archive is renamed into place only when whole, and its
//! record is appended after that, so a crash leaves at worst an archive
//! without a record, which the next call adopts. A crash while appending
//! leaves a torn last journal line, which is ignored. A compaction replaces
//! the snapshot atomically; a journal of an older generation left by a crash
//! is ignored, as it is already part of the snapshot.

mod folder;
mod journal;
mod legacy;
mod lines;
mod search;
mod snapshot;
mod snapshot_v2;
mod store;
mod text;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use folder::{FolderNote, Listing};
use journal::Entry;
use lines::OrderLine;
use snapshot::{Header, Item, Opened, Snapshot, newest_first};
use snapshot_v2::SnapshotV2;
use store::{HighWater, StoreError, catalog_dir};

pub use folder::{LEGACY_CATALOG_FILE, LEGACY_HIGH_WATER_FILE};
pub use store::{CATALOG_DIR, HIGH_WATER_FILE, JOURNAL_FILE, SNAPSHOT_FILE};

use crate::archive::hashing::sha256_file;
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::{Backup, BackupPage, Schedule};

/// Largest page `list` and `schedule-list` answer.
pub const MAX_PAGE: u32 = 1000;
/// Size past which the journal is folded into a new snapshot: a sixteenth
/// of the snapshot, so that the snapshot rewritten by a compaction costs
/// each change about the same however large the catalog, within
/// [`JOURNAL_MIN`] and [`JOURNAL_MAX`] (every call parses the journal).
pub fn journal_limit(snapshot_bytes: u64) -> u64 {
    (snapshot_bytes / 16).clamp(JOURNAL_MIN, JOURNAL_MAX)
}
/// The smallest journal limit (one read).
pub const JOURNAL_MIN: u64 = 64 << 10;
/// The largest journal limit.
pub const JOURNAL_MAX: u64 = 256 << 10;
/// How often a read starts again when a compaction replaced the snapshot
/// while it was being read.
const READ_ATTEMPTS: usize = 5;

/// Every record the plugin keeps, as one call sees it: the snapshot on disk,
/// read piece by piece as needed, with the records changed since (by the
/// journal or by this call) beside it.
pub struct Catalog {
    dir: PathBuf,
    snapshot: Option<Snapshot>,
    /// Generation of the snapshot on disk (0: none written yet).
    generation: u64,
    /// Whether a snapshot of the current format and of `generation` is on
    /// disk (a format-2 one is read whole into `changed`).
    stored: bool,
    journal: JournalState,
    /// Records that differ from the snapshot; `None` when removed.
    changed: BTreeMap<u64, Option<Backup>>,
    /// Positions in the snapshot known so far (`None`: not in it).
    known_positions: RefCell<BTreeMap<u64, Option<u32>>>,
    /// Backups whose position the journal records.
    journaled_positions: BTreeSet<u64>,
    /// Every schedule, in id order.
    schedules: Vec<Schedule>,
    next_backup_id: u64,
    next_schedule_id: u64,
    /// The next ids as last saved.
    saved_next: (u64, u64),
    note: Option<FolderNote>,
    /// What this call changed and has not saved yet.
    unsaved: Unsaved,
}

/// Where the journal on disk stands.
#[derive(Debug, Default, Clone, Copy)]
struct JournalState {
    /// Whether it belongs to the snapshot's generation.
    current: bool,
    /// Bytes up to its last whole line.
    whole_bytes: u64,
    /// Bytes in the file.
    file_bytes: u64,
}

/// What a call changed since it loaded or last saved.
#[derive(Debug, Default)]
struct Unsaved {
    backups: BTreeSet<u64>,
    schedules: BTreeSet<u64>,
    note: bool,
    /// The call added or removed entries of `backups/`: the note must be
    /// taken again.
    folder: bool,
}

/// A backup as the catalog holds it: an order line of the snapshot, or a
/// record changed since.
#[derive(Clone, Copy)]
enum View<'a> {
    Stored(OrderLine),
    Changed(&'a Backup),
}

impl View<'_> {
    fn is_expired(&self, now: i64) -> bool {
        match self {
            View::Stored(line) => line.is_expired(now),
            View::Changed(backup) => backup.is_expired(now),
        }
    }
}

impl Catalog {
    /// Loads the catalog for reading: reconciles with the archives in memory
    /// when `backups/` changed since the folder note, and writes nothing. A
    /// damaged catalog is a storage error naming it.
    pub fn load(ctx: Context) -> Result<Catalog> {
        let mut catalog = Catalog::open(ctx).map_err(|err| damaged_error(&err))?;
        if !folder::in_step(catalog.note.as_ref(), &ctx.roots.backups) {
            let listing = folder::list(&ctx.roots.backups)?;
            catalog.reconcile(ctx, &listing)?;
        }
        Ok(catalog)
    }

    /// Loads the catalog for a change at `now`: moves a damaged catalog
    /// aside and rebuilds it from the archives; when `backups/` changed since
    /// the folder note (or held leftovers), removes what interrupted
    /// operations left and reconciles; removes expired backups; and saves.
    /// Returns the catalog and the ids of the expired backups removed.
    pub fn load_for_update(ctx: Context, now: i64) -> Result<(Catalog, Vec<u64>)> {
        let mut catalog = Catalog::open_for_update(ctx, now)?;
        let settled = catalog.note.is_some_and(|note| !note.leftovers);
        if !settled || !folder::in_step(catalog.note.as_ref(), &ctx.roots.backups) {
            let listing = folder::list(&ctx.roots.backups)?;
            folder::remove_leftovers(ctx, &listing, catalog.stored);
            catalog.reconcile(ctx, &listing)?;
            catalog.unsaved.folder = true;
        }
        let expired = catalog.remove_expired(ctx, now)?;
        catalog.save(ctx)?;
        Ok((catalog, expired))
    }

    /// Saves what this call changed: appends it to the journal (synced), or
    /// writes a new snapshot when there is none yet or the journal is full.
    /// When the call added or removed entries of `backups/`, the folder is
    /// listed again first and a new folder note taken.
    pub fn save(&mut self, ctx: Context) -> Result<()> {
        if !self.stored {
            store::ensure_dir(&self.dir)?;
        }
        if self.unsaved.folder {
            self.take_note(ctx)?;
        }
        let next = (self.next_backup_id, self.next_schedule_id);
        if next != self.saved_next {
            store::write_high_water(&self.dir, HighWater { next_backup_id: next.0, next_schedule_id: next.1 })?;
        }
        let entries = self.unsaved_entries()?;
        let lines = journal::encode(&entries)?;
        let limit = journal_limit(self.snapshot.as_ref().map_or(0, Snapshot::bytes));
        if !self.stored || self.journal.whole_bytes + lines.len() as u64 > limit {
            self.compact()?;
        } else if !entries.is_empty() {
            let written = if self.journal.current {
                journal::append(&self.dir, self.journal.whole_bytes, self.journal.file_bytes, &lines)?
            } else {
                journal::start(&self.dir, self.generation, &entries)?
            };
            self.journal = JournalState { current: true, whole_bytes: written, file_bytes: written };
            self.journaled_positions.extend(entries.iter().filter_map(|entry| match entry {
                Entry::Position { id, .. } => Some(*id),
                _ => None,
            }));
        }
        self.saved_next = next;
        self.unsaved = Unsaved::default();
        Ok(())
    }

    /// Takes the next backup id.
    pub fn allocate_backup_id(&mut self) -> u64 {
        let id = self.next_backup_id;
        self.next_backup_id += 1;
        id
    }

    /// Takes the next schedule id.
    pub fn allocate_schedule_id(&mut self) -> u64 {
        let id = self.next_schedule_id;
        self.next_schedule_id += 1;
        id
    }

    /// The backup with `id` unless it is unknown or expired at `now`.
    pub fn backup(&self, id: u64, now: i64) -> Result<Backup> {
        let view =
            self.find(id)?.filter(|view| !view.is_expired(now)).ok_or_else(|| PluginError::backup_not_found(id))?;
        self.materialize(&[view])?.pop().ok_or_else(|| PluginError::backup_not_found(id))
    }

    /// Mutable access to the backup with `id` unless unknown or expired; it
    /// is saved with the next [`Catalog::save`].
    pub fn backup_mut(&mut self, id: u64, now: i64) -> Result<&mut Backup> {
        let backup = self.backup(id, now)?;
        self.unsaved.backups.insert(id);
        self.changed.insert(id, Some(backup));
        self.changed.get_mut(&id).and_then(Option::as_mut).ok_or_else(|| PluginError::backup_not_found(id))
    }

    /// Adds the record of an archive this call wrote into `backups/`.
    pub fn insert_backup(&mut self, backup: Backup) {
        self.unsaved.backups.insert(backup.id);
        self.unsaved.folder = true;
        self.next_backup_id = self.next_backup_id.max(backup.id.saturating_add(1));
        self.changed.insert(backup.id, Some(backup));
    }

    /// Every schedule, in id order.
    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    /// Adds a schedule.
    pub fn insert_schedule(&mut self, schedule: Schedule) {
        self.unsaved.schedules.insert(schedule.id);
        self.next_schedule_id = self.next_schedule_id.max(schedule.id.saturating_add(1));
        self.schedules.retain(|s| s.id != schedule.id);
        let at = self.schedules.partition_point(|s| s.id < schedule.id);
        self.schedules.insert(at, schedule);
    }

    /// The schedule with `id`; it is saved with the next [`Catalog::save`].
    pub fn schedule_mut(&mut self, id: u64) -> Result<&mut Schedule> {
        let schedule =
            self.schedules.iter_mut().find(|s| s.id == id).ok_or_else(|| PluginError::schedule_not_found(id))?;
        self.unsaved.schedules.insert(id);
        Ok(schedule)
    }

    /// Removes the schedule with `id`.
    pub fn remove_schedule(&mut self, id: u64) -> Result<()> {
        let at = self.schedules.iter().position(|s| s.id == id).ok_or_else(|| PluginError::schedule_not_found(id))?;
        self.schedules.remove(at);
        self.unsaved.schedules.insert(id);
        Ok(())
    }

    /// Notes that this call added or removed entries of `backups/` other than
    /// through [`Catalog::insert_backup`] or [`Catalog::remove_backup`], so
    /// that the next save takes a new folder note.
    pub fn folder_changed(&mut self) {
        self.unsaved.folder = true;
    }

    /// A page of the backups not expired at `now` whose name or description
    /// contains `search` (case-insensitive), newest first. Of the snapshot,
    /// only the lines before the end of the page are read (and, to search,
    /// the search section), and only the page's records.
    pub fn search(&self, search: Option<&str>, limit: u32, offset: u32, now: i64) -> Result<BackupPage> {
        check_limit(limit)?;
        let needle = search.map(str::to_lowercase).filter(|s| !s.is_empty());
        let matches = |backup: &Backup| {
            needle.as_deref().is_none_or(|needle| {
                text::lowercase_contains(&backup.name, needle) || text::lowercase_contains(&backup.description, needle)
            })
        };
        let mut changed: Vec<&Backup> =
            self.changed.values().flatten().filter(|b| !b.is_expired(now) && matches(b)).collect();
        changed.sort_by(|a, b| newest_first(a.created_at, a.id, b.created_at, b.id));
        let wanted = offset as usize + limit as usize;
        let (stored_total, stored) = match &self.snapshot {
            None => (0, Vec::new()),
            Some(snapshot) => {
                let hidden = self.hidden(snapshot, now)?;
                let (total, positions) = match &needle {
                    None => {
                        let visible = (0..snapshot.count()).filter(|p| hidden.binary_search(p).is_err());
                        (
                            (snapshot.count() as usize).saturating_sub(hidden.len()),
                            visible.take(wanted).collect::<Vec<_>>(),
                        )
                    }
                    Some(needle) => {
                        let mut visible = snapshot.matching(needle)?;
                        visible.retain(|p| hidden.binary_search(p).is_err());
                        let total = visible.len();
                        visible.truncate(wanted);
                        (total, visible)
                    }
                };
                (total as u64, snapshot.order_at(&positions)?)
            }
        };
        let total = stored_total + changed.len() as u64;
        let shown = merge_newest_first(&stored, &changed, wanted).into_iter().skip(offset as usize).collect::<Vec<_>>();
        Ok(BackupPage { total, backups: self.materialize(&shown)? })
    }

    /// Removes backup `id`: its archive, then its record.
    pub fn remove_backup(&mut self, ctx: Context, id: u64) -> Result<()> {
        let view = self.find(id)?.ok_or_else(|| PluginError::backup_not_found(id))?;
        let name = match view {
            View::Changed(backup) => backup.name.clone(),
            View::Stored(_) => self.materialize(&[view])?.pop().map(|b| b.name).unwrap_or_default(),
        };
        let path = ctx.roots.backups.join(&name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(PluginError::io("delete", &path, &err)),
        }
        self.forget(id);
        self.unsaved.folder = true;
        Ok(())
    }

    /// Removes every backup expired at `now`; returns their ids. A backup
    /// whose archive cannot be deleted is kept and the failure logged.
    fn remove_expired(&mut self, ctx: Context, now: i64) -> Result<Vec<u64>> {
        let mut expired: Vec<u64> =
            self.changed.values().flatten().filter(|b| b.is_expired(now)).map(|b| b.id).collect();
        if let Some(snapshot) = &self.snapshot {
            let lines = snapshot.order_at(&sorted(snapshot.expired(now)?))?;
            expired.extend(lines.iter().map(|line| line.id).filter(|id| !self.changed.contains_key(id)));
        }
        let mut removed = Vec::new();
        for id in expired {
            match self.remove_backup(ctx, id) {
                Ok(()) => {
                    ctx.info(&format!("removed expired backup {id}"));
                    removed.push(id);
                }
                Err(err) => {
                    ctx.host.log(crate::host::LogLevel::Error, &format!("could not remove expired backup {id}: {err}"))
                }
            }
        }
        Ok(removed)
    }

    /// Makes the records agree with the archives listed: records without an
    /// archive are dropped, archives without a record adopted, and the next
    /// ids raised above every id seen.
    fn reconcile(&mut self, ctx: Context, listing: &Listing) -> Result<()> {
        let on_disk = &listing.archives;
        let mut known_names = HashSet::new();
        let mut known_ids = HashSet::new();
        let mut missing = Vec::new();
        let mut check = |id: u64, name: &str| {
            if on_disk.contains_key(name) {
                known_ids.insert(id);
                known_names.insert(name.to_string());
            } else {
                missing.push((id, name.to_string()));
            }
        };
        if let Some(snapshot) = &self.snapshot {
            let lines = snapshot.order(0, snapshot.count())?;
            for (line, name) in lines.iter().zip(snapshot.names()?) {
                if !self.changed.contains_key(&line.id) {
                    check(line.id, &name);
                }
            }
        }
        for backup in self.changed.values().flatten() {
            check(backup.id, &backup.name);
        }
        for (id, name) in missing {
            ctx.warn(&format!("backup {id} has no archive {name} in backups/; its record is dropped"));
            self.forget(id);
        }
        for (name, (id, created_at)) in on_disk {
            if known_names.contains(name) {
                continue;
            }
            if !known_ids.insert(*id) {
                ctx.warn(&format!("archive {name} has id {id}, which another backup already uses; it is ignored"));
                continue;
            }
            let path = ctx.roots.backups.join(name);
            let (size, sha256) = sha256_file(&path, None).map_err(|e| PluginError::io("read", &path, &e))?;
            ctx.warn(&format!("archive {name} had no record; adopted as backup {id}"));
            self.unsaved.backups.insert(*id);
            self.changed.insert(
                *id,
                Some(Backup {
                    id: *id,
                    name: name.clone(),
                    created_at: *created_at,
                    description: String::new(),
                    expiry: None,
                    size,
                    sha256,
                    schedule_id: None,
                    layout: None,
                }),
            );
        }
        if let Some(highest) = known_ids.into_iter().max() {
            self.next_backup_id = self.next_backup_id.max(highest.saturating_add(1));
        }
        if let Some(highest) = self.schedules.iter().map(|s| s.id).max() {
            self.next_schedule_id = self.next_schedule_id.max(highest.saturating_add(1));
        }
        Ok(())
    }

    /// Lists `backups/` once it holds still, reconciles with what it holds,
    /// and records the folder note. Leaves the note alone when the folder
    /// kept changing.
    fn take_note(&mut self, ctx: Context) -> Result<()> {
        let Some(mtime) = folder::steady_mtime(&ctx.roots.backups, &self.dir)? else {
            return Ok(());
        };
        let listing = folder::list(&ctx.roots.backups)?;
        self.reconcile(ctx, &listing)?;
        self.note = Some(FolderNote { mtime, leftovers: !listing.leftovers.is_empty() });
        self.unsaved.note = true;
        Ok(())
    }

    /// The journal lines of what this call changed. A changed backup's
    /// position in the snapshot goes before its first change.
    fn unsaved_entries(&self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        if self.stored {
            let unplaced: Vec<u64> =
                self.unsaved.backups.iter().copied().filter(|id| !self.journaled_positions.contains(id)).collect();
            for (id, position) in unplaced.iter().zip(self.positions(&unplaced)?) {
                entries.push(Entry::Position { id: *id, position });
            }
        }
        for id in &self.unsaved.backups {
            entries.push(match self.changed.get(id) {
                Some(Some(backup)) => Entry::Put(backup.clone()),
                _ => Entry::Delete(*id),
            });
        }
        for id in &self.unsaved.schedules {
            entries.push(match self.schedules.iter().find(|s| s.id == *id) {
                Some(schedule) => Entry::PutSchedule(schedule.clone()),
                None => Entry::DeleteSchedule(*id),
            });
        }
        if (self.next_backup_id, self.next_schedule_id) != self.saved_next {
            entries.push(Entry::NextIds { backup: self.next_backup_id, schedule: self.next_schedule_id });
        }
        if let Some(note) = self.note.filter(|_| self.unsaved.note) {
            entries.push(Entry::Seen(note));
        }
        Ok(entries)
    }

    /// Writes everything as a snapshot of the next generation, starts an
    /// empty journal for it, and reads on from the new snapshot. The parts of
    /// unchanged backups are copied from the old snapshot as they are.
    fn compact(&mut self) -> Result<()> {
        let stored = self.snapshot.as_ref().map(Snapshot::stored).transpose()?;
        let mut items: Vec<Item> = match &stored {
            Some(stored) => (0..stored.lines.len())
                .filter(|&p| !self.changed.contains_key(&stored.lines[p].id))
                .map(|p| stored.item(p))
                .collect(),
            None => Vec::new(),
        };
        items.extend(self.changed.values().flatten().map(Item::Fresh));
        items.sort_by(|a, b| {
            let ((a_created, a_id), (b_created, b_id)) = (a.key(), b.key());
            newest_first(a_created, a_id, b_created, b_id)
        });
        if self.generation == 0 {
            // A journal without any snapshot belongs to no generation.
            let journal = self.dir.join(JOURNAL_FILE);
            match fs::remove_file(&journal) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(PluginError::io("remove", &journal, &err)),
            }
        }
        let generation = self.generation + 1;
        let next_ids = (self.next_backup_id, self.next_schedule_id);
        snapshot::write(&self.dir, Header::new(generation, next_ids, self.note, self.schedules.clone()), &items)?;
        drop(items);
        drop(stored);
        let written = journal::start(&self.dir, generation, &[])?;
        self.generation = generation;
        self.stored = true;
        self.journal = JournalState { current: true, whole_bytes: written, file_bytes: written };
        self.snapshot = match Snapshot::open(&self.dir).map_err(|err| damaged_error(&err))? {
            Some(Opened::Current(snapshot)) if snapshot.header.generation == generation => Some(snapshot),
            _ => return Err(PluginError::Storage(format!("the catalog in {} changed meanwhile", self.dir.display()))),
        };
        self.changed.clear();
        self.known_positions.borrow_mut().clear();
        self.journaled_positions.clear();
        Ok(())
    }

    /// Reads the stored catalog: the snapshot and its journal, else the
    /// format-1 catalog, else nothing.
    fn open(ctx: Context) -> Result<Catalog, StoreError> {
        let dir = catalog_dir(&ctx.roots.backups);
        for _ in 0..READ_ATTEMPTS {
            let opened = match Snapshot::open(&dir)? {
                None => return Catalog::open_unstored(ctx, dir, None),
                Some(opened) => opened,
            };
            let journal = journal::read(&dir)?;
            let generation = match &opened {
                Opened::Current(snapshot) => snapshot.header.generation,
                Opened::Format2(snapshot) => snapshot.header.generation,
            };
            match (journal.generation, opened) {
                // A compaction ran between the two reads.
                (Some(newer), _) if newer > generation => continue,
                (_, Opened::Current(snapshot)) => return Ok(Catalog::from_snapshot(dir, snapshot, journal)),
                (_, Opened::Format2(snapshot)) => return Catalog::open_unstored(ctx, dir, Some((snapshot, journal))),
            }
        }
        Err(PluginError::Storage(format!(
            "the catalog in {} kept changing while it was read; try again",
            dir.display()
        ))
        .into())
    }

    /// Reads the stored catalog for a change: a damaged one is moved aside
    /// (and the catalog rebuilt from the archives).
    fn open_for_update(ctx: Context, now: i64) -> Result<Catalog> {
        // Both the snapshot and a format-1 catalog left beside it may be damaged.
        for _ in 0..3 {
            match Catalog::open(ctx) {
                Ok(catalog) => return Ok(catalog),
                Err(StoreError::Plugin(err)) => return Err(err),
                Err(StoreError::Damaged { path, reason }) => set_aside(ctx, &path, &reason, now)?,
            }
        }
        Catalog::open(ctx).map_err(|err| damaged_error(&err))
    }

    /// A catalog with nothing read yet.
    fn empty(dir: PathBuf) -> Catalog {
        Catalog {
            dir,
            snapshot: None,
            generation: 0,
            stored: false,
            journal: JournalState::default(),
            changed: BTreeMap::new(),
            known_positions: RefCell::new(BTreeMap::new()),
            journaled_positions: BTreeSet::new(),
            schedules: Vec::new(),
            next_backup_id: 1,
            next_schedule_id: 1,
            saved_next: (0, 0),
            note: None,
            unsaved: Unsaved::default(),
        }
    }

    fn from_snapshot(dir: PathBuf, snapshot: Snapshot, journal: journal::Journal) -> Catalog {
        let header = &snapshot.header;
        let current = journal.generation == Some(header.generation);
        let mut catalog = Catalog {
            generation: header.generation,
            stored: true,
            journal: JournalState { current, whole_bytes: journal.whole_bytes, file_bytes: journal.file_bytes },
            schedules: header.schedules.clone(),
            next_backup_id: header.next_backup_id,
            next_schedule_id: header.next_schedule_id,
            note: header.note,
            ..Catalog::empty(dir)
        };
        if current {
            for entry in journal.entries {
                catalog.apply(entry);
            }
        }
        catalog.schedules.sort_by_key(|s| s.id);
        catalog.saved_next = (catalog.next_backup_id, catalog.next_schedule_id);
        catalog.snapshot = Some(snapshot);
        catalog
    }

    /// The catalog when no snapshot of the current format exists: the
    /// content of a format-2 snapshot and its journal, or of a format-1
    /// catalog, or nothing; next ids raised to the high-water marks. The
    /// first change writes it as a snapshot.
    fn open_unstored(
        ctx: Context,
        dir: PathBuf,
        format_2: Option<(SnapshotV2, journal::Journal)>,
    ) -> Result<Catalog, StoreError> {
        let mut catalog = Catalog::empty(dir);
        if let Some((snapshot, journal)) = format_2 {
            let header = snapshot.header;
            catalog.generation = header.generation;
            catalog.next_backup_id = header.next_backup_id;
            catalog.next_schedule_id = header.next_schedule_id;
            catalog.note = header.note;
            catalog.schedules = header.schedules;
            catalog.changed = snapshot.backups.into_iter().map(|b| (b.id, Some(b))).collect();
            if journal.generation == Some(header.generation) {
                for entry in journal.entries {
                    catalog.apply(entry);
                }
            }
        } else if let Some(legacy) = legacy::read(&ctx.roots.backups)? {
            catalog.next_backup_id = legacy.next_backup_id;
            catalog.next_schedule_id = legacy.next_schedule_id;
            catalog.changed = legacy.backups.into_iter().map(|b| (b.id, Some(b))).collect();
            catalog.schedules = legacy.schedules;
        }
        catalog.schedules.sort_by_key(|s| s.id);
        let marks =
            [store::read_high_water(&catalog.dir.join(HIGH_WATER_FILE)), legacy::high_water(&ctx.roots.backups)];
        for mark in marks.into_iter().flatten() {
            catalog.next_backup_id = catalog.next_backup_id.max(mark.next_backup_id);
            catalog.next_schedule_id = catalog.next_schedule_id.max(mark.next_schedule_id);
        }
        if let Some(highest) = catalog.changed.keys().max() {
            catalog.next_backup_id = catalog.next_backup_id.max(highest.saturating_add(1));
        }
        if let Some(highest) = catalog.schedules.iter().map(|s| s.id).max() {
            catalog.next_schedule_id = catalog.next_schedule_id.max(highest.saturating_add(1));
        }
        Ok(catalog)
    }

    /// Applies one journal line.
    fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::Generation(_) => {}
            Entry::Put(backup) => {
                self.changed.insert(backup.id, Some(backup));
            }
            Entry::Delete(id) => {
                self.changed.insert(id, None);
            }
            Entry::Position { id, position } => {
                self.known_positions.get_mut().insert(id, position);
                self.journaled_positions.insert(id);
            }
            Entry::PutSchedule(schedule) => {
                self.schedules.retain(|s| s.id != schedule.id);
                self.schedules.push(schedule);
            }
            Entry::DeleteSchedule(id) => self.schedules.retain(|s| s.id != id),
            Entry::NextIds { backup, schedule } => {
                self.next_backup_id = backup;
                self.next_schedule_id = schedule;
            }
            Entry::Seen(note) => self.note = Some(note),
        }
    }

    /// Removes the record of `id`.
    fn forget(&mut self, id: u64) {
        self.changed.insert(id, None);
        self.unsaved.backups.insert(id);
    }

    /// The positions of `ids` in the snapshot (`None`: not in it), looked up
    /// once per call.
    fn positions(&self, ids: &[u64]) -> Result<Vec<Option<u32>>> {
        let Some(snapshot) = &self.snapshot else {
            return Ok(vec![None; ids.len()]);
        };
        let unknown: Vec<u64> =
            ids.iter().copied().filter(|id| !self.known_positions.borrow().contains_key(id)).collect();
        if !unknown.is_empty() {
            let found = snapshot.positions(&unknown)?;
            self.known_positions.borrow_mut().extend(unknown.into_iter().zip(found));
        }
        let known = self.known_positions.borrow();
        Ok(ids.iter().map(|id| known.get(id).copied().flatten()).collect())
    }

    /// The positions of the snapshot that lists must skip, ascending: the
    /// backups changed since (their records here decide) and the expired.
    fn hidden(&self, snapshot: &Snapshot, now: i64) -> Result<Vec<u32>> {
        let ids: Vec<u64> = self.changed.keys().copied().collect();
        let mut hidden = snapshot.expired(now)?;
        hidden.extend(self.positions(&ids)?.into_iter().flatten());
        Ok(sorted(hidden))
    }

    /// The backup with `id`, expired or not.
    fn find(&self, id: u64) -> Result<Option<View<'_>>> {
        if let Some(changed) = self.changed.get(&id) {
            return Ok(changed.as_ref().map(View::Changed));
        }
        let Some(snapshot) = &self.snapshot else {
            return Ok(None);
        };
        let Some(position) = self.positions(&[id])?.pop().flatten() else {
            return Ok(None);
        };
        let line = snapshot.order(position, position + 1)?.pop();
        match line {
            Some(line) if line.id == id => Ok(Some(View::Stored(line))),
            _ => Err(PluginError::Storage(format!("the catalog's snapshot misplaces backup {id}"))),
        }
    }

    /// The full records of `views`, in the same order.
    fn materialize(&self, views: &[View]) -> Result<Vec<Backup>> {
        let stored: Vec<&OrderLine> = views
            .iter()
            .filter_map(|view| match view {
                View::Stored(line) => Some(line),
                View::Changed(_) => None,
            })
            .collect();
        let mut read = match (stored.is_empty(), &self.snapshot) {
            (true, _) => Vec::new(),
            (false, Some(snapshot)) => snapshot.records(&stored)?,
            (false, None) => return Err(PluginError::Storage("the catalog has no snapshot".to_string())),
        }
        .into_iter();
        views
            .iter()
            .map(|view| match view {
                View::Changed(backup) => Ok((*backup).clone()),
                View::Stored(line) => {
                    read.next().ok_or_else(|| PluginError::Storage(format!("backup {} could not be read", line.id)))
                }
            })
            .collect()
    }
}

/// The first `wanted` of `stored` and `changed` (each newest first), merged
/// newest first.
fn merge_newest_first<'a>(stored: &[OrderLine], changed: &[&'a Backup], wanted: usize) -> Vec<View<'a>> {
    let (mut s, mut c) = (0, 0);
    let mut merged = Vec::with_capacity(wanted.min(stored.len() + changed.len()));
    while merged.len() < wanted && (s < stored.len() || c < changed.len()) {
        let take_stored = match (stored.get(s), changed.get(c)) {
            (Some(line), Some(backup)) => newest_first(line.created_at, line.id, backup.created_at, backup.id).is_le(),
            (Some(_), None) => true,
            _ => false,
        };
        if take_stored {
            merged.push(View::Stored(stored[s]));
            s += 1;
        } else {
            merged.push(View::Changed(changed[c]));
            c += 1;
        }
    }
    merged
}

/// `positions` sorted, each once.
fn sorted(mut positions: Vec<u32>) -> Vec<u32> {
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// Invalid-input unless `limit` is 1 to [`MAX_PAGE`].
pub fn check_limit(limit: u32) -> Result<()> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(())
    } else {
        Err(PluginError::InvalidInput(format!("limit {limit} is out of range: give 1 to {MAX_PAGE}")))
    }
}

/// The `limit` items of `items` starting at `offset`.
pub fn page<T: Clone>(items: &[T], limit: u32, offset: u32) -> Vec<T> {
    items.iter().skip(offset as usize).take(limit as usize).cloned().collect()
}

/// The error a read reports for a catalog that could not be read.
fn damaged_error(err: &StoreError) -> PluginError {
    match err {
        StoreError::Damaged { .. } => PluginError::Storage(format!(
            "{err}; the next change (create, update, delete, restore or a schedule change) moves it aside \
             and rebuilds it from the archives"
        )),
        StoreError::Plugin(err) => err.clone(),
    }
}

/// Moves a damaged catalog aside so it can be inspected, and logs that it
/// is rebuilt (and that schedules are lost). A damaged snapshot or journal
/// goes aside with its partner, as neither means anything alone.
fn set_aside(ctx: Context, damaged: &Path, reason: &str, now: i64) -> Result<()> {
    let aside = if damaged.file_name().is_some_and(|name| name == LEGACY_CATALOG_FILE) {
        legacy::set_aside(ctx, now)?
    } else {
        let dir = catalog_dir(&ctx.roots.backups);
        let mut moved = Vec::new();
        for name in [SNAPSHOT_FILE, JOURNAL_FILE] {
            let path = dir.join(name);
            let target = dir.join(format!("{name}.corrupt-{now}"));
            match fs::rename(&path, &target) {
                Ok(()) => moved.push(target.display().to_string()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(PluginError::io("move aside", &path, &err)),
            }
        }
        moved.join(" and ")
    };
    ctx.warn(&format!(
        "{} was damaged ({reason}); moved to {aside} and rebuilt from the archives: descriptions, \
         expiry dates and all schedules are lost and must be entered again",
        damaged.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests;
