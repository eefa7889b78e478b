//! What the plugin needs from its environment: the host functions of the WIT
//! `host` interface (as a trait, so native tests can supply their own) and
//! the four root folders.

use std::path::PathBuf;

/// How important a log line is (mirrors the WIT `log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Detail for developers.
    Debug,
    /// Normal progress.
    Info,
    /// Something odd that did not stop the operation.
    Warn,
    /// Something failed.
    Error,
}

/// The host functions the plugin imports. In the component these call the
/// WIT `host` interface; native tests use an in-memory implementation.
pub trait Host {
    /// The current time, in whole seconds since the Unix epoch (UTC).
    fn now(&self) -> i64;
    /// The tenant's `.env` contents; empty when the file does not exist.
    fn read_env(&self) -> Result<Vec<u8>, String>;
    /// Replace the tenant's `.env` contents.
    fn write_env(&self, contents: &[u8]) -> Result<(), String>;
    /// Write a line to the host's log.
    fn log(&self, level: LogLevel, message: &str);
    /// Report progress of a long operation: `done` of `total` bytes.
    fn progress(&self, done: u64, total: u64);
}

/// The four folders the plugin works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// The database directory (`data/` in archives).
    pub data: PathBuf,
    /// Public files (`public/` in archives).
    pub public: PathBuf,
    /// Translation files (`translations/` in archives).
    pub translations: PathBuf,
    /// Archives, the catalog and staging folders.
    pub backups: PathBuf,
}

impl Roots {
    /// The roots as the component sees them: the preopen names, which
    /// wasi-libc resolves against the preopened directories.
    pub fn preopens() -> Self {
        Roots {
            data: PathBuf::from("data"),
            public: PathBuf::from("public"),
            translations: PathBuf::from("translations"),
            backups: PathBuf::from("backups"),
        }
    }

    /// The three content roots with their names inside archives, in
    /// archive order.
    pub fn content(&self) -> [(&'static str, &PathBuf); 3] {
        [("data", &self.data), ("public", &self.public), ("translations", &self.translations)]
    }
}

/// What every operation works with: the host functions and the roots.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The host functions.
    pub host: &'a dyn Host,
    /// The folders.
    pub roots: &'a Roots,
}

impl Context<'_> {
    /// Logs a warning.
    pub fn warn(&self, message: &str) {
        self.host.log(LogLevel::Warn, message);
    }

    /// Logs an informational line.
    pub fn info(&self, message: &str) {
        self.host.log(LogLevel::Info, message);
    }
}
