//! A clock the cases move by hand, passed to the plugin as the host's `now`.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};
use kinesis_backup_core::runtime::Clock;

/// A clock that shows what it is set to.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    /// A clock showing `start`.
    pub fn at(start: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(start)))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `YYYY-MM-DD hh:mm:ss` in UTC; the Unix epoch for a date that does not
/// exist.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap_or_default()
}
