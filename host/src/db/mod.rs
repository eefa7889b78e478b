//! The tenant's database: a redb file in `data/` holding the users and the
//! records of the small data API. This module opens and checks the file;
//! [`users`] and [`records`] hold the queries, and [`gate`] the pausing of
//! requests around backups and restores.

pub mod engine;
pub mod gate;
pub mod records;
pub mod users;

use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTableMetadata};

pub use gate::DbGate;
pub use records::Record;
pub use users::{Role, User};

/// The database file's name inside `data/`.
pub const DB_FILE: &str = "kinesis.redb";

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file could not be opened as a redb database.
    #[error("cannot open the database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The engine's reason.
        source: Box<redb::DatabaseError>,
    },
    /// The database file is missing or is not a regular file.
    #[error("{path} is missing or not a regular file")]
    NotAFile {
        /// The database file.
        path: PathBuf,
    },
    /// The file opened but is not a usable Kinesis database.
    #[error("the database is damaged: {0}")]
    Damaged(String),
    /// A read or write of the engine failed.
    #[error("database error: {0}")]
    Engine(Box<redb::Error>),
    /// Input the database refuses (an empty name, say).
    #[error("{0}")]
    Invalid(String),
    /// The username is taken.
    #[error("the username {0:?} is already taken; choose another")]
    UsernameTaken(String),
    /// The database was closed for a restore and could not be reopened.
    #[error("the database is closed because a restore could not reopen it; restart the server")]
    Closed,
    /// The worker running the query stopped unexpectedly.
    #[error("the database worker stopped unexpectedly: {0}")]
    Worker(String),
}

macro_rules! engine_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for DbError {
            fn from(err: $error) -> Self {
                DbError::Engine(Box::new(redb::Error::from(err)))
            }
        }
    )*};
}
engine_errors!(redb::Error, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

/// An open database.
pub struct Db {
    engine: redb::Database,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens the database in `data_dir`, creating the file and its tables
    /// when missing (first start).
    pub fn create(data_dir: &Path) -> Result<Db, DbError> {
        let path = data_dir.join(DB_FILE);
        refuse_links(&path, true)?;
        let engine = builder().create(&path).map_err(|source| DbError::Open { path, source: Box::new(source) })?;
        let db = Db { engine };
        db.ensure_tables()?;
        Ok(db)
    }

    /// Opens an existing database in `data_dir` and checks that it reads:
    /// the users table must exist and hold well-formed users. Used after a
    /// restore to decide whether the restored files are kept.
    pub fn open_existing(data_dir: &Path) -> Result<Db, DbError> {
        let path = data_dir.join(DB_FILE);
        refuse_links(&path, false)?;
        let engine = builder().open(&path).map_err(|source| DbError::Open { path, source: Box::new(source) })?;
        let db = Db { engine };
        db.check_users()?;
        Ok(db)
    }

    /// Creates any missing table.
    fn ensure_tables(&self) -> Result<(), DbError> {
        let txn = self.engine.begin_write()?;
        txn.open_table(users::USERS)?;
        txn.open_table(users::USERNAMES)?;
        txn.open_table(records::RECORDS)?;
        txn.commit()?;
        Ok(())
    }

    /// Reads every user, so that a damaged table shows now, not at login.
    fn check_users(&self) -> Result<(), DbError> {
        let txn = self.engine.begin_read()?;
        let table = txn
            .open_table(users::USERS)
            .map_err(|err| DbError::Damaged(format!("it has no readable users table ({err})")))?;
        if table.is_empty()? {
            return Err(DbError::Damaged("it holds no users, so nobody could sign in".into()));
        }
        drop(table);
        self.all_users().map(|_| ())
    }
}

/// Pages the engine keeps in memory per database, at most. The tenant's
/// database is small; a server hosting many tenants keeps many open.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// The engine's settings.
fn builder() -> redb::Builder {
    let mut builder = redb::Builder::new();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

/// Fails unless `path` is a regular file (or, when `may_be_missing`, absent).
fn refuse_links(path: &Path, may_be_missing: bool) -> Result<(), DbError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Err(err) if may_be_missing && err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(DbError::NotAFile { path: path.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_refused_as_a_restore_result_until_it_has_users() {
        let dir = tempfile::tempdir().unwrap();
        drop(Db::create(dir.path()).unwrap());
        let err = Db::open_existing(dir.path()).unwrap_err();
        assert!(matches!(err, DbError::Damaged(_)), "{err}");
        let db = Db::create(dir.path()).unwrap();
        db.create_user("root", "hash", Role::Root, chrono::Utc::now()).unwrap();
        drop(db);
        Db::open_existing(dir.path()).unwrap();
    }

    #[test]
    fn garbage_and_missing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Db::open_existing(dir.path()), Err(DbError::NotAFile { .. })));
        std::fs::write(dir.path().join(DB_FILE), vec![7u8; 10_000]).unwrap();
        assert!(Db::open_existing(dir.path()).is_err());
    }

    #[test]
    fn a_copy_taken_while_open_reopens_with_its_data() {
        let live = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        let db = Db::create(live.path()).unwrap();
        db.create_user("root", "hash", Role::Root, chrono::Utc::now()).unwrap();
        db.put_record("notes", "a", &serde_json::json!({"n": 1})).unwrap();
        std::fs::copy(live.path().join(DB_FILE), copy.path().join(DB_FILE)).unwrap();
        db.put_record("notes", "b", &serde_json::json!(2)).unwrap();
        let reopened = Db::open_existing(copy.path()).unwrap();
        let keys: Vec<_> = reopened.records("notes").unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["a"]);
    }
}
