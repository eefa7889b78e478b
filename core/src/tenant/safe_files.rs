//! Opening a file inside a tenant folder for reading without ever following
//! a symbolic link: every folder on the way and the file itself are opened
//! relative to their parent with `O_NOFOLLOW`, so a link planted anywhere
//! in the folder (a plugin can create one) is refused, not followed.

use std::fs::File;
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SafeOpenError {
    /// Nothing servable at that path: missing, a folder, a link, a special
    /// file, a hidden name, or a path that tries to leave the folder.
    #[error("no such file")]
    NotFound,
    /// Opening failed for another reason.
    #[error("cannot open the file: {0}")]
    Io(std::io::Error),
}

/// An open regular file and its size.
#[derive(Debug)]
pub struct OpenedFile {
    /// The file, open for reading.
    pub file: File,
    /// Its size in bytes.
    pub len: u64,
}

/// Opens `relative` (slash-separated) inside `base` for reading. Segments
/// that are empty, `.`, `..` or start with a dot are refused.
pub fn open_regular(base: &Path, relative: &str) -> Result<OpenedFile, SafeOpenError> {
    let segments: Vec<&str> = relative.split('/').collect();
    if segments.iter().any(|s| s.is_empty() || s.starts_with('.') || s.contains('\0')) {
        return Err(SafeOpenError::NotFound);
    }
    let Some((name, folders)) = segments.split_last() else {
        return Err(SafeOpenError::NotFound);
    };
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = rustix::fs::open(base, dir_flags, Mode::empty()).map_err(refusal)?;
    for folder in folders {
        dir = rustix::fs::openat(&dir, *folder, dir_flags | OFlags::NOFOLLOW, Mode::empty()).map_err(refusal)?;
    }
    // NONBLOCK: a FIFO planted in the folder must not hang the open.
    let file_flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = rustix::fs::openat(&dir, *name, file_flags, Mode::empty()).map_err(refusal)?;
    let file = File::from(fd);
    let meta = file.metadata().map_err(SafeOpenError::Io)?;
    if !meta.is_file() {
        return Err(SafeOpenError::NotFound);
    }
    Ok(OpenedFile { file, len: meta.len() })
}

/// Missing files, links and non-folders on the way are "not found".
fn refusal(errno: Errno) -> SafeOpenError {
    match errno {
        Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::ISDIR | Errno::NAMETOOLONG => SafeOpenError::NotFound,
        other => SafeOpenError::Io(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_regular_files_and_refuses_links_and_escapes() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"secret").unwrap();
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("css")).unwrap();
        std::fs::write(base.path().join("css/site.css"), b"body{}").unwrap();
        std::fs::write(base.path().join(".hidden"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), base.path().join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), base.path().join("dirlink")).unwrap();

        let opened = open_regular(base.path(), "css/site.css").unwrap();
        assert_eq!(opened.len, 6);
        for refused in [
            "link",
            "dirlink/secret",
            "../secret",
            "css/../css/site.css",
            "css",
            ".hidden",
            "",
            "css//site.css",
            "missing",
        ] {
            assert!(matches!(open_regular(base.path(), refused), Err(SafeOpenError::NotFound)), "{refused}");
        }
    }
}
