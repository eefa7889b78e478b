//! The `backups/` folder as the catalog sees it: listing it (archives and
//! what interrupted operations left), removing those leftovers, and the
//! folder note that lets calls skip the listing.
//!
//! A folder note records the modification time of `backups/` at a moment
//! when the records were known to match the archives exactly. While the
//! folder's modification time still equals it, no archive has come or gone,
//! so the records need no reconciling. A note is only written when it can be
//! trusted: file-system times are coarse (a few milliseconds), so an entry
//! added in the same tick as the noted time would not move it. The writer
//! therefore first rewrites a probe file in the catalog's folder and only
//! notes a folder time older than the probe's: any later change of
//! `backups/` then gets a time at least the probe's, hence a different one.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::store::{CATALOG_DIR, PROBE_FILE};
use crate::archive::name::{
    is_job_folder_name, is_partial_name, is_previous_folder_name, is_staging_folder_name, parse_archive_name,
};
use crate::error::{PluginError, Result};
use crate::host::Context;

/// File name of the format-1 catalog inside `backups/`.
pub const LEGACY_CATALOG_FILE: &str = "catalog.json";
/// File name of the format-1 id high-water mark inside `backups/`.
pub const LEGACY_HIGH_WATER_FILE: &str = "ids.json";
const LEGACY_TEMPORARIES: [&str; 2] = ["catalog.json.tmp", "ids.json.tmp"];
/// Attempts at a trustworthy folder time before giving up for this call.
const STEADY_ATTEMPTS: u32 = 6;

/// A modification time: seconds and nanoseconds since the epoch.
pub(super) type Mtime = (u64, u32);

/// The modification time of `backups/` when the records last matched the
/// archives, and whether entries to clean up were there at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FolderNote {
    /// Modification time of `backups/`.
    pub mtime: Mtime,
    /// Whether partial archives, restore folders, temporary files or a
    /// migrated format-1 catalog were there (a change then lists the folder
    /// to deal with them).
    pub leftovers: bool,
}

/// What `backups/` holds.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// Archives: name -> (id, creation time from the name).
    pub archives: BTreeMap<String, (u64, i64)>,
    /// Entries left by interrupted operations or by the format-1 catalog.
    pub leftovers: Vec<String>,
}

/// The modification time of `path`, if it can be read.
pub(super) fn mtime(path: &Path) -> Option<Mtime> {
    to_mtime(fs::metadata(path).ok()?.modified().ok()?)
}

fn to_mtime(time: SystemTime) -> Option<Mtime> {
    let since = time.duration_since(UNIX_EPOCH).ok()?;
    Some((since.as_secs(), since.subsec_nanos()))
}

/// Whether the note still describes `backups/`.
pub(super) fn in_step(note: Option<&FolderNote>, backups: &Path) -> bool {
    note.is_some_and(|note| mtime(backups) == Some(note.mtime))
}

/// The modification time of `backups/`, once it is older than the file
/// system's current time (read from the probe file in `catalog_dir`), so
/// that any later change of the folder moves it. `None` when the folder kept
/// changing in the same tick.
pub(super) fn steady_mtime(backups: &Path, catalog_dir: &Path) -> Result<Option<Mtime>> {
    let probe = catalog_dir.join(PROBE_FILE);
    for attempt in 0..STEADY_ATTEMPTS {
        let now = touch(&probe).map_err(|e| PluginError::io("write", &probe, &e))?;
        match (mtime(backups), now) {
            (Some(folder), Some(now)) if folder < now => return Ok(Some(folder)),
            (None, _) | (_, None) => return Ok(None),
            _ => std::thread::sleep(Duration::from_millis(2 << attempt)),
        }
    }
    Ok(None)
}

/// Rewrites `path` and returns its new modification time.
fn touch(path: &Path) -> io::Result<Option<Mtime>> {
    let mut file = fs::File::create(path)?;
    file.write_all(b"\n")?;
    Ok(to_mtime(file.metadata()?.modified()?))
}

/// Lists `backups/`. A change running beside this call may rename a
/// temporary file while it is listed; the listing is then taken again, so a
/// reader never fails because of it.
pub(super) fn list(backups: &Path) -> Result<Listing> {
    const ATTEMPTS: usize = 5;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_list(backups) {
            Err(err) if err.kind() == io::ErrorKind::NotFound && attempt < ATTEMPTS => continue,
            listed => return listed.map_err(|e| PluginError::io("list", backups, &e)),
        }
    }
}

fn try_list(dir: &Path) -> io::Result<Listing> {
    let mut listing = Listing::default();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        if name == CATALOG_DIR {
            continue;
        }
        if let Some(parsed) = parse_archive_name(&name) {
            if entry.file_type()?.is_file() {
                listing.archives.insert(name, parsed);
            }
        } else if is_leftover(&name) {
            listing.leftovers.push(name);
        }
    }
    Ok(listing)
}

fn is_leftover(name: &str) -> bool {
    is_partial_name(name)
        || is_staging_folder_name(name)
        || is_job_folder_name(name)
        || is_previous_folder_name(name)
        || LEGACY_TEMPORARIES.contains(&name)
        || name == LEGACY_CATALOG_FILE
        || name == LEGACY_HIGH_WATER_FILE
}

/// Removes what interrupted operations left in `backups/`: partial
/// archives, the folders of interrupted creates, the format-1 catalog's
/// temporary files and restore staging folders (logging what cannot be removed); with `migrated`, also the
/// format-1 catalog and id mark, which the snapshot replaced. Folders
/// holding the files from before an interrupted restore are kept (they may
/// be the only copy) and reported. Returns whether anything was removed.
pub(super) fn remove_leftovers(ctx: Context, listing: &Listing, migrated: bool) -> bool {
    let backups = &ctx.roots.backups;
    let mut removed_any = false;
    for name in &listing.leftovers {
        let path = backups.join(name);
        let legacy = name == LEGACY_CATALOG_FILE || name == LEGACY_HIGH_WATER_FILE;
        let removed = if is_partial_name(name) || LEGACY_TEMPORARIES.contains(&name.as_str()) || (legacy && migrated) {
            fs::remove_file(&path)
        } else if is_staging_folder_name(name) || is_job_folder_name(name) {
            fs::remove_dir_all(&path)
        } else {
            if is_previous_folder_name(name) {
                ctx.warn(&format!(
                    "{} holds the files from before an interrupted restore; move them back or \
                     delete the folder",
                    path.display()
                ));
            }
            continue;
        };
        match removed {
            Ok(()) if legacy => {
                removed_any = true;
                ctx.info(&format!("removed {}, replaced by the catalog in {CATALOG_DIR}/", path.display()));
            }
            Ok(()) => {
                removed_any = true;
                ctx.info(&format!("removed {} left by an interrupted operation", path.display()));
            }
            // Not fatal: the operation can go on; the leftover is reported.
            Err(err) => {
                ctx.warn(&format!("could not remove {}, left by an interrupted operation: {err}", path.display()))
            }
        }
    }
    removed_any
}
