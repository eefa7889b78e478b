//! Consistent backups while the server runs. The host pauses database
//! writes, copies `data/` to a snapshot folder outside the plugin's
//! preopens (`ROOT/.kinesis/snapshot-N`), lets writes continue, and hands the
//! plugin the snapshot as its `data` folder. Writes wait only for the copy,
//! not for the compression; reads never wait.
//!
//! Chosen over a plugin-signalled snapshot because the host copies natively
//! and fast, and a third-party plugin cannot hold writes hostage by never
//! signalling.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::db::gate::WritesPaused;
use super::response::ApiError;
use super::state::{AppState, blocking};
use super::tenant::Tenant;
use super::tree_copy::copy_tree;
use crate::runtime::{CallError, Invocation, Runtime};

/// Snapshot folders are `snapshot-<pid>-<n>` under the work folder.
const PREFIX: &str = "snapshot-";

/// A copy of `data/`, removed when dropped.
#[derive(Debug)]
struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    /// Copies the tenant's `data/` while `paused` holds writes back, then
    /// lets them go and logs how long they waited.
    fn take(tenant: &Tenant, paused: WritesPaused) -> Result<Snapshot, ApiError> {
        static TAKEN: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            TAKEN.fetch_add(1, Ordering::Relaxed)
        );
        let snapshot = Snapshot {
            path: tenant.work_dir().join(name),
        };
        let started = Instant::now();
        let copied = copy_tree(&tenant.dirs().data, &snapshot.path);
        drop(paused);
        let pause_ms = started.elapsed().as_millis();
        let stats = copied.map_err(|err| {
            ApiError::internal(format!(
                "cannot copy data/ to {} for a consistent backup: {err}",
                snapshot.path.display()
            ))
        })?;
        tracing::info!(
            "database writes paused for {pause_ms} ms while data/ was copied ({} files, {} bytes)",
            stats.files,
            stats.bytes
        );
        Ok(snapshot)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), "cannot remove the data snapshot: {err}");
        }
    }
}

/// Runs a plugin `operation` with a fresh consistent snapshot of `data/` as
/// its `data` folder, and removes the snapshot afterwards.
pub async fn run_on_snapshot<T, F>(state: &AppState, operation: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Runtime, &Invocation) -> Result<T, CallError> + Send + 'static,
{
    let paused = state.tenant.db().pause_writes().await;
    let (tenant, runtime) = (state.tenant.clone(), state.runtime.clone());
    blocking(move || {
        let snapshot = Snapshot::take(&tenant, paused)?;
        let invocation = Invocation::new(tenant.dirs().with_data(&snapshot.path));
        operation(&runtime, &invocation).map_err(ApiError::from)
    })
    .await
}

/// Removes snapshots a crash left behind.
pub fn remove_stale(work_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_snapshot = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(PREFIX));
        if is_snapshot && entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed a snapshot left by an earlier run")
                }
                Err(err) => {
                    tracing::warn!(path = %entry.path().display(), "cannot remove an old snapshot: {err}")
                }
            }
        }
    }
}
