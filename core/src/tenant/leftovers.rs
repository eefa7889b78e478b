//! What an interrupted plugin call leaves in `backups/`. Before a long call
//! the host notes the names in `backups/`, in memory and in
//! `ROOT/.kinesis/plugin-call.json`. When the runtime stops the call (no
//! sign of life, hard cap, shutdown) or the plugin crashes, the host removes
//! every entry the call added that is not a finished archive (named by the
//! contract's rule), such as a half-written archive or a temporary catalog;
//! an entry the call added can hold nothing older than the call. When the
//! process itself dies during the call, the note on disk lets whatever opens
//! the tenant next do the same.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::model::archive_id;
use crate::tenant::files::{remove_any, write_atomic};

/// The entries of `backups/` before a call, noted on disk until the call
/// ends.
pub struct Before {
    backups: PathBuf,
    note: PathBuf,
    names: BTreeSet<String>,
}

impl Before {
    /// Notes what `backups` holds now, in memory and in the file `note`.
    pub fn note(backups: &Path, note: &Path) -> Before {
        let names = names_in(backups);
        if let Ok(json) = serde_json::to_vec(&names)
            && let Err(err) = write_atomic(note, &json)
        {
            tracing::warn!(path = %note.display(), "cannot note the backups/ folder before a plugin call: {err}");
        }
        Before { backups: backups.to_path_buf(), note: note.to_path_buf(), names }
    }

    /// After a call that failed: when the plugin was `stopped` or crashed
    /// (it could not clean up itself), removes what it added that is not a
    /// finished archive.
    pub fn clean_after(&self, stopped: bool) {
        if stopped {
            remove_added(&self.backups, &self.names);
        }
    }
}

impl Drop for Before {
    fn drop(&mut self) {
        let _ = remove_any(&self.note);
    }
}

/// Settles a plugin call the process did not outlive: when `note` is there,
/// removes what the call added to `backups`, then the note.
pub fn settle(backups: &Path, note: &Path) {
    let Ok(bytes) = std::fs::read(note) else { return };
    match serde_json::from_slice::<BTreeSet<String>>(&bytes) {
        Ok(names) => {
            tracing::warn!("a plugin call was interrupted; removing what it left in backups/");
            remove_added(backups, &names);
        }
        Err(err) => tracing::warn!(path = %note.display(), "cannot read the note of an interrupted plugin call: {err}"),
    }
    let _ = remove_any(note);
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default()
}

/// Removes the entries of `backups` not in `before` that are not archives.
fn remove_added(backups: &Path, before: &BTreeSet<String>) {
    for name in names_in(backups) {
        if before.contains(&name) || archive_id(&name).is_some() {
            continue;
        }
        let path = backups.join(&name);
        match remove_any(&path) {
            Ok(()) => tracing::info!(path = %path.display(), "removed what an interrupted plugin call left behind"),
            Err(err) => {
                tracing::warn!(path = %path.display(), "cannot remove what an interrupted plugin call left: {err}")
            }
        }
    }
}
