//! Who may use the database when. Requests run their queries through the
//! gate on the blocking thread pool:
//!
//! - reads wait only while the database is closed for a restore;
//! - writes also wait while a backup copies `data/` ([`DbGate::pause_writes`]);
//! - a restore closes the database ([`DbGate::close`]): every request waits
//!   (none fails) until it is reopened.

use std::sync::Arc;

use tokio::sync::{OwnedRwLockWriteGuard, RwLock};

use super::{Db, DbError};

/// The database handle behind its two locks.
#[derive(Debug)]
pub struct DbGate {
    /// `None` only while closed for a restore (or after a failed reopen).
    db: Arc<RwLock<Option<Db>>>,
    /// Writers hold this shared; a backup snapshot holds it exclusively.
    writes: Arc<RwLock<()>>,
}

/// Writes are paused while this lives.
#[derive(Debug)]
#[must_use = "writes resume when this is dropped"]
pub struct WritesPaused {
    _guard: OwnedRwLockWriteGuard<()>,
}

/// The database is closed while this lives; [`ClosedDb::reopen`] puts a
/// database back. Dropped without reopening, the gate stays closed and
/// requests fail with [`DbError::Closed`].
#[derive(Debug)]
#[must_use = "requests wait until the database is reopened"]
pub struct ClosedDb {
    guard: OwnedRwLockWriteGuard<Option<Db>>,
}

impl ClosedDb {
    /// Serves `db` again and lets the waiting requests in.
    pub fn reopen(mut self, db: Db) {
        *self.guard = Some(db);
    }
}

impl DbGate {
    /// A gate around an open database.
    pub fn new(db: Db) -> Self {
        DbGate { db: Arc::new(RwLock::new(Some(db))), writes: Arc::new(RwLock::new(())) }
    }

    /// Runs a read query.
    pub async fn read<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.db.clone().read_owned().await;
        run_blocking(move || query(db.as_ref().ok_or(DbError::Closed)?)).await
    }

    /// Runs a write query; waits while writes are paused.
    pub async fn write<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T, DbError> + Send + 'static,
    {
        let writing = self.writes.clone().read_owned().await;
        let db = self.db.clone().read_owned().await;
        run_blocking(move || {
            let _writing = writing;
            query(db.as_ref().ok_or(DbError::Closed)?)
        })
        .await
    }

    /// Waits for running writes to finish and holds new ones back until the
    /// returned value is dropped. Reads go on.
    pub async fn pause_writes(&self) -> WritesPaused {
        WritesPaused { _guard: self.writes.clone().write_owned().await }
    }

    /// Waits for running requests to finish, then closes the database (its
    /// files can be replaced) and holds every new request back.
    pub async fn close(&self) -> ClosedDb {
        let mut guard = self.db.clone().write_owned().await;
        if let Some(db) = guard.take() {
            // Dropping the engine syncs and closes its file; keep that off
            // the async threads.
            let _ = tokio::task::spawn_blocking(move || drop(db)).await;
        }
        ClosedDb { guard }
    }
}

/// Runs `work` on the blocking pool.
async fn run_blocking<T, F>(work: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DbError> + Send + 'static,
{
    crate::blocking::on_blocking_pool(work).await.map_err(|err| DbError::Worker(err.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gate() -> (tempfile::TempDir, Arc<DbGate>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::create(dir.path()).unwrap();
        (dir, Arc::new(DbGate::new(db)))
    }

    #[tokio::test]
    async fn paused_writes_wait_but_reads_go_on() {
        let (_dir, gate) = gate();
        let paused = gate.pause_writes().await;
        let writer = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.write(|db| db.put_record("c", "k", &serde_json::json!(1))).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!writer.is_finished(), "a write went through while writes were paused");
        let read = tokio::time::timeout(Duration::from_secs(5), gate.read(|db| db.records("c"))).await;
        assert!(read.expect("a read waited on paused writes").unwrap().is_empty());
        drop(paused);
        writer.await.unwrap().unwrap();
        assert_eq!(gate.read(|db| db.records("c")).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn requests_wait_while_closed_and_see_the_reopened_database() {
        let (dir, gate) = gate();
        let closed = gate.close().await;
        let reader = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.read(|db| db.records("c")).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!reader.is_finished(), "a read did not wait for the reopen");
        let db = Db::create(dir.path()).unwrap();
        db.put_record("c", "k", &serde_json::json!("after")).unwrap();
        closed.reopen(db);
        assert_eq!(reader.await.unwrap().unwrap().len(), 1);
    }
}
