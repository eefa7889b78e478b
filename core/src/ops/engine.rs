//! The application's database as the operations see it. Its files live in
//! the tenant's `data/`: a backup copies them while writes are held back, a
//! restore closes the database, swaps `data/` and opens it again. The API
//! server implements this over its database; an embedding application over
//! its own; the command line, with no server running, only checks files.

use std::path::Path;

/// Held while database writes are paused; dropping it lets them go on.
pub type WritesPaused = Box<dyn Send>;

/// What the operations need from the database whose files are in `data/`.
pub trait DataEngine: Send + Sync {
    /// Waits for running writes and holds new ones back until the returned
    /// value is dropped, so that a copy of `data/` is consistent. Reads go on.
    fn pause_writes(&self) -> WritesPaused;

    /// Whether the database files in `data_dir` (a restored copy, not yet
    /// live) open and are usable; the reason when not.
    fn check(&self, data_dir: &Path) -> Result<(), String>;

    /// Closes the database so that `data/` can be swapped. Requests wait
    /// (or fail) until [`DataEngine::open`] succeeds.
    fn close(&self);

    /// Opens the database in `data/` again and serves it; the reason when
    /// it does not open (the engine then stays closed and may be asked
    /// again, after the previous files were put back).
    fn open(&self) -> Result<(), String>;
}

/// For a tenant without a database of its own to manage: nothing to pause,
/// every restored `data/` is accepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDatabase;

impl DataEngine for NoDatabase {
    fn pause_writes(&self) -> WritesPaused {
        Box::new(())
    }

    fn check(&self, _data_dir: &Path) -> Result<(), String> {
        Ok(())
    }

    fn close(&self) {}

    fn open(&self) -> Result<(), String> {
        Ok(())
    }
}
