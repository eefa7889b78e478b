//! Copying folder trees for snapshots and for putting data aside during a
//! restore. Only regular files and folders are copied; symbolic links and
//! special files are skipped (and logged), never followed.

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

/// Removes everything inside `dir`, keeping `dir` itself (links inside
/// are removed, not followed).
pub fn empty_dir(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Makes `dir` hold exactly what `source` holds.
pub fn replace_contents(dir: &Path, source: &Path) -> io::Result<CopyStats> {
    empty_dir(dir)?;
    copy_tree(source, dir)
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
        assert_eq!(
            std::fs::read(to.path().join("copy/a/b/f")).unwrap(),
            b"12345"
        );
        assert!(!to.path().join("copy/link").exists());
    }

    #[test]
    fn replace_contents_leaves_exactly_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let source = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old/file"), b"old").unwrap();
        std::fs::write(source.path().join("new"), b"new").unwrap();
        replace_contents(dir.path(), source.path()).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["new"]);
    }
}
