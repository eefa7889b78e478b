//! What can go wrong in a CLI command, and the exit code each case gives:
//! the one mapping from an operation's failure kind to an exit code lives
//! here.

use kinesis_backup_core::ops::{ErrorKind, OpsError};
use kinesis_backup_core::runtime::{CallError, LoadError};
use kinesis_backup_core::tenant::{LockError, TenantError};

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The tenant could not be opened.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// `plugin check` was given a file that is not a usable component.
    #[error(transparent)]
    UnusablePlugin(LoadError),
    /// The operation failed.
    #[error(transparent)]
    Op(#[from] OpsError),
    /// `verify` found a damaged archive (the report was printed).
    #[error("backup {0} is damaged (see the problems above)")]
    Damaged(u64),
    /// The operator's settings of a hosted tenant cannot be read or written.
    #[error(transparent)]
    Hosting(#[from] kinesis_backup_core::tenant::hosting::HostingError),
    /// No tenant of that name.
    #[error("{0}")]
    NoSuchTenant(String),
    /// Setting up or removing a tenant failed.
    #[error("{0}")]
    Setup(String),
    /// An argument combination the parser cannot express.
    #[error("{0}")]
    Usage(String),
    /// The API server stopped with an error.
    #[error("the server stopped: {0}")]
    Serve(String),
}

/// The exit code of each kind of operation failure: 2 for bad input, 1 for
/// everything else.
pub fn exit_code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::BadInput => 2,
        ErrorKind::NotFound
        | ErrorKind::Busy
        | ErrorKind::Unusable
        | ErrorKind::DiskFull
        | ErrorKind::TooLarge
        | ErrorKind::Internal => 1,
    }
}

impl CliError {
    /// 2 for bad usage or bad input, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Op(err) => exit_code_of(err.kind()),
            CliError::Usage(_)
            | CliError::UnusablePlugin(_)
            | CliError::Load(LoadError::NotAComponent(_) | LoadError::Read { .. }) => 2,
            _ => 1,
        }
    }

    /// A line of advice, when there is a useful one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Tenant(TenantError::Locked(LockError::Held { .. })) => {
                Some("a server or another command is running on this folder; wait for it or stop it")
            }
            CliError::Op(OpsError::Plugin(CallError::NotFound(_))) => {
                Some("`kinesis-backup backup list` shows the backups and their ids")
            }
            CliError::Op(OpsError::Plugin(
                CallError::DeadlineExceeded { .. } | CallError::OutOfMemory { .. } | CallError::Trapped { .. },
            )) => Some(
                "the plugin was stopped and nothing was changed by the host; check the plugin with `--plugin` or report it",
            ),
            CliError::Load(LoadError::ContractMismatch(_) | LoadError::NotAComponent(_))
            | CliError::UnusablePlugin(LoadError::ContractMismatch(_) | LoadError::NotAComponent(_)) => {
                Some("`--plugin` must name a WASI 0.2 component implementing kinesis:backup@1.0.0 or @1.1.0")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_exits_2_and_failures_exit_1() {
        let op = |err: CallError| CliError::Op(OpsError::Plugin(err));
        assert_eq!(op(CallError::InvalidInput("expiry in the past".into())).exit_code(), 2);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(op(CallError::NotFound("no backup 7".into())).exit_code(), 1);
        assert_eq!(CliError::Op(OpsError::Busy).exit_code(), 1);
        assert_eq!(CliError::Damaged(3).exit_code(), 1);
        assert_eq!(CliError::UnusablePlugin(LoadError::ContractMismatch("x".into())).exit_code(), 2);
    }
}
