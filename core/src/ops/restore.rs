//! Restore, the same for every face. The plugin restores into an empty
//! staging area (`ROOT/.kinesis/restore/new/`), never into the live
//! folders, while the database keeps serving. The host then refuses what it
//! must not accept (links or special files, a database that does not open),
//! closes the database, swaps the staged parts in under a journal
//! ([`crate::tenant::journal`]), and opens the database again: if it does
//! not open, the swap is rolled back and the previous data serves again.
//! A crash at any point is settled by whatever opens the tenant next.

use std::time::Instant;

use super::error::OpsError;
use super::space::{Space, unpacked_size};
use super::{Backups, OperationKind};
use crate::model::RestoreReport;
use crate::runtime::{Invocation, ProgressFn};
use crate::tenant::journal::{self, Swap};
use crate::tenant::leftovers::Before;
use crate::tenant::tree_copy::first_special_entry;

impl Backups {
    /// Replaces `.env`, `data/`, `public/` and `translations/` with backup
    /// `id`. Answers [`OpsError::Busy`] at once when another backup or
    /// restore of the tenant runs.
    pub fn restore(&self, id: u64, progress: Option<ProgressFn>) -> Result<RestoreReport, OpsError> {
        let _running = self.begin_long()?;
        let tracked = self.activity.start(OperationKind::Restore, Some(id));
        let restored = self.restore_running(id, tracked.progress(progress));
        tracked.finish(&restored, None, true);
        restored
    }

    /// The restore itself, with the tenant's backup-or-restore slot held.
    fn restore_running(&self, id: u64, progress: Option<ProgressFn>) -> Result<RestoreReport, OpsError> {
        let backup = self.ensure_local(id)?;
        let started = Instant::now();
        let dirs = self.tenant.dirs();
        let restore_dirs = self.tenant.work().restore();
        std::fs::create_dir_all(&self.tenant.work().root).map_err(|e| OpsError::Io(e.to_string()))?;
        let need = unpacked_size(&dirs.backups.join(&backup.name), backup.size);
        let space = Space::before(&self.tenant.work().root, need);
        space.refuse_when_short()?;
        let staged = journal::prepare_staging(dirs, &restore_dirs).map_err(|source| OpsError::Swap { id, source })?;

        let refused = |reason: String| OpsError::RestoreRefused { id, reason };
        let prepared = (|| {
            let invocation = Invocation { data_bytes: backup.size, ..self.invocation(staged.clone(), progress) };
            let before = Before::note(&dirs.backups, &self.tenant.work().plugin_call_note());
            let report = self.runtime.restore(&invocation, id).map_err(|err| {
                let _held = self.runtime.hold_tenant(self.tenant.root());
                before.clean_after(err.stopped_the_plugin());
                space.explain(err)
            })?;
            for folder in [&staged.data, &staged.public, &staged.translations] {
                let found = first_special_entry(folder)
                    .map_err(|e| OpsError::Io(format!("cannot check {}: {e}", folder.display())))?;
                if let Some(path) = found {
                    return Err(refused(format!(
                        "the plugin left {}, which is not a regular file or folder; the host never swaps in links or special files",
                        path.strip_prefix(&restore_dirs.new).unwrap_or(&path).display()
                    )));
                }
            }
            self.engine
                .check(&staged.data)
                .map_err(|reason| refused(format!("the backup's database cannot be used ({reason})")))?;
            Ok(report)
        })();
        let report = match prepared {
            Ok(report) => report,
            Err(err) => {
                journal::discard_staging(&restore_dirs);
                return Err(err);
            }
        };

        crate::crash::crash_point("staged");
        // The staged files are made durable while the database still serves.
        if let Err(source) = journal::sync_staged(&restore_dirs) {
            journal::discard_staging(&restore_dirs);
            return Err(OpsError::Swap { id, source });
        }
        self.engine.close();
        let swap = match Swap::begin(dirs, &restore_dirs, id) {
            Ok(swap) => swap,
            Err(source) => {
                journal::discard_staging(&restore_dirs);
                return self.reopen_after_failure(id, OpsError::Swap { id, source });
            }
        };
        if let Err(source) = swap.apply() {
            let undone = swap.roll_back();
            let failure = OpsError::Swap { id, source };
            return match undone {
                Ok(()) => self.reopen_after_failure(id, failure),
                Err(source) => Err(OpsError::Swap { id, source }),
            };
        }
        if let Err(reason) = self.engine.open() {
            return match swap.roll_back() {
                Ok(()) => self.reopen_after_failure(id, OpsError::RestoreRolledBack { id, reason }),
                Err(source) => Err(OpsError::Swap { id, source }),
            };
        }
        if let Err(source) = swap.commit() {
            // The restored files are live and accepted; only the cleanup of
            // what was put aside failed. The next open finishes it.
            tracing::warn!("backup {id} is restored, but cleaning up after it failed: {source}");
        }
        tracing::info!(
            "restored backup {id} in {} ms: {} files, {} bytes",
            started.elapsed().as_millis(),
            report.files,
            report.bytes
        );
        Ok(report)
    }

    /// Opens the database after a restore that changed nothing in the end,
    /// and answers `failure` (or why the database does not open either).
    fn reopen_after_failure<T>(&self, id: u64, failure: OpsError) -> Result<T, OpsError> {
        match self.engine.open() {
            Ok(()) => Err(failure),
            Err(reason) => Err(OpsError::Reopen { id, reason: format!("{reason}; before that: {failure}") }),
        }
    }
}
