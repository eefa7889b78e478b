//! The memory limit of one plugin call, and how a failed call is told apart:
//! stopped by the runtime (hard cap, no sign of life, shutdown), out of
//! memory, or crashed.

use wasmtime::{ResourceLimiter, Trap};

use super::error::CallError;
use super::liveness::Stop;

/// Most table elements an instance may grow a table to.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Refuses to grow any linear memory past the limit, and remembers that it
/// did so: the guest usually aborts right after, and that trap is reported
/// as [`CallError::OutOfMemory`] rather than as a crash.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit_bytes: usize,
    exceeded: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `limit_bytes` per linear memory.
    pub(crate) fn new(limit_bytes: usize) -> Self {
        MemoryLimiter { limit_bytes, exceeded: false }
    }

    /// Whether the guest asked for more than the limit during this call.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// What the runtime knows about a call that failed inside wasmtime.
pub(crate) struct Failure<'a> {
    /// The operation, for messages.
    pub operation: &'a str,
    /// The memory limit in bytes.
    pub memory_limit: usize,
    /// Whether the limiter refused a memory growth.
    pub memory_exceeded: bool,
    /// The guest's stderr (a Rust panic message lands there).
    pub stderr: String,
}

impl Failure<'_> {
    /// Classifies `error` (a trap or a host error raised during the call).
    pub(crate) fn classify(&self, error: &wasmtime::Error) -> CallError {
        let operation = self.operation.to_string();
        match error.downcast_ref::<Stop>() {
            Some(Stop::HardCap(limit)) => {
                return CallError::DeadlineExceeded { operation, seconds: limit.as_secs_f64().ceil() as u64 };
            }
            Some(Stop::Quiet(limit)) => {
                return CallError::Stalled { operation, seconds: limit.as_secs_f64().ceil() as u64 };
            }
            Some(Stop::ShutDown) => return CallError::ShutDown { operation },
            None => {}
        }
        let trap = error.downcast_ref::<Trap>().copied();
        if self.memory_exceeded || trap == Some(Trap::AllocationTooLarge) {
            return CallError::OutOfMemory { operation, limit_mib: (self.memory_limit / (1024 * 1024)) as u64 };
        }
        let mut message = match trap {
            Some(trap) => trap.to_string(),
            None => format!("{error:#}"),
        };
        if let Some(said) = last_panic_line(&self.stderr) {
            message = format!("{message} (the plugin said: {said})");
        }
        CallError::Trapped { operation, message }
    }
}

/// The most telling line of a guest's stderr: its panic message, or
/// Rust's "memory allocation of N bytes failed".
fn last_panic_line(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let panic_at = lines.iter().rposition(|l| l.contains("panicked at"))?;
    // Rust prints "thread '…' panicked at file:line:col:" then the message.
    let message = lines.get(panic_at + 1).copied().unwrap_or(lines[panic_at]);
    Some(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_growth_past_the_limit_and_remembers() {
        let mut limiter = MemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!limiter.exceeded());
        assert!(!limiter.memory_growing(1 << 20, (1 << 20) + 65536, None).unwrap());
        assert!(limiter.exceeded());
    }

    #[test]
    fn the_panic_message_is_found_in_stderr() {
        let stderr = "starting\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nasked to trap\nnote: run with RUST_BACKTRACE=1\n";
        assert_eq!(last_panic_line(stderr).as_deref(), Some("asked to trap"));
        assert_eq!(last_panic_line("nothing special"), None);
    }
}
