//! Restore with an engine reset. While the plugin replaces the tenant's
//! files the database is closed and every database request waits (none
//! fails). `data/` and `.env` are first put aside in `ROOT/.kinesis/`; after
//! the plugin has run, the restored database must open and read its users,
//! or the previous files are put back and served again. After a restore
//! `.env` is read again (its token secret may have changed).

use std::path::{Path, PathBuf};
use std::time::Instant;

use axum::http::StatusCode;

use super::db::{Db, DbError};
use super::response::ApiError;
use super::state::{AppState, blocking};
use super::tree_copy::{copy_tree, replace_contents};
use crate::model::RestoreReport;
use crate::runtime::Invocation;
use crate::tenants::{EnvError, TenantDirs};

/// Where `data/` and `.env` are kept during a restore, under the work folder.
const ASIDE: &str = "pre-restore";
/// Where they are copied first; renamed to [`ASIDE`] once complete.
const ASIDE_PARTIAL: &str = "pre-restore.partial";

/// Why a restore could not keep or bring back a working database.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The current data could not be put aside; nothing was changed.
    #[error(
        "cannot put the current data aside in {path} before restoring ({source}); nothing was changed"
    )]
    SetAside {
        /// The aside folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The restored database did not open; the previous data serves again.
    #[error(
        "the backup's database cannot be used ({0}); the previous data/ and .env were put back and are being served"
    )]
    RolledBack(DbError),
    /// Neither the restored nor the previous database could be opened.
    #[error(
        "the restored database cannot be used ({restored}) and putting the previous data back failed ({rollback}); \
         the previous data is kept in {aside}: stop the server, copy it into data/ and start again"
    )]
    RollbackFailed {
        /// Why the restored database was refused.
        restored: DbError,
        /// Why the rollback failed.
        rollback: String,
        /// Where the previous data is.
        aside: PathBuf,
    },
}

impl From<RestoreError> for ApiError {
    fn from(err: RestoreError) -> Self {
        let status = match err {
            RestoreError::RolledBack(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RestoreError::SetAside { .. } | RestoreError::RollbackFailed { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, err.to_string())
    }
}

/// Restores backup `id`. Answers 409 when another backup or restore runs.
pub async fn restore(state: &AppState, id: u64) -> Result<RestoreReport, ApiError> {
    let operation = state.tenant.try_begin_operation()?;
    let closed = state.tenant.db().close().await;
    let (tenant, runtime) = (state.tenant.clone(), state.runtime.clone());
    blocking(move || {
        let _operation = operation;
        let started = Instant::now();
        let dirs = tenant.dirs().clone();
        let aside = Aside::save(&dirs, &tenant.work_dir())?;
        let restored = runtime.restore(&Invocation::new(dirs.clone()), id);
        let (db, refused) = match Db::open_existing(&dirs.data) {
            Ok(db) => (db, None),
            Err(reason) => match aside.put_back(&dirs) {
                Ok(db) => (db, Some(reason)),
                Err(rollback) => {
                    return Err(RestoreError::RollbackFailed {
                        restored: reason,
                        rollback,
                        aside: aside.path,
                    }
                    .into());
                }
            },
        };
        closed.reopen(db);
        aside.remove();
        let report = restored?;
        if let Some(reason) = refused {
            return Err(RestoreError::RolledBack(reason).into());
        }
        if let Err(err) = tenant.reload_settings() {
            tracing::warn!(
                "the restored .env could not be read, the previous settings stay in use: {err}"
            );
        }
        tracing::info!(
            "restored backup {id} in {} ms: {} files, {} bytes",
            started.elapsed().as_millis(),
            report.files,
            report.bytes
        );
        Ok(report)
    })
    .await
}

/// Finishes a restore a crash interrupted: when the aside copy exists and
/// the database in `data/` does not open, the copy is put back. Then the
/// copy is removed.
pub fn recover_interrupted(dirs: &TenantDirs, work_dir: &Path) -> Result<(), RestoreError> {
    let _ = std::fs::remove_dir_all(work_dir.join(ASIDE_PARTIAL));
    let aside = Aside {
        path: work_dir.join(ASIDE),
    };
    if !aside.path.is_dir() {
        return Ok(());
    }
    if let Err(restored) = Db::open_existing(&dirs.data) {
        tracing::warn!(
            "a restore was interrupted and left an unusable database ({restored}); putting the previous data back"
        );
        aside
            .put_back(dirs)
            .map_err(|rollback| RestoreError::RollbackFailed {
                restored,
                rollback,
                aside: aside.path.clone(),
            })?;
    }
    aside.remove();
    Ok(())
}

/// The copy of `data/` and `.env` taken before a restore.
struct Aside {
    path: PathBuf,
}

impl Aside {
    /// Copies `data/` and `.env` aside (first to a partial folder, renamed
    /// when complete, so a crash never leaves half a copy under the name).
    fn save(dirs: &TenantDirs, work_dir: &Path) -> Result<Aside, RestoreError> {
        let path = work_dir.join(ASIDE);
        let partial = work_dir.join(ASIDE_PARTIAL);
        let set_aside = |source| RestoreError::SetAside {
            path: path.clone(),
            source,
        };
        let _ = std::fs::remove_dir_all(&partial);
        let _ = std::fs::remove_dir_all(&path);
        copy_tree(&dirs.data, &partial.join("data")).map_err(set_aside)?;
        let env = dirs.read_env().map_err(|err| set_aside(env_io(err)))?;
        std::fs::write(partial.join("env"), env).map_err(set_aside)?;
        std::fs::rename(&partial, &path).map_err(set_aside)?;
        Ok(Aside { path })
    }

    /// Puts `data/` and `.env` back and opens the database.
    fn put_back(&self, dirs: &TenantDirs) -> Result<Db, String> {
        replace_contents(&dirs.data, &self.path.join("data"))
            .map_err(|err| format!("cannot copy data/ back: {err}"))?;
        let env = std::fs::read(self.path.join("env"))
            .map_err(|err| format!("cannot read the saved .env: {err}"))?;
        dirs.write_env(&env).map_err(|err| err.to_string())?;
        Db::open_existing(&dirs.data)
            .map_err(|err| format!("the previous database does not open either: {err}"))
    }

    /// Deletes the copy.
    fn remove(&self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), "cannot remove the data put aside for the restore: {err}");
        }
    }
}

/// An `.env` error as an I/O error, for [`RestoreError::SetAside`].
fn env_io(err: EnvError) -> std::io::Error {
    std::io::Error::other(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_with_db() -> (tempfile::TempDir, TenantDirs) {
        let root = tempfile::tempdir().unwrap();
        let dirs = TenantDirs::for_root(root.path());
        dirs.ensure_exist().unwrap();
        let db = Db::create(&dirs.data).unwrap();
        db.create_user(
            "root",
            "hash",
            super::super::db::Role::Root,
            chrono::Utc::now(),
        )
        .unwrap();
        db.put_record("c", "k", &serde_json::json!("before"))
            .unwrap();
        dirs.write_env(b"A=before\n").unwrap();
        (root, dirs)
    }

    #[test]
    fn an_interrupted_restore_with_a_broken_database_is_rolled_back() {
        let (root, dirs) = tenant_with_db();
        let work = root.path().join(".kinesis");
        let aside = Aside::save(&dirs, &work).unwrap();
        std::fs::write(dirs.data.join(super::super::db::DB_FILE), b"garbage").unwrap();
        dirs.write_env(b"A=after\n").unwrap();
        drop(aside);
        recover_interrupted(&dirs, &work).unwrap();
        let db = Db::open_existing(&dirs.data).unwrap();
        assert_eq!(
            db.records("c").unwrap()[0].value,
            serde_json::json!("before")
        );
        assert_eq!(dirs.read_env().unwrap(), b"A=before\n");
        assert!(!work.join(ASIDE).exists());
    }

    #[test]
    fn an_interrupted_restore_with_a_good_database_is_kept() {
        let (root, dirs) = tenant_with_db();
        let work = root.path().join(".kinesis");
        Aside::save(&dirs, &work).unwrap();
        dirs.write_env(b"A=after\n").unwrap();
        recover_interrupted(&dirs, &work).unwrap();
        assert_eq!(dirs.read_env().unwrap(), b"A=after\n");
        assert!(!work.join(ASIDE).exists());
    }
}
