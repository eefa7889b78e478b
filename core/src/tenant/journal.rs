//! The restore swap and its journal. A restored tenant is staged in
//! `ROOT/.kinesis/restore/new/` (`data/`, `public/`, `translations/` and,
//! when the backup has one, `.env`). The swap then renames each live part to
//! `old/` and the staged part into its place. Before the first rename a
//! journal is written and synced (as SQLite does with its rollback journal),
//! so that whatever opens the tenant next settles a swap a crash
//! interrupted: a journal that is not committed is rolled back to the
//! tenant as it was, a committed one is finished. Every step is a rename
//! and can be repeated, so a crash during recovery is recovered too.
//!
//! The tenant is therefore always exactly as before the restore or exactly
//! as the backup, `.env` included, never a mix.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{remove_any, remove_tree_in_parallel, sync_dir, sync_filesystem, write_atomic};
use super::layout::{RestoreDirs, TenantDirs};
use crate::crash::crash_point;

/// Why a swap or its recovery failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A step failed; the message says which.
    #[error("{step}: {source}")]
    Step {
        /// What was being done.
        step: String,
        /// Why it failed.
        source: io::Error,
    },
    /// The journal file cannot be understood.
    #[error(
        "the restore journal {path} is damaged ({reason}); the files from before the restore are in {old}: \
         move them back by hand, then delete {restore_dir}"
    )]
    Damaged {
        /// The journal.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// Where the put-aside files are.
        old: PathBuf,
        /// The restore folder to delete afterwards.
        restore_dir: PathBuf,
    },
}

fn step(step: impl Into<String>) -> impl FnOnce(io::Error) -> JournalError {
    let step = step.into();
    move |source| JournalError::Step { step, source }
}

/// How far a swap got, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Parts are being swapped; undone by recovery.
    Swapping,
    /// Every part is swapped and accepted; recovery only cleans up.
    Committed,
}

/// The journal file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    phase: Phase,
    /// The backup being restored, for messages.
    backup_id: u64,
    /// Whether the tenant had a `.env` before the swap.
    env_existed: bool,
    /// Whether the backup brings a `.env` (else the live one is kept).
    env_replaced: bool,
}

/// One part of the tenant that a swap replaces.
struct Part {
    /// The live path.
    live: PathBuf,
    /// Where the staged replacement is.
    new: PathBuf,
    /// Where the live one is put aside.
    old: PathBuf,
}

/// The parts of `dirs` a swap replaces, in swap order.
fn parts(dirs: &TenantDirs, restore: &RestoreDirs, env_replaced: bool) -> Vec<Part> {
    let mut parts: Vec<Part> = [("data", &dirs.data), ("public", &dirs.public), ("translations", &dirs.translations)]
        .into_iter()
        .map(|(name, live)| Part { live: live.clone(), new: restore.new.join(name), old: restore.old.join(name) })
        .collect();
    if env_replaced {
        parts.push(Part { live: dirs.env_file.clone(), new: restore.new.join("env"), old: restore.old.join("env") });
    }
    parts
}

/// The staged folders a plugin restores into, with `.env` captured as a file.
pub fn staged_dirs(dirs: &TenantDirs, restore: &RestoreDirs) -> TenantDirs {
    TenantDirs {
        root: dirs.root.clone(),
        data: restore.new.join("data"),
        public: restore.new.join("public"),
        translations: restore.new.join("translations"),
        backups: dirs.backups.clone(),
        env_file: restore.new.join("env"),
    }
}

/// Creates an empty staging area (`new/` with the three content folders).
/// Anything left from an earlier, settled restore is removed first.
pub fn prepare_staging(dirs: &TenantDirs, restore: &RestoreDirs) -> Result<TenantDirs, JournalError> {
    remove_any(&restore.root)
        .map_err(step(format!("cannot remove the old restore folder {}", restore.root.display())))?;
    let staged = staged_dirs(dirs, restore);
    for dir in [&staged.data, &staged.public, &staged.translations, &restore.old] {
        std::fs::create_dir_all(dir).map_err(step(format!("cannot create {}", dir.display())))?;
    }
    Ok(staged)
}

/// Makes the staged files durable (one sync of their whole filesystem),
/// before [`Swap::begin`].
pub fn sync_staged(restore: &RestoreDirs) -> Result<(), JournalError> {
    sync_filesystem(&restore.root).map_err(step("cannot sync the restored files to disk"))
}

/// Removes the staging area of a restore that never started its swap.
pub fn discard_staging(restore: &RestoreDirs) {
    if let Err(err) = remove_any(&restore.root) {
        tracing::warn!(path = %restore.root.display(), "cannot remove the restore staging folder: {err}");
    }
}

/// A swap in progress: the journal is on disk.
pub struct Swap {
    dirs: TenantDirs,
    restore: RestoreDirs,
    record: Record,
}

impl Swap {
    /// Writes and syncs the journal; nothing live has changed yet. The
    /// staged files must be durable already ([`sync_staged`]).
    pub fn begin(dirs: &TenantDirs, restore: &RestoreDirs, backup_id: u64) -> Result<Swap, JournalError> {
        let env_replaced = std::fs::symlink_metadata(restore.new.join("env")).is_ok();
        let env_existed = std::fs::symlink_metadata(&dirs.env_file).is_ok();
        let record = Record { phase: Phase::Swapping, backup_id, env_existed, env_replaced };
        let swap = Swap { dirs: dirs.clone(), restore: restore.clone(), record };
        swap.write_journal()?;
        Ok(swap)
    }

    /// Puts each live part aside and the staged one in its place.
    pub fn apply(&self) -> Result<(), JournalError> {
        crash_point("swap-start");
        for part in parts(&self.dirs, &self.restore, self.record.env_replaced) {
            if exists(&part.live) {
                rename(&part.live, &part.old)?;
            }
            crash_point("swap-part-aside");
            rename(&part.new, &part.live)?;
            sync_parents(&[&part.live, &part.old])?;
            crash_point("swap-part-done");
        }
        Ok(())
    }

    /// Accepts the swap: the journal is marked committed, then the files
    /// put aside are removed and the journal with them.
    pub fn commit(mut self) -> Result<(), JournalError> {
        self.record.phase = Phase::Committed;
        self.write_journal()?;
        crash_point("committed");
        finish(&self.restore)
    }

    /// Undoes the swap: the tenant is as it was before it began.
    pub fn roll_back(self) -> Result<(), JournalError> {
        roll_back(&self.dirs, &self.restore, &self.record)
    }

    fn write_journal(&self) -> Result<(), JournalError> {
        let json = serde_json::to_vec_pretty(&self.record).map_err(|e| JournalError::Step {
            step: "cannot encode the restore journal".into(),
            source: io::Error::other(e),
        })?;
        write_atomic(&self.restore.journal, &json)
            .map_err(step(format!("cannot write the restore journal {}", self.restore.journal.display())))
    }
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// No restore was in progress.
    Nothing,
    /// A restore stopped before its swap; its staging area was removed.
    StagingRemoved,
    /// A swap stopped before it was accepted; the tenant is as before it.
    RolledBack {
        /// The backup that was being restored.
        backup_id: u64,
    },
    /// A swap was accepted but not cleaned up; the cleanup is done.
    Finished {
        /// The restored backup.
        backup_id: u64,
    },
}

/// Settles a restore that a crash interrupted. Call with the tenant lock
/// held, before anything reads the tenant's data.
pub fn recover(dirs: &TenantDirs, restore: &RestoreDirs) -> Result<Recovery, JournalError> {
    if !exists(&restore.root) {
        return Ok(Recovery::Nothing);
    }
    let bytes = match std::fs::read(&restore.journal) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            // No journal: the swap never began, nothing live was touched.
            remove_any(&restore.root).map_err(step(format!("cannot remove {}", restore.root.display())))?;
            return Ok(Recovery::StagingRemoved);
        }
        Err(err) => return Err(step(format!("cannot read {}", restore.journal.display()))(err)),
    };
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| JournalError::Damaged {
        path: restore.journal.clone(),
        reason: e.to_string(),
        old: restore.old.clone(),
        restore_dir: restore.root.clone(),
    })?;
    match record.phase {
        Phase::Swapping => {
            roll_back(dirs, restore, &record)?;
            Ok(Recovery::RolledBack { backup_id: record.backup_id })
        }
        Phase::Committed => {
            finish(restore)?;
            Ok(Recovery::Finished { backup_id: record.backup_id })
        }
    }
}

/// Puts every part back, newest first. Idempotent: a part whose live path
/// is the original (never moved, or already put back) is left alone.
fn roll_back(dirs: &TenantDirs, restore: &RestoreDirs, record: &Record) -> Result<(), JournalError> {
    for part in parts(dirs, restore, record.env_replaced).into_iter().rev() {
        let is_env = part.live == dirs.env_file;
        if exists(&part.old) {
            // Put aside: whatever is live now is the staged copy.
            if exists(&part.live) {
                remove_any(&part.live).map_err(step(format!("cannot remove {}", part.live.display())))?;
            }
            rename(&part.old, &part.live)?;
        } else if is_env && !record.env_existed && !exists(&part.new) && exists(&part.live) {
            // The tenant had no .env and the backup's was moved in: remove it.
            remove_any(&part.live).map_err(step(format!("cannot remove {}", part.live.display())))?;
        }
        sync_parents(&[&part.live])?;
    }
    crash_point("rolled-back");
    finish(restore)
}

/// Removes the restore folder (put-aside files, staging, journal), the
/// journal last so that a crash before the end repeats the cleanup.
fn finish(restore: &RestoreDirs) -> Result<(), JournalError> {
    for dir in [&restore.old, &restore.new] {
        remove_tree_in_parallel(dir).map_err(step(format!("cannot remove {}", dir.display())))?;
    }
    remove_any(&restore.journal).map_err(step(format!("cannot remove {}", restore.journal.display())))?;
    remove_any(&restore.root).map_err(step(format!("cannot remove {}", restore.root.display())))?;
    if let Some(parent) = restore.root.parent() {
        sync_dir(parent).map_err(step(format!("cannot sync {}", parent.display())))?;
    }
    Ok(())
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn rename(from: &Path, to: &Path) -> Result<(), JournalError> {
    std::fs::rename(from, to).map_err(step(format!("cannot move {} to {}", from.display(), to.display())))
}

fn sync_parents(paths: &[&Path]) -> Result<(), JournalError> {
    for path in paths {
        if let Some(parent) = path.parent() {
            sync_dir(parent).map_err(step(format!("cannot sync {}", parent.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::layout::WorkDirs;

    fn tenant() -> (tempfile::TempDir, TenantDirs, RestoreDirs) {
        let root = tempfile::tempdir().unwrap();
        let dirs = TenantDirs::for_root(root.path());
        dirs.ensure_exist().unwrap();
        std::fs::write(dirs.data.join("db"), "old db").unwrap();
        std::fs::write(dirs.public.join("p"), "old public").unwrap();
        std::fs::write(&dirs.env_file, "OLD=1").unwrap();
        let restore = WorkDirs::for_root(root.path()).restore();
        (root, dirs, restore)
    }

    fn stage(dirs: &TenantDirs, restore: &RestoreDirs, env: Option<&str>) {
        let staged = prepare_staging(dirs, restore).unwrap();
        std::fs::write(staged.data.join("db"), "new db").unwrap();
        std::fs::write(staged.translations.join("t"), "new t").unwrap();
        if let Some(env) = env {
            std::fs::write(&staged.env_file, env).unwrap();
        }
    }

    fn state(dirs: &TenantDirs) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for dir in [&dirs.data, &dirs.public, &dirs.translations] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                out.push((entry.path().display().to_string(), std::fs::read_to_string(entry.path()).unwrap()));
            }
        }
        out.push((".env".into(), std::fs::read_to_string(&dirs.env_file).unwrap_or_else(|_| "<none>".into())));
        out.sort();
        out
    }

    #[test]
    fn a_committed_swap_leaves_exactly_the_backup_and_nothing_else() {
        let (_root, dirs, restore) = tenant();
        stage(&dirs, &restore, Some("NEW=1"));
        let swap = Swap::begin(&dirs, &restore, 7).unwrap();
        swap.apply().unwrap();
        swap.commit().unwrap();
        assert_eq!(std::fs::read_to_string(dirs.data.join("db")).unwrap(), "new db");
        assert!(!dirs.public.join("p").exists());
        assert_eq!(std::fs::read_to_string(&dirs.env_file).unwrap(), "NEW=1");
        assert!(!restore.root.exists());
    }

    #[test]
    fn a_rolled_back_swap_leaves_exactly_the_tenant_as_before() {
        let (_root, dirs, restore) = tenant();
        let before = state(&dirs);
        stage(&dirs, &restore, Some("NEW=1"));
        let swap = Swap::begin(&dirs, &restore, 7).unwrap();
        swap.apply().unwrap();
        swap.roll_back().unwrap();
        assert_eq!(state(&dirs), before);
        assert!(!restore.root.exists());
    }

    #[test]
    fn recovery_after_each_partial_swap_restores_the_before_state() {
        for (env_before, env_backup) in [(true, true), (false, true), (true, false)] {
            // Every prefix of the swap's renames, as a crash could leave it.
            for renames in 0..=8 {
                let (_root, dirs, restore) = tenant();
                if !env_before {
                    std::fs::remove_file(&dirs.env_file).unwrap();
                }
                let before = state(&dirs);
                stage(&dirs, &restore, env_backup.then_some("NEW=1"));
                let swap = Swap::begin(&dirs, &restore, 3).unwrap();
                let mut done = 0;
                'parts: for part in parts(&dirs, &restore, swap.record.env_replaced) {
                    for (from, to) in [(&part.live, &part.old), (&part.new, &part.live)] {
                        if done == renames {
                            break 'parts;
                        }
                        if exists(from) {
                            std::fs::rename(from, to).unwrap();
                        }
                        done += 1;
                    }
                }
                drop(swap);
                assert_eq!(recover(&dirs, &restore).unwrap(), Recovery::RolledBack { backup_id: 3 });
                assert_eq!(state(&dirs), before, "env before {env_before}, backup env {env_backup}, {renames} renames");
                assert!(!restore.root.exists());
                assert_eq!(recover(&dirs, &restore).unwrap(), Recovery::Nothing);
            }
        }
    }

    #[test]
    fn a_committed_journal_is_finished_and_staging_without_journal_removed() {
        let (_root, dirs, restore) = tenant();
        stage(&dirs, &restore, None);
        let mut swap = Swap::begin(&dirs, &restore, 5).unwrap();
        swap.apply().unwrap();
        swap.record.phase = Phase::Committed;
        swap.write_journal().unwrap();
        assert_eq!(recover(&dirs, &restore).unwrap(), Recovery::Finished { backup_id: 5 });
        assert_eq!(std::fs::read_to_string(dirs.data.join("db")).unwrap(), "new db");
        assert_eq!(std::fs::read_to_string(&dirs.env_file).unwrap(), "OLD=1");

        stage(&dirs, &restore, None);
        assert_eq!(recover(&dirs, &restore).unwrap(), Recovery::StagingRemoved);
        assert_eq!(std::fs::read_to_string(dirs.data.join("db")).unwrap(), "new db");
    }
}
