//! What a stopped plugin call leaves in `backups/`. When the runtime stops
//! a call (no sign of life, hard cap, shutdown) or the plugin crashes, the
//! plugin had no chance to clean up: the host removes every entry the call
//! added to `backups/` that is not a finished archive (named by the
//! contract's rule), such as a half-written archive or a temporary catalog.
//! An entry the call added can hold nothing older than the call.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::model::archive_id;
use crate::runtime::CallError;
use crate::tenant::files::remove_any;

/// The entries of `backups/` before a call.
pub(crate) struct Before {
    dir: PathBuf,
    names: HashSet<OsString>,
}

impl Before {
    /// Notes what `backups` holds now.
    pub(crate) fn note(backups: &Path) -> Before {
        let names = std::fs::read_dir(backups)
            .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        Before { dir: backups.to_path_buf(), names }
    }

    /// After a call that ended with `error`: when the plugin was stopped or
    /// crashed, removes what it added that is not a finished archive.
    pub(crate) fn clean_after(&self, error: &CallError) {
        let stopped = matches!(
            error,
            CallError::Stalled { .. }
                | CallError::ShutDown { .. }
                | CallError::DeadlineExceeded { .. }
                | CallError::OutOfMemory { .. }
                | CallError::Trapped { .. }
        );
        if !stopped {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_archive = name.to_str().is_some_and(|n| archive_id(n).is_some());
            if self.names.contains(&name) || is_archive {
                continue;
            }
            match remove_any(&entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed what a stopped plugin call left behind")
                }
                Err(err) => {
                    tracing::warn!(path = %entry.path().display(), "cannot remove what a stopped plugin call left: {err}")
                }
            }
        }
    }
}
