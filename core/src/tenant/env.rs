//! Reading and replacing the tenant's `.env` without following links.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::files::{is_symlink_refusal, no_follow, write_atomic};
use super::layout::TenantDirs;

/// Why the tenant's `.env` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// `.env` is a symbolic link, which the host never follows.
    #[error(
        "{path} is a symbolic link; the host does not follow links in tenant folders, replace it with a regular file"
    )]
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

    /// Replaces the tenant's `.env` atomically and durably (see
    /// [`write_atomic`]): a link at `.env` is replaced rather than followed
    /// and readers never see half a file. The file is readable by its owner
    /// only.
    pub fn write_env(&self, contents: &[u8]) -> Result<(), EnvError> {
        write_atomic(&self.env_file, contents).map_err(|source| EnvError::Io {
            action: "write",
            path: self.env_file.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
