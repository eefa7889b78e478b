//! Why an operation failed, and the kind of each failure: the one thing
//! the faces map, once each, to an HTTP status or an exit code.

use crate::offsite::OffsiteError;
use crate::runtime::CallError;
use crate::tenant::TenantError;
use crate::tenant::journal::JournalError;

/// The kinds of failure a face tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong; the message says what to fix.
    BadInput,
    /// No backup or schedule with that id.
    NotFound,
    /// Another backup or restore of the tenant is running.
    Busy,
    /// An archive, or what it restores, cannot be used; nothing was changed
    /// (or the change was undone).
    Unusable,
    /// The disk is full, or the tenant's quota is used up.
    DiskFull,
    /// An upload is larger than allowed.
    TooLarge,
    /// A fault the caller cannot fix.
    Internal,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The plugin refused or failed the call.
    #[error(transparent)]
    Plugin(#[from] CallError),
    /// Another backup or restore of this tenant is running.
    #[error("a backup or restore is already running for this tenant; try again when it has finished")]
    Busy,
    /// Another upload to this tenant is being received.
    #[error("another upload to this tenant is being received; send this one when it has finished")]
    UploadRunning,
    /// The tenant could not be opened.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The filesystem holding the tenant is full.
    #[error("no space left on the device holding {place}: need {need}, have {have}; free some space and try again")]
    DiskFull {
        /// The folder that needed the space.
        place: String,
        /// How much was needed (an estimate), in words.
        need: String,
        /// How much is free, in words.
        have: String,
    },
    /// A create would pass the tenant's quota.
    #[error("{0}")]
    QuotaExceeded(String),
    /// A consistent copy of `data/` could not be taken.
    #[error("cannot copy data/ for a consistent backup: {0}")]
    Snapshot(std::io::Error),
    /// The plugin restored something the host does not accept: nothing was changed.
    #[error("backup {id} was not restored, nothing was changed: {reason}")]
    RestoreRefused {
        /// The backup.
        id: u64,
        /// Why.
        reason: String,
    },
    /// The restored database did not open after the swap; the tenant was
    /// put back as it was.
    #[error(
        "backup {id} was restored but its database cannot be used ({reason}); the previous data was put back and is being served"
    )]
    RestoreRolledBack {
        /// The backup.
        id: u64,
        /// Why the database was refused.
        reason: String,
    },
    /// The restore could not be finished or undone.
    #[error("restoring backup {id} failed: {source}")]
    Swap {
        /// The backup.
        id: u64,
        /// What went wrong.
        source: JournalError,
    },
    /// The database could not be opened again after a failed restore.
    #[error(
        "the database could not be opened again after the restore of backup {id} failed ({reason}); restart to retry"
    )]
    Reopen {
        /// The backup.
        id: u64,
        /// Why.
        reason: String,
    },
    /// The archive of a listed backup is not in `backups/`.
    #[error("the archive {name} of backup {id} is missing from backups/")]
    ArchiveMissing {
        /// The backup.
        id: u64,
        /// Its archive name.
        name: String,
    },
    /// Another file-system failure.
    #[error("{0}")]
    Io(String),
    /// An offsite copy could not be made, read or used.
    #[error(transparent)]
    Offsite(#[from] OffsiteError),
    /// An offsite operation was asked for without an offsite target.
    #[error("no offsite target is configured for this tenant (serve --offsite s3://BUCKET/PREFIX)")]
    NoOffsite,
    /// An upload was not given an archive name.
    #[error("{0}")]
    ImportName(String),
    /// An uploaded archive failed its checks; nothing was kept.
    #[error("the uploaded archive was refused, nothing was kept: {0}")]
    ImportRefused(String),
    /// An upload passed its size limit; nothing was kept.
    #[error("the upload is larger than the limit of {}; nothing was kept", size_in_words(*limit))]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

impl OpsError {
    /// The kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            OpsError::Plugin(call) => match call {
                CallError::InvalidInput(_) => ErrorKind::BadInput,
                CallError::NotFound(_) => ErrorKind::NotFound,
                CallError::Busy(_) => ErrorKind::Busy,
                CallError::CorruptArchive(_) => ErrorKind::Unusable,
                CallError::Storage(_)
                | CallError::DeadlineExceeded { .. }
                | CallError::Stalled { .. }
                | CallError::ShutDown { .. }
                | CallError::OutOfMemory { .. }
                | CallError::Trapped { .. }
                | CallError::Violation { .. }
                | CallError::Host(_) => ErrorKind::Internal,
            },
            OpsError::Busy | OpsError::UploadRunning => ErrorKind::Busy,
            OpsError::DiskFull { .. } | OpsError::QuotaExceeded(_) => ErrorKind::DiskFull,
            OpsError::RestoreRefused { .. } | OpsError::RestoreRolledBack { .. } => ErrorKind::Unusable,
            OpsError::ArchiveMissing { .. } => ErrorKind::NotFound,
            OpsError::Offsite(offsite) => match offsite {
                OffsiteError::Config(_) => ErrorKind::BadInput,
                OffsiteError::Missing(_) => ErrorKind::NotFound,
                OffsiteError::Mismatch { .. } | OffsiteError::Crypto(_) => ErrorKind::Unusable,
                OffsiteError::Remote(_) | OffsiteError::Local(_) => ErrorKind::Internal,
            },
            OpsError::NoOffsite | OpsError::ImportName(_) => ErrorKind::BadInput,
            OpsError::ImportRefused(_) => ErrorKind::Unusable,
            OpsError::TooLarge { .. } => ErrorKind::TooLarge,
            OpsError::Tenant(TenantError::Locked(_)) => ErrorKind::Busy,
            OpsError::Tenant(_)
            | OpsError::Snapshot(_)
            | OpsError::Swap { .. }
            | OpsError::Reopen { .. }
            | OpsError::Io(_) => ErrorKind::Internal,
        }
    }
}

/// `bytes` in words: `512 B`, `3.2 MiB`.
pub fn size_in_words(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_errors_keep_their_kind() {
        assert_eq!(OpsError::from(CallError::InvalidInput("x".into())).kind(), ErrorKind::BadInput);
        assert_eq!(OpsError::from(CallError::NotFound("x".into())).kind(), ErrorKind::NotFound);
        assert_eq!(OpsError::from(CallError::CorruptArchive("x".into())).kind(), ErrorKind::Unusable);
        assert_eq!(OpsError::from(CallError::Storage("x".into())).kind(), ErrorKind::Internal);
        assert_eq!(OpsError::Busy.kind(), ErrorKind::Busy);
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_in_words(512), "512 B");
        assert_eq!(size_in_words(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
    }
}
