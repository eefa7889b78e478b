//! Errors of loading a plugin and of calling it.

use std::path::PathBuf;

/// Why a plugin could not be loaded. Refused at startup, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The plugin file could not be read.
    #[error("cannot read the plugin file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component wasmtime can compile.
    #[error("the plugin is not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component does not implement a contract version this host runs.
    #[error("the plugin does not implement a kinesis:backup contract this host runs (1.0.0 or 1.1.0): {0}")]
    ContractMismatch(String),
    /// The engine could not be set up.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
}

/// Why a plugin call failed: the contract's error cases, plus what the
/// runtime itself stops.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No backup or schedule with that id.
    #[error("{0}")]
    NotFound(String),
    /// A bad argument, with what is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// A damaged or hostile archive.
    #[error("{0}")]
    CorruptArchive(String),
    /// Another operation on this tenant is running.
    #[error("{0}")]
    Busy(String),
    /// Reading or writing files failed.
    #[error("{0}")]
    Storage(String),
    /// The plugin ran past its time limit and was stopped.
    #[error("the plugin's {operation} did not finish within {seconds} s and was stopped")]
    DeadlineExceeded {
        /// The operation.
        operation: String,
        /// The limit in seconds.
        seconds: u64,
    },
    /// A long call showed no sign of life (no progress report) for too long
    /// and was stopped.
    #[error("the plugin's {operation} reported no progress for {seconds} s and was stopped")]
    Stalled {
        /// The operation.
        operation: String,
        /// The liveness limit in seconds.
        seconds: u64,
    },
    /// The host is shutting down and stopped the call.
    #[error("the plugin's {operation} was stopped because the host is shutting down")]
    ShutDown {
        /// The operation.
        operation: String,
    },
    /// The plugin tried to use more memory than allowed and was stopped.
    #[error("the plugin's {operation} needed more than the {limit_mib} MiB memory limit and was stopped")]
    OutOfMemory {
        /// The operation.
        operation: String,
        /// The limit.
        limit_mib: u64,
    },
    /// The plugin crashed (a trap).
    #[error("the plugin crashed during {operation}: {message}")]
    Trapped {
        /// The operation.
        operation: String,
        /// The trap, in words.
        message: String,
    },
    /// The plugin answered something the host does not accept (an archive
    /// name that is not its own, a page longer than asked, a time the host
    /// cannot represent); the answer is refused.
    #[error("{plugin} broke a rule of the host during {operation}: {rule}")]
    Violation {
        /// The plugin, as the runtime describes its origin.
        plugin: String,
        /// The operation.
        operation: String,
        /// The rule it broke, in words.
        rule: String,
    },
    /// The host could not set up the call (a missing folder, say).
    #[error("{0}")]
    Host(String),
}

impl CallError {
    /// Whether the runtime stopped the plugin, or it crashed, before it
    /// could clean up after itself.
    pub fn stopped_the_plugin(&self) -> bool {
        matches!(
            self,
            CallError::Stalled { .. }
                | CallError::ShutDown { .. }
                | CallError::DeadlineExceeded { .. }
                | CallError::OutOfMemory { .. }
                | CallError::Trapped { .. }
        )
    }
}
