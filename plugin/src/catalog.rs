//! The records of backups and schedules: `backups/catalog.json`, saved
//! atomically and reconciled with the archives on disk whenever it is loaded.
//!
//! Read-only operations use [`Catalog::load`], which reconciles in memory
//! and writes nothing (a create may be writing its temporary file at the same
//! time). Mutating operations use [`Catalog::load_for_update`], which also
//! removes stale temporary files and expired backups, and persists.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::hashing::sha256_file;
use crate::archive::name::{
    is_job_folder_name, is_partial_name, is_previous_folder_name, is_staging_folder_name, parse_archive_name,
};
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::{Backup, BackupPage, Schedule};

/// File name of the catalog inside `backups/`.
pub const CATALOG_FILE: &str = "catalog.json";
const CATALOG_TMP: &str = "catalog.json.tmp";
/// File name of the id high-water mark inside `backups/`.
pub const HIGH_WATER_FILE: &str = "ids.json";
const HIGH_WATER_TMP: &str = "ids.json.tmp";
const FORMAT: u32 = 1;
/// Largest page `list` and `schedule-list` answer.
pub const MAX_PAGE: u32 = 1000;

/// Every record the plugin keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    format: u32,
    /// The id the next backup gets.
    pub next_backup_id: u64,
    /// The id the next schedule gets.
    pub next_schedule_id: u64,
    /// Backup records, in no particular order.
    pub backups: Vec<Backup>,
    /// Schedules, in id order.
    pub schedules: Vec<Schedule>,
}

/// What was found in `catalog.json`.
enum Stored {
    Missing,
    Parsed(Catalog),
    Corrupt(String),
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog { format: FORMAT, next_backup_id: 1, next_schedule_id: 1, backups: Vec::new(), schedules: Vec::new() }
    }
}

impl Catalog {
    /// Loads the catalog for reading: reconciles with the archives in memory
    /// and writes nothing. A damaged catalog is a storage error naming it.
    pub fn load(ctx: Context) -> Result<Catalog> {
        let mut catalog = match read_stored(&ctx.roots.backups)? {
            Stored::Missing => Catalog::default(),
            Stored::Parsed(catalog) => catalog,
            Stored::Corrupt(reason) => {
                return Err(PluginError::Storage(format!(
                    "{} is damaged ({reason}); the next change (create, update, delete, restore \
                     or a schedule change) moves it aside and rebuilds it from the archives",
                    catalog_path(&ctx.roots.backups).display()
                )));
            }
        };
        catalog.reconcile(ctx)?;
        Ok(catalog)
    }

    /// Loads the catalog for a change at `now`: removes stale temporary files,
    /// moves a damaged catalog aside and rebuilds it from the archives,
    /// reconciles, removes expired backups, and saves. Returns the catalog and
    /// the ids of the expired backups removed.
    pub fn load_for_update(ctx: Context, now: i64) -> Result<(Catalog, Vec<u64>)> {
        remove_stale_files(ctx)?;
        let mut catalog = match read_stored(&ctx.roots.backups)? {
            Stored::Missing => Catalog::default(),
            Stored::Parsed(catalog) => catalog,
            Stored::Corrupt(reason) => {
                set_aside_corrupt(ctx, &reason, now)?;
                Catalog::default()
            }
        };
        catalog.reconcile(ctx)?;
        let expired = catalog.remove_expired(ctx, now);
        catalog.save(&ctx.roots.backups)?;
        Ok((catalog, expired))
    }

    /// Writes the catalog atomically: a temporary file, synced, then renamed.
    pub fn save(&self, backups: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| PluginError::Storage(format!("could not encode the catalog: {e}")))?;
        let high_water = HighWater { next_backup_id: self.next_backup_id, next_schedule_id: self.next_schedule_id };
        let high_water = serde_json::to_vec(&high_water)
            .map_err(|e| PluginError::Storage(format!("could not encode the id high-water mark: {e}")))?;
        write_atomically(backups, HIGH_WATER_FILE, &high_water)?;
        write_atomically(backups, CATALOG_FILE, &json)
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
    pub fn backup(&self, id: u64, now: i64) -> Result<&Backup> {
        self.backups.iter().find(|b| b.id == id && !b.is_expired(now)).ok_or_else(|| PluginError::backup_not_found(id))
    }

    /// Mutable access to the backup with `id` unless unknown or expired.
    pub fn backup_mut(&mut self, id: u64, now: i64) -> Result<&mut Backup> {
        self.backups
            .iter_mut()
            .find(|b| b.id == id && !b.is_expired(now))
            .ok_or_else(|| PluginError::backup_not_found(id))
    }

    /// The schedule with `id`.
    pub fn schedule_mut(&mut self, id: u64) -> Result<&mut Schedule> {
        self.schedules.iter_mut().find(|s| s.id == id).ok_or_else(|| PluginError::schedule_not_found(id))
    }

    /// A page of the backups not expired at `now` whose name or description
    /// contains `search` (case-insensitive), newest first.
    pub fn search(&self, search: Option<&str>, limit: u32, offset: u32, now: i64) -> Result<BackupPage> {
        check_limit(limit)?;
        let needle = search.map(str::to_lowercase).filter(|s| !s.is_empty());
        let mut matching: Vec<&Backup> = self
            .backups
            .iter()
            .filter(|b| !b.is_expired(now))
            .filter(|b| match &needle {
                None => true,
                Some(needle) => {
                    b.name.to_lowercase().contains(needle.as_str())
                        || b.description.to_lowercase().contains(needle.as_str())
                }
            })
            .collect();
        matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(BackupPage {
            total: matching.len() as u64,
            backups: page(&matching, limit, offset).into_iter().cloned().collect(),
        })
    }

    /// Removes backup `id`: its archive, then its record.
    pub fn remove_backup(&mut self, ctx: Context, id: u64) -> Result<()> {
        let index = self.backups.iter().position(|b| b.id == id).ok_or_else(|| PluginError::backup_not_found(id))?;
        let path = ctx.roots.backups.join(&self.backups[index].name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(PluginError::io("delete", &path, &err)),
        }
        self.backups.remove(index);
        Ok(())
    }

    /// Removes every backup expired at `now`; returns their ids. A backup
    /// whose archive cannot be deleted is kept and the failure logged.
    fn remove_expired(&mut self, ctx: Context, now: i64) -> Vec<u64> {
        let expired: Vec<u64> = self.backups.iter().filter(|b| b.is_expired(now)).map(|b| b.id).collect();
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
        removed
    }

    /// Makes the records agree with the archives on disk: records without an
    /// archive are dropped, archives without a record adopted, and the next
    /// ids raised above every id seen.
    fn reconcile(&mut self, ctx: Context) -> Result<()> {
        let on_disk = list_archives(&ctx.roots.backups)?;
        self.backups.retain(|b| {
            let present = on_disk.contains_key(&b.name);
            if !present {
                ctx.warn(&format!("backup {} has no archive {} in backups/; its record is dropped", b.id, b.name));
            }
            present
        });
        let known_names: HashSet<String> = self.backups.iter().map(|b| b.name.clone()).collect();
        let mut known_ids: HashSet<u64> = self.backups.iter().map(|b| b.id).collect();
        for (name, (id, created_at)) in &on_disk {
            if known_names.contains(name) {
                continue;
            }
            if !known_ids.insert(*id) {
                ctx.warn(&format!("archive {name} has id {id}, which another backup already uses; it is ignored"));
                continue;
            }
            let path = ctx.roots.backups.join(name);
            let (size, sha256) = sha256_file(&path).map_err(|e| PluginError::io("read", &path, &e))?;
            ctx.warn(&format!("archive {name} had no record; adopted as backup {id}"));
            self.backups.push(Backup {
                id: *id,
                name: name.clone(),
                created_at: *created_at,
                description: String::new(),
                expiry: None,
                size,
                sha256,
                schedule_id: None,
                layout: None,
            });
        }
        if let Some(mark) = read_high_water(&ctx.roots.backups) {
            self.next_backup_id = self.next_backup_id.max(mark.next_backup_id);
            self.next_schedule_id = self.next_schedule_id.max(mark.next_schedule_id);
        }
        let highest_backup = on_disk.values().map(|(id, _)| *id).chain(known_ids).max();
        if let Some(highest) = highest_backup {
            self.next_backup_id = self.next_backup_id.max(highest.saturating_add(1));
        }
        if let Some(highest) = self.schedules.iter().map(|s| s.id).max() {
            self.next_schedule_id = self.next_schedule_id.max(highest.saturating_add(1));
        }
        self.schedules.sort_by_key(|s| s.id);
        Ok(())
    }
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

/// The next ids, kept in a file of their own beside the catalog so that a
/// catalog rebuilt from the archives (after it was damaged or lost) never
/// hands out an id a deleted backup or schedule had.
#[derive(Debug, Serialize, Deserialize)]
struct HighWater {
    next_backup_id: u64,
    next_schedule_id: u64,
}

/// The high-water mark, when its file is there and readable.
fn read_high_water(backups: &Path) -> Option<HighWater> {
    serde_json::from_slice(&fs::read(backups.join(HIGH_WATER_FILE)).ok()?).ok()
}

/// Writes `name` in `backups` atomically: a temporary file, synced, then
/// renamed over it.
fn write_atomically(backups: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = backups.join(format!("{name}.tmp"));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.flush()?;
        file.sync_all()
    };
    if let Err(err) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(PluginError::io("write", &tmp, &err));
    }
    let target = backups.join(name);
    fs::rename(&tmp, &target).map_err(|e| PluginError::io("replace", &target, &e))
}

fn catalog_path(backups: &Path) -> PathBuf {
    backups.join(CATALOG_FILE)
}

fn read_stored(backups: &Path) -> Result<Stored> {
    let path = catalog_path(backups);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Stored::Missing),
        Err(err) => return Err(PluginError::io("read", &path, &err)),
    };
    match serde_json::from_slice::<Catalog>(&bytes) {
        Ok(catalog) if catalog.format == FORMAT => Ok(Stored::Parsed(catalog)),
        Ok(catalog) => {
            Ok(Stored::Corrupt(format!("it has format {}, this plugin reads format {FORMAT}", catalog.format)))
        }
        Err(err) => Ok(Stored::Corrupt(err.to_string())),
    }
}

/// Moves a damaged catalog to `catalog.json.corrupt-<now>` so it can be
/// inspected, and logs that it is rebuilt (and that schedules are lost).
fn set_aside_corrupt(ctx: Context, reason: &str, now: i64) -> Result<()> {
    let path = catalog_path(&ctx.roots.backups);
    let aside = ctx.roots.backups.join(format!("{CATALOG_FILE}.corrupt-{now}"));
    fs::rename(&path, &aside).map_err(|e| PluginError::io("move aside", &path, &e))?;
    ctx.warn(&format!(
        "{} was damaged ({reason}); moved to {} and rebuilt from the archives: descriptions, \
         expiry dates and all schedules are lost and must be entered again",
        path.display(),
        aside.display()
    ));
    Ok(())
}

/// The archives in `backups/`: name -> (id, creation time from the name).
fn list_archives(backups: &Path) -> Result<BTreeMap<String, (u64, i64)>> {
    let mut found = BTreeMap::new();
    for (name, kind) in list_folder(backups)? {
        if let Some(parsed) = parse_archive_name(&name)
            && kind.is_file()
        {
            found.insert(name, parsed);
        }
    }
    Ok(found)
}

/// The entries of `dir` with UTF-8 names and their types. A change running
/// beside this call may rename a temporary file while it is listed; the
/// listing is then taken again, so a reader never fails because of it.
fn list_folder(dir: &Path) -> Result<Vec<(String, fs::FileType)>> {
    const ATTEMPTS: usize = 5;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_list_folder(dir) {
            Err(err) if err.kind() == io::ErrorKind::NotFound && attempt < ATTEMPTS => continue,
            listed => return listed.map_err(|e| PluginError::io("list", dir, &e)),
        }
    }
}

fn try_list_folder(dir: &Path) -> io::Result<Vec<(String, fs::FileType)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Ok(name) = entry.file_name().into_string() {
            entries.push((name, entry.file_type()?));
        }
    }
    Ok(entries)
}

/// Removes what interrupted operations left in `backups/`: partial
/// archives, the catalog's temporary file and restore staging folders
/// (logging what cannot be removed). Folders holding the files from before
/// an interrupted restore are kept (they may be the only copy) and reported.
fn remove_stale_files(ctx: Context) -> Result<()> {
    let backups = &ctx.roots.backups;
    for (name, _) in list_folder(backups)? {
        let path = backups.join(&name);
        let removed = if is_partial_name(&name) || name == CATALOG_TMP || name == HIGH_WATER_TMP {
            fs::remove_file(&path)
        } else if is_staging_folder_name(&name) || is_job_folder_name(&name) {
            fs::remove_dir_all(&path)
        } else {
            if is_previous_folder_name(&name) {
                ctx.warn(&format!(
                    "{} holds the files from before an interrupted restore; move them back or \
                     delete the folder",
                    path.display()
                ));
            }
            continue;
        };
        match removed {
            Ok(()) => ctx.info(&format!("removed {} left by an interrupted operation", path.display())),
            // Not fatal: the operation can go on; the leftover is reported.
            Err(err) => {
                ctx.warn(&format!("could not remove {}, left by an interrupted operation: {err}", path.display()))
            }
        }
    }
    Ok(())
}
