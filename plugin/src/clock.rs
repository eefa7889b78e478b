//! Conversions between WIT timestamps (seconds since the epoch, UTC) and
//! calendar times.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{PluginError, Result};

/// The calendar time of a timestamp; invalid-input when it lies outside
/// the range chrono can represent. `what` names the value in the message.
pub fn to_datetime(timestamp: i64, what: &str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(timestamp, 0)
        .ok_or_else(|| PluginError::InvalidInput(format!("{what} {timestamp} is not a representable time")))
}

/// RFC 3339 text of a timestamp (UTC, whole seconds), for messages and the
/// manifest. Falls back to the raw number for unrepresentable values.
pub fn rfc3339(timestamp: i64) -> String {
    match DateTime::from_timestamp(timestamp, 0) {
        Some(time) => time.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => timestamp.to_string(),
    }
}
