//! How long a call may run. Every call has a hard cap (the quick deadline,
//! or for long calls the long deadline plus a second per MiB of the data it
//! works on); a long call must also show signs of life, a `progress` report
//! at least every [`RuntimeOptions::liveness`](super::RuntimeOptions), or it
//! is stopped: a plugin that spins frees the tenant within that time, not
//! hours later. A shut-down runtime stops every running call at once.
//!
//! The epoch ticker calls [`Watch::check`] every [`CHECK_EVERY`]; a stop is
//! an error the call fails with, never a panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a running call is checked.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(100);
/// How much a MiB of data adds to a long call's hard cap.
const PER_MIB: Duration = Duration::from_secs(1);

/// Why the runtime stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Stop {
    /// No sign of life for this long.
    #[error("no progress for {0:?}")]
    Quiet(Duration),
    /// The hard cap was reached.
    #[error("ran for {0:?}")]
    HardCap(Duration),
    /// The runtime is shutting down.
    #[error("the host is shutting down")]
    ShutDown,
}

/// The limits of one call.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    started: Instant,
    hard_cap: Duration,
    quiet_limit: Option<Duration>,
    shut_down: Arc<AtomicBool>,
}

impl Watch {
    /// The limits of a quick call: `deadline`, no liveness rule.
    pub(crate) fn quick(deadline: Duration, shut_down: Arc<AtomicBool>) -> Watch {
        Watch { started: Instant::now(), hard_cap: deadline, quiet_limit: None, shut_down }
    }

    /// The limits of a long call on `data_bytes` of data.
    pub(crate) fn long(base: Duration, liveness: Duration, data_bytes: u64, shut_down: Arc<AtomicBool>) -> Watch {
        let extra = PER_MIB.saturating_mul(u32::try_from(data_bytes >> 20).unwrap_or(u32::MAX));
        Watch { started: Instant::now(), hard_cap: base.saturating_add(extra), quiet_limit: Some(liveness), shut_down }
    }

    /// Whether the call must stop now, given its last sign of life.
    pub(crate) fn check(&self, last_sign: Instant) -> Option<Stop> {
        if self.shut_down.load(Ordering::Relaxed) {
            return Some(Stop::ShutDown);
        }
        if self.started.elapsed() >= self.hard_cap {
            return Some(Stop::HardCap(self.hard_cap));
        }
        match self.quiet_limit {
            Some(limit) if last_sign.elapsed() >= limit => Some(Stop::Quiet(limit)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_calls_hard_caps_and_shutdown_stop_a_call() {
        let down = Arc::new(AtomicBool::new(false));
        let long = Watch::long(Duration::from_secs(3600), Duration::from_millis(20), 0, down.clone());
        let now = Instant::now();
        assert_eq!(long.check(now), None);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(long.check(now), Some(Stop::Quiet(Duration::from_millis(20))));
        assert_eq!(long.check(Instant::now()), None, "a fresh sign of life keeps it going");

        let quick = Watch::quick(Duration::from_millis(10), down.clone());
        std::thread::sleep(Duration::from_millis(15));
        assert_eq!(quick.check(Instant::now()), Some(Stop::HardCap(Duration::from_millis(10))));

        down.store(true, Ordering::Relaxed);
        assert_eq!(long.check(Instant::now()), Some(Stop::ShutDown));
    }

    #[test]
    fn the_hard_cap_grows_with_the_data() {
        let down = Arc::new(AtomicBool::new(false));
        let watch = Watch::long(Duration::from_secs(60), Duration::from_secs(60), 500 << 20, down);
        assert_eq!(watch.hard_cap, Duration::from_secs(560));
    }
}
