//! Checks of what a caller gives: a backup's description and expiry.

use crate::clock::rfc3339;
use crate::error::{PluginError, Result};

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Invalid-input unless `description` is short enough.
pub fn check_description(description: &str) -> Result<()> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(PluginError::InvalidInput(format!(
            "description is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"
        )));
    }
    Ok(())
}

/// Invalid-input unless `expiry` lies after `now`.
pub fn check_expiry(expiry: i64, now: i64) -> Result<()> {
    if expiry <= now {
        return Err(PluginError::InvalidInput(format!(
            "expiry {} is in the past (now is {}); give a time in the future",
            rfc3339(expiry),
            rfc3339(now)
        )));
    }
    Ok(())
}
