//! Consistent backups while the database is in use. Writes are held back
//! while `data/` is copied natively to a snapshot folder outside the
//! plugin's preopens (`ROOT/.kinesis/snapshot-<pid>-<n>`); then writes go
//! on and the plugin reads the snapshot as its `data` folder. Writes wait
//! only for the copy, not for the compression; reads never wait. A plugin
//! cannot hold writes back: it never sees the pause.

use std::path::PathBuf;
use std::time::Instant;

use super::engine::DataEngine;
use super::error::{OpsError, size_in_words};
use crate::tenant::files::{available_bytes, is_disk_full};
use crate::tenant::tree_copy::{copy_tree, tree_size};
use crate::tenant::{Tenant, TenantDirs};

/// A copy of `data/`, removed when dropped.
#[derive(Debug)]
pub(crate) struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    /// Copies the tenant's `data/` to snapshot folder number `n` while the
    /// engine holds writes back.
    pub(crate) fn take(tenant: &Tenant, engine: &dyn DataEngine, n: u64) -> Result<Snapshot, OpsError> {
        let snapshot = Snapshot { path: tenant.work().snapshot(n) };
        let paused = engine.pause_writes();
        let started = Instant::now();
        let copied = copy_tree(&tenant.dirs().data, &snapshot.path);
        drop(paused);
        let pause_ms = started.elapsed().as_millis();
        let stats = copied.map_err(|err| {
            if is_disk_full(&err) {
                let need = tree_size(&tenant.dirs().data).unwrap_or(0);
                OpsError::DiskFull {
                    place: format!("{} (a snapshot of data/)", tenant.work().root.display()),
                    need: size_in_words(need),
                    have: size_in_words(available_bytes(&tenant.work().root).unwrap_or(0)),
                }
            } else {
                OpsError::Snapshot(err)
            }
        })?;
        tracing::info!(
            "database writes paused for {pause_ms} ms while data/ was copied ({} files, {} bytes)",
            stats.files,
            stats.bytes
        );
        Ok(snapshot)
    }

    /// The tenant's folders with this snapshot as `data`.
    pub(crate) fn dirs(&self, tenant: &TenantDirs) -> TenantDirs {
        tenant.with_data(&self.path)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), "cannot remove the data snapshot: {err}");
        }
    }
}
