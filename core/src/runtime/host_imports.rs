//! The contract's `host` interface: what the plugin gets besides its four
//! folders (the clock, the tenant's `.env`, the log, progress reports).

use std::sync::Arc;

use super::since_v1_0_0::{to_wit_time, wit, wit_host};
use super::{Clock, ProgressFn};
use crate::tenant::TenantDirs;

/// Longest log line kept from the plugin; the rest is cut.
const MAX_LOG_LINE: usize = 4096;

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
}

impl wit::Host for HostContext {}

impl wit_host::Host for HostContext {
    fn now(&mut self) -> wit::Timestamp {
        to_wit_time(self.clock.now())
    }

    fn read_env(&mut self) -> Result<Vec<u8>, String> {
        self.dirs.read_env().map_err(|e| e.to_string())
    }

    fn write_env(&mut self, contents: Vec<u8>) -> Result<(), String> {
        if !self.env_writable {
            return Err(format!("write-env is only allowed during restore, not during {}", self.operation));
        }
        self.dirs.write_env(&contents).map_err(|e| e.to_string())
    }

    fn log(&mut self, level: wit_host::LogLevel, message: String) {
        let message = cut(&message, MAX_LOG_LINE);
        let operation = self.operation;
        match level {
            wit_host::LogLevel::Debug => tracing::debug!(target: "kinesis_backup::plugin", operation, "{message}"),
            wit_host::LogLevel::Info => tracing::info!(target: "kinesis_backup::plugin", operation, "{message}"),
            wit_host::LogLevel::Warn => tracing::warn!(target: "kinesis_backup::plugin", operation, "{message}"),
            wit_host::LogLevel::Error => tracing::error!(target: "kinesis_backup::plugin", operation, "{message}"),
        }
    }

    fn progress(&mut self, done: u64, total: u64) {
        if let Some(progress) = &self.progress {
            progress(done, total);
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
