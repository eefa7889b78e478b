//! The tenant lock: one writer process per tenant folder.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::files::no_follow;
use super::layout::LOCK_FILE;

/// Why a tenant could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("another kinesis-backup process (pid {pid}) is using {root}; stop it first")]
    Held {
        /// The tenant root.
        root: PathBuf,
        /// The holder's process id as written in the lock file, or "unknown".
        pid: String,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An exclusive advisory lock on a tenant (`ROOT/.kinesis.lock`), held for
/// the lifetime of the value: one writer process per tenant. The lock file
/// holds the holder's process id so that a refused process can name it.
#[derive(Debug)]
pub struct TenantLock {
    file: std::fs::File,
    path: PathBuf,
}

impl TenantLock {
    /// Takes the lock of the tenant rooted at `root` (which must exist),
    /// without waiting: [`LockError::Held`] when another process has it.
    pub fn acquire(root: &Path) -> Result<TenantLock, LockError> {
        let path = root.join(LOCK_FILE);
        let io = |source| LockError::Io { path: path.clone(), source };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(no_follow())
            .open(&path)
            .map_err(io)?;
        if !fs4::fs_std::FileExt::try_lock_exclusive(&file).map_err(io)? {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let pid = holder.trim();
            let pid = if pid.is_empty() { "unknown".to_string() } else { pid.to_string() };
            return Err(LockError::Held { root: root.to_path_buf(), pid });
        }
        file.set_len(0).map_err(io)?;
        file.write_all(std::process::id().to_string().as_bytes()).map_err(io)?;
        Ok(TenantLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TenantLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the
        // release explicit. The pid is cleared so a stale file names nobody.
        let _ = self.file.set_len(0);
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid() {
        let root = tempfile::tempdir().unwrap();
        let held = TenantLock::acquire(root.path()).unwrap();
        let err = TenantLock::acquire(root.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");
        assert!(message.contains("stop it first"), "{message}");
        drop(held);
        TenantLock::acquire(root.path()).expect("free again after the holder drops it");
    }
}
