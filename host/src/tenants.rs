//! A tenant is one root folder holding `.env`, `data/`, `public/`,
//! `translations/` and `backups/`. Everything per-tenant hangs off values
//! built from that folder; `serve --root DIR` and the CLI run one tenant.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The folders and files of one tenant, as the runtime hands them to the
/// plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDirs {
    /// The tenant's root folder.
    pub root: PathBuf,
    /// Preopened as `data`: the database folder, or a consistent snapshot of
    /// it taken by the host for a backup.
    pub data: PathBuf,
    /// Preopened as `public`.
    pub public: PathBuf,
    /// Preopened as `translations`.
    pub translations: PathBuf,
    /// Preopened as `backups`: archives, catalog, schedules.
    pub backups: PathBuf,
    /// The tenant's `.env` file, read and written through the host import.
    pub env_file: PathBuf,
}

impl TenantDirs {
    /// The standard layout under `root`.
    pub fn for_root(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        TenantDirs {
            data: root.join("data"),
            public: root.join("public"),
            translations: root.join("translations"),
            backups: root.join("backups"),
            env_file: root.join(".env"),
            root,
        }
    }

    /// The same tenant with `data` pointing at another folder (a snapshot).
    pub fn with_data(&self, data: impl Into<PathBuf>) -> Self {
        TenantDirs { data: data.into(), ..self.clone() }
    }

    /// The four preopened folders with their guest names, in contract order.
    pub fn preopens(&self) -> [(&'static str, &Path); 4] {
        [
            ("data", &self.data),
            ("public", &self.public),
            ("translations", &self.translations),
            ("backups", &self.backups),
        ]
    }

    /// Creates the root and any of the four folders that are missing.
    pub fn ensure_exist(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        for (_, dir) in self.preopens() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}

/// Name of the lock file inside a tenant's root.
pub const LOCK_FILE: &str = ".kinesis.lock";

/// Why the tenant's `.env` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// `.env` is a symbolic link, which the host never follows.
    #[error("{path} is a symbolic link; the host does not follow links in tenant folders, replace it with a regular file")]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl TenantDirs {
    /// The contents of the tenant's `.env`; empty when it does not exist.
    /// A symbolic link at `.env` is refused, never followed.
    pub fn read_env(&self) -> Result<Vec<u8>, EnvError> {
        let path = &self.env_file;
        let io = |source| EnvError::Io { action: "read", path: path.clone(), source };
        let mut file = match std::fs::OpenOptions::new().read(true).custom_flags(no_follow()).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) if is_symlink_refusal(&e) => return Err(EnvError::Symlink { path: path.clone() }),
            Err(e) => return Err(io(e)),
        };
        let mut contents = Vec::new();
        file.read_to_end(&mut contents).map_err(io)?;
        Ok(contents)
    }

    /// Replaces the tenant's `.env` atomically: a temporary file beside it
    /// (mode 0600), synced, then renamed over it, so a link at `.env` is
    /// replaced rather than followed and readers never see half a file.
    pub fn write_env(&self, contents: &[u8]) -> Result<(), EnvError> {
        let path = &self.env_file;
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let temp = path.with_file_name(format!(
            ".env.kinesis-tmp-{}-{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(no_follow())
                .open(&temp)?;
            file.write_all(contents)?;
            file.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(|source| EnvError::Io { action: "write", path: path.clone(), source })
    }
}

/// `O_NOFOLLOW` for `custom_flags`.
fn no_follow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Whether an open with `O_NOFOLLOW` failed because the path is a link.
fn is_symlink_refusal(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

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

    #[test]
    fn env_round_trips_and_a_link_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let dirs = TenantDirs::for_root(root.path());
        assert_eq!(dirs.read_env().unwrap(), b"");
        dirs.write_env(b"A=1\n").unwrap();
        assert_eq!(dirs.read_env().unwrap(), b"A=1\n");

        let secret = root.path().join("secret");
        std::fs::write(&secret, "stolen").unwrap();
        std::fs::remove_file(&dirs.env_file).unwrap();
        std::os::unix::fs::symlink(&secret, &dirs.env_file).unwrap();
        assert!(matches!(dirs.read_env(), Err(EnvError::Symlink { .. })));
        dirs.write_env(b"B=2\n").unwrap();
        assert_eq!(std::fs::read(&secret).unwrap(), b"stolen", "the link target is untouched");
        assert_eq!(dirs.read_env().unwrap(), b"B=2\n");
    }
}
