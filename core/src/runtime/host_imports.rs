//! The host's side of the contract's `host` interface, independent of the
//! contract version: the clock, the tenant's `.env`, the log (within its
//! budget) and progress reports. Each version module implements its
//! generated `Host` trait by calling these.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::budget::LogBudget;
use super::{Clock, ProgressFn};
use crate::tenant::TenantDirs;

/// How important a plugin's log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogLevel {
    /// Detail for developers.
    Debug,
    /// Normal progress.
    Info,
    /// Something odd that did not stop the operation.
    Warn,
    /// Something failed.
    Error,
}

/// The per-call state behind the `host` imports.
pub(crate) struct HostContext {
    /// The operation, for log lines.
    pub operation: &'static str,
    /// The tenant, for `.env`.
    pub dirs: TenantDirs,
    /// Whether `write-env` is allowed (only during restore).
    pub env_writable: bool,
    /// The clock `now` reads.
    pub clock: Arc<dyn Clock>,
    /// Where progress reports go.
    pub progress: Option<ProgressFn>,
    /// What the plugin may still log.
    pub log: LogBudget,
    /// The last sign of life: the start of the call or its last progress
    /// report.
    pub last_sign: Instant,
}

impl HostContext {
    /// The host's time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The tenant's `.env`.
    pub(crate) fn read_env(&self) -> Result<Vec<u8>, String> {
        self.dirs.read_env().map_err(|e| e.to_string())
    }

    /// Replaces the tenant's `.env` (restore only).
    pub(crate) fn write_env(&self, contents: &[u8]) -> Result<(), String> {
        if !self.env_writable {
            return Err(format!("write-env is only allowed during restore, not during {}", self.operation));
        }
        self.dirs.write_env(contents).map_err(|e| e.to_string())
    }

    /// Writes a plugin's log line, within the call's budget.
    pub(crate) fn log(&mut self, level: LogLevel, message: &str) {
        let Some(message) = self.log.admit(message) else { return };
        let operation = self.operation;
        match level {
            LogLevel::Debug => tracing::debug!(target: "kinesis_backup::plugin", operation, "{message}"),
            LogLevel::Info => tracing::info!(target: "kinesis_backup::plugin", operation, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "kinesis_backup::plugin", operation, "{message}"),
            LogLevel::Error => tracing::error!(target: "kinesis_backup::plugin", operation, "{message}"),
        }
    }

    /// Passes a progress report on.
    pub(crate) fn progress(&mut self, done: u64, total: u64) {
        self.last_sign = Instant::now();
        crate::crash::crash_point("plugin-progress");
        if let Some(progress) = &self.progress {
            progress(done, total);
        }
    }

    /// Ends the call: says in one line what the budget dropped.
    pub(crate) fn finish(&self) {
        if let Some(dropped) = self.log.dropped() {
            tracing::warn!(target: "kinesis_backup::plugin", operation = self.operation, "{dropped}");
        }
    }
}
