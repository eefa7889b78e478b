//! Serializes the mutating calls of each tenant inside one process: WASI has
//! no file locks, so two plugin instances must never change one tenant's
//! catalog at the same time. Read-only calls do not take these.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The tenant roots on which a mutating call is running.
#[derive(Debug, Default)]
pub(crate) struct TenantMutexes {
    busy: Mutex<HashSet<PathBuf>>,
    released: Condvar,
}

/// Held while a mutating call runs on one tenant; released on drop.
pub(crate) struct TenantGuard<'a> {
    owner: &'a TenantMutexes,
    root: PathBuf,
}

impl TenantMutexes {
    fn busy(&self) -> MutexGuard<'_, HashSet<PathBuf>> {
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no other mutating call runs on `root`, then holds it.
    pub(crate) fn lock(&self, root: &Path) -> TenantGuard<'_> {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut busy = self.busy();
        while busy.contains(&root) {
            busy = self.released.wait(busy).unwrap_or_else(PoisonError::into_inner);
        }
        busy.insert(root.clone());
        TenantGuard { owner: self, root }
    }
}

impl Drop for TenantGuard<'_> {
    fn drop(&mut self) {
        self.owner.busy().remove(&self.root);
        self.owner.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_tenant_runs_one_call_at_a_time_and_others_do_not_wait() {
        let mutexes = TenantMutexes::default();
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let _guard = mutexes.lock(Path::new("/tenant-a"));
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 1);
        let _a = mutexes.lock(Path::new("/tenant-a"));
        let _b = mutexes.lock(Path::new("/tenant-b"));
    }
}
