//! What can go wrong in a CLI command, and the exit code each case gives.

use crate::runtime::{CallError, LoadError};
use crate::tenants::LockError;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The tenant folders could not be created.
    #[error("cannot create the tenant folders under {root}: {source}")]
    Folders {
        /// The tenant root.
        root: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process holds the tenant.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The plugin call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// `verify` found a damaged archive (the report was printed).
    #[error("backup {0} is damaged (see the problems above)")]
    Damaged(u64),
    /// An argument combination the parser cannot express.
    #[error("{0}")]
    Usage(String),
    /// The API server stopped with an error.
    #[error("the server stopped: {0}")]
    Serve(String),
}

impl CliError {
    /// 2 for bad usage or bad input, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Call(CallError::InvalidInput(_)) | CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    /// A line of advice, when there is a useful one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Lock(LockError::Held { .. }) => {
                Some("a server or another command is running on this folder; wait for it or stop it")
            }
            CliError::Call(CallError::NotFound(_)) => Some("`kinesis-backup backup list` shows the backups and their ids"),
            CliError::Call(CallError::DeadlineExceeded { .. } | CallError::OutOfMemory { .. } | CallError::Trapped { .. }) => {
                Some("the plugin was stopped and nothing was changed by the host; check the plugin with `--plugin` or report it")
            }
            CliError::Load(LoadError::ContractMismatch(_) | LoadError::NotAComponent(_)) => {
                Some("`--plugin` must name a WASI 0.2 component implementing kinesis:backup@1.0.0")
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
        assert_eq!(CliError::Call(CallError::InvalidInput("expiry in the past".into())).exit_code(), 2);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Call(CallError::NotFound("no backup 7".into())).exit_code(), 1);
        assert_eq!(CliError::Call(CallError::Busy("busy".into())).exit_code(), 1);
        assert_eq!(CliError::Damaged(3).exit_code(), 1);
    }
}
