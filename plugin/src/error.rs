//! The plugin's error type. Its cases map one to one onto the WIT `error`
//! variant, so the host can turn each into the right HTTP status.

use std::path::Path;

/// Why an operation failed, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// No backup or schedule has the given id.
    #[error("{0}")]
    NotFound(String),
    /// An argument is wrong (bad cron, expiry in the past, empty name, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// An archive is damaged, incomplete or holds something it must not.
    #[error("{0}")]
    CorruptArchive(String),
    /// Another operation holds what this one needs.
    #[error("{0}")]
    Busy(String),
    /// Reading or writing files failed.
    #[error("{0}")]
    Storage(String),
}

impl PluginError {
    /// A storage error for a failed file-system action: says what was being
    /// done, on which path, and the system's reason.
    pub fn io(action: &str, path: &Path, err: &std::io::Error) -> Self {
        PluginError::Storage(format!("could not {action} {}: {err}", path.display()))
    }

    /// Not-found error for a backup id.
    pub fn backup_not_found(id: u64) -> Self {
        PluginError::NotFound(format!("there is no backup with id {id}"))
    }

    /// Not-found error for a schedule id.
    pub fn schedule_not_found(id: u64) -> Self {
        PluginError::NotFound(format!("there is no schedule with id {id}"))
    }
}

/// Shorthand for results of plugin operations.
pub type Result<T, E = PluginError> = std::result::Result<T, E>;
