//! Crash points for crash tests. In builds with the `crash-points` feature
//! (the test builds), the process aborts at a named step when the
//! environment variable `KINESIS_CRASH_AT` names it: `step`, or `step:N` for
//! its N-th occurrence. Elsewhere a crash point compiles to nothing.
//!
//! The steps: `staged` (a restore's plugin call is done, before the
//! journal), `swap-start`, `swap-part-aside` and `swap-part-done` (each part
//! of the swap), `committed`, `rolled-back`, `plugin-progress` (each
//! progress report of a plugin call, so a crash lands inside the plugin's
//! work), and `job-begun` and `job-parts-done` (a job split over several
//! instances, after its begin and after all its parts).

/// Aborts the process here when `KINESIS_CRASH_AT` names this step.
#[cfg(any(test, feature = "crash-points"))]
pub fn crash_point(name: &str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static HITS: AtomicU32 = AtomicU32::new(0);
    let Ok(at) = std::env::var("KINESIS_CRASH_AT") else { return };
    let (step, nth) = match at.split_once(':') {
        Some((step, nth)) => (step.to_owned(), nth.parse().unwrap_or(1)),
        None => (at, 1),
    };
    if step == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        std::process::abort();
    }
}

#[cfg(not(any(test, feature = "crash-points")))]
#[inline(always)]
pub fn crash_point(_name: &str) {}
