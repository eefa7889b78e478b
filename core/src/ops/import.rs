//! Uploads: an archive made elsewhere (another machine, a download kept
//! aside) added back to the tenant's backups. An archive belongs to its
//! backup (its manifest names the id), so it comes back under its own
//! archive name `backup-YYYYMMDD_HHMM_ID.tar.gz`, given with the upload.
//! It is written to a folder of its own under `ROOT/.kinesis/import-…/` and
//! checked completely there by the plugin's verify (manifest, every hash,
//! the rules against hostile archives) with that folder as the plugin's
//! `backups`. Only an archive that passes is moved into `backups/`, where
//! the catalog adopts it; anything else is refused and the folder removed,
//! so nothing of it is ever listed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::offsite::Change;
use super::{Backups, OpsError};
use crate::model::{Backup, ExpiryChange, archive_id};
use crate::runtime::CallError;
use crate::tenant::files::{available_bytes, is_disk_full, remove_any, sync_dir};

/// Problems of a refused upload quoted in the answer.
const PROBLEMS_QUOTED: usize = 5;

/// The place an upload is written to before it is checked; removed when
/// dropped. It holds the tenant's one upload slot until then.
#[derive(Debug)]
pub struct ImportStaging {
    dir: PathBuf,
    file: PathBuf,
    room: Option<u64>,
    _receiving: Receiving,
}

/// The tenant's upload slot, taken; given back when dropped.
#[derive(Debug)]
struct Receiving(Arc<AtomicBool>);

impl Receiving {
    /// Takes the slot `flag`, unless another upload holds it.
    fn claim(flag: &Arc<AtomicBool>) -> Result<Receiving, OpsError> {
        if flag.swap(true, Ordering::AcqRel) {
            return Err(OpsError::UploadRunning);
        }
        Ok(Receiving(flag.clone()))
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl ImportStaging {
    /// The file the upload is to be written to.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The most bytes the upload may have under the tenant's byte quota
    /// (`None` without one).
    pub fn room(&self) -> Option<u64> {
        self.room
    }

    /// Refuses an upload of `size` bytes (so far, or announced) that is
    /// larger than `limit`, the face's own cap, or than the room the
    /// tenant's quota leaves.
    pub fn refuse_past(&self, size: u64, limit: u64) -> Result<(), OpsError> {
        if size > limit {
            return Err(OpsError::TooLarge { limit });
        }
        match self.room {
            Some(room) if size > room => Err(OpsError::QuotaExceeded(format!(
                "the upload is larger than the {} the tenant's backups may still take under its quota; \
                 delete some backups or give them an expiry",
                super::size_in_words(room)
            ))),
            _ => Ok(()),
        }
    }

    /// A failed write of the upload, a full disk told apart.
    pub fn write_failure(&self, err: std::io::Error) -> OpsError {
        if is_disk_full(&err) {
            let have = available_bytes(&self.dir).unwrap_or(0);
            return OpsError::DiskFull {
                place: self.dir.display().to_string(),
                need: "room for the upload".into(),
                have: super::size_in_words(have),
            };
        }
        OpsError::Io(format!("cannot write the upload: {err}"))
    }
}

impl Drop for ImportStaging {
    fn drop(&mut self) {
        if let Err(err) = remove_any(&self.dir) {
            tracing::warn!("cannot remove the upload folder {}: {err}", self.dir.display());
        }
    }
}

impl Backups {
    /// A fresh place to write an upload of archive `name` to, with the
    /// tenant's one upload slot (another upload meanwhile is refused) and
    /// the room its quota leaves. A `name` without the archive shape is
    /// refused before anything is received.
    pub fn import_begin(&self, name: &str) -> Result<ImportStaging, OpsError> {
        static IMPORTS: AtomicU64 = AtomicU64::new(0);
        import_id(name)?;
        let receiving = Receiving::claim(&self.uploading)?;
        let room = self.quota_room()?;
        let dir = self.tenant.work().import(IMPORTS.fetch_add(1, Ordering::Relaxed));
        std::fs::create_dir_all(dir.join("backups"))
            .map_err(|err| OpsError::Io(format!("cannot make the upload folder {}: {err}", dir.display())))?;
        Ok(ImportStaging { file: dir.join("upload.part"), dir, room, _receiving: receiving })
    }

    /// Writes all of `reader` to a fresh place, refusing more than `limit`
    /// bytes, and imports it as archive `name` (the command line's
    /// `backup import`).
    pub fn import_from(
        &self,
        reader: &mut dyn Read,
        limit: Option<u64>,
        name: &str,
        description: Option<&str>,
    ) -> Result<Backup, OpsError> {
        let staging = self.import_begin(name)?;
        let mut file = std::fs::File::create(staging.path()).map_err(|err| staging.write_failure(err))?;
        let allowed = limit.unwrap_or(u64::MAX);
        let room = staging.room().unwrap_or(u64::MAX);
        let written = std::io::copy(&mut reader.take(allowed.min(room).saturating_add(1)), &mut file)
            .map_err(|err| staging.write_failure(err))?;
        staging.refuse_past(written, allowed)?;
        file.flush().and_then(|()| file.sync_all()).map_err(|err| staging.write_failure(err))?;
        drop(file);
        self.import(staging, name, description)
    }

    /// Checks the archive written to `staging` completely and adds it under
    /// its archive `name` with `description` (by default the one its
    /// offsite record has, else `uploaded`), or refuses it leaving nothing
    /// behind. A backup with its id must not exist already.
    pub fn import(&self, staging: ImportStaging, name: &str, description: Option<&str>) -> Result<Backup, OpsError> {
        let id = import_id(name)?;
        let _running = self.begin_long()?;
        if self.local_archive_ids().contains(&id) || self.get(id).is_ok() {
            return Err(OpsError::ImportRefused(format!("backup {id} exists already")));
        }
        let record = self.offsite.as_ref().and_then(|offsite| offsite.remote_record(id));
        if let Some(record) = record.as_ref().filter(|record| record.backup.name != name) {
            return Err(OpsError::ImportRefused(format!(
                "backup {id} is {} in the offsite copies, not {name}",
                record.backup.name
            )));
        }
        let already_offsite = record.is_some();
        let description = description
            .map(str::to_owned)
            .or_else(|| record.map(|record| record.backup.description))
            .unwrap_or_else(|| "uploaded".to_owned());
        let checking = staging.dir.join("backups");
        let staged = checking.join(name);
        std::fs::rename(&staging.file, &staged)
            .map_err(|err| OpsError::Io(format!("cannot stage the upload: {err}")))?;
        let size = std::fs::metadata(&staged).map(|meta| meta.len()).unwrap_or(0);
        self.check_quota(Some(size))?;
        let dirs = crate::tenant::TenantDirs { backups: checking, ..self.tenant.dirs().clone() };
        let invocation = crate::runtime::Invocation { data_bytes: size, ..self.invocation(dirs, None) };
        let report = match self.runtime.verify(&invocation, id) {
            Ok(report) => report,
            Err(
                CallError::CorruptArchive(reason)
                | CallError::InvalidInput(reason)
                | CallError::NotFound(reason)
                | CallError::Storage(reason),
            ) => return Err(OpsError::ImportRefused(reason)),
            Err(err) => return Err(err.into()),
        };
        if !report.ok {
            let mut problems: Vec<String> = report.problems.iter().take(PROBLEMS_QUOTED).cloned().collect();
            if report.problems.len() > PROBLEMS_QUOTED {
                problems.push(format!("and {} more", report.problems.len() - PROBLEMS_QUOTED));
            }
            return Err(OpsError::ImportRefused(problems.join("; ")));
        }
        let backups = &self.tenant.dirs().backups;
        let dest = backups.join(name);
        if dest.exists() {
            return Err(OpsError::Io(format!("{name} already exists in backups/")));
        }
        std::fs::rename(&staged, &dest).map_err(|err| OpsError::Io(format!("cannot move the upload: {err}")))?;
        let _ = sync_dir(backups);
        let backup = match self.runtime.update(&self.live(), id, Some(&description), ExpiryChange::Keep) {
            Ok(backup) => backup,
            Err(err) => {
                let _ = std::fs::remove_file(&dest);
                return Err(err.into());
            }
        };
        tracing::info!("imported backup {} ({} bytes)", backup.name, backup.size);
        if !already_offsite {
            self.offsite_after(Change::Created(&backup));
        }
        self.activity.changed();
        Ok(backup)
    }
}

/// The id of archive `name`, which must have the archive shape.
fn import_id(name: &str) -> Result<u64, OpsError> {
    archive_id(name).ok_or_else(|| {
        OpsError::ImportName(format!(
            "{name:?} is not an archive name; give the archive's own name, backup-YYYYMMDD_HHMM_ID.tar.gz"
        ))
    })
}
