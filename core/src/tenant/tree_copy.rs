//! Folder trees: copying them for snapshots (only regular files and
//! folders; symbolic links and special files are skipped and logged, never
//! followed), measuring them, and finding what a restored tree must not hold.

use std::io;
use std::path::Path;

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Regular files copied.
    pub files: u64,
    /// Bytes copied.
    pub bytes: u64,
}

/// Copies the contents of `from` into `to` (created if missing).
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<CopyStats> {
    std::fs::create_dir_all(to)?;
    let mut stats = CopyStats::default();
    copy_into(from, to, &mut stats)?;
    Ok(stats)
}

fn copy_into(from: &Path, to: &Path, stats: &mut CopyStats) -> io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            std::fs::create_dir(&target)?;
            copy_into(&entry.path(), &target, stats)?;
        } else if kind.is_file() {
            stats.bytes += std::fs::copy(entry.path(), &target)?;
            stats.files += 1;
        } else {
            tracing::warn!(path = %entry.path().display(), "skipped: not a regular file or folder");
        }
    }
    Ok(())
}

/// The total size of the regular files under `dir` (links not followed).
pub fn tree_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += tree_size(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// The first entry under `dir` that is neither a regular file nor a folder
/// (a symbolic link, a FIFO, a socket, a device), if any.
pub fn first_special_entry(dir: &Path) -> io::Result<Option<std::path::PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if let Some(found) = first_special_entry(&entry.path())? {
                return Ok(Some(found));
            }
        } else if !kind.is_file() {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_and_folders_but_not_links() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(from.path().join("a/b")).unwrap();
        std::fs::write(from.path().join("a/b/f"), b"12345").unwrap();
        std::fs::write(from.path().join("top"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", from.path().join("link")).unwrap();
        let stats = copy_tree(from.path(), &to.path().join("copy")).unwrap();
        assert_eq!(stats, CopyStats { files: 2, bytes: 6 });
        assert_eq!(std::fs::read(to.path().join("copy/a/b/f")).unwrap(), b"12345");
        assert!(!to.path().join("copy/link").exists());
    }

    #[test]
    fn sizes_and_special_entries_are_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), b"12345").unwrap();
        std::fs::write(dir.path().join("g"), b"xy").unwrap();
        assert_eq!(tree_size(dir.path()).unwrap(), 7);
        assert_eq!(first_special_entry(dir.path()).unwrap(), None);
        std::os::unix::fs::symlink("/etc", dir.path().join("a/b/escape")).unwrap();
        assert_eq!(first_special_entry(dir.path()).unwrap(), Some(dir.path().join("a/b/escape")));
    }
}
