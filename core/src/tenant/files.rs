//! Small file-system primitives every part of the tenant uses: opening
//! without following links, making changes durable (file, folder and
//! whole-filesystem syncs), atomic replacement of a small file, and telling
//! a full disk apart from other failures.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `O_NOFOLLOW` for `custom_flags`.
pub(crate) fn no_follow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Whether an open with `O_NOFOLLOW` failed because the path is a link.
pub(crate) fn is_symlink_refusal(err: &io::Error) -> bool {
    err.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// Whether `err` says the device is full (or the quota is used up).
pub fn is_disk_full(err: &io::Error) -> bool {
    err.raw_os_error().is_some_and(|code| {
        code == rustix::io::Errno::NOSPC.raw_os_error() || code == rustix::io::Errno::DQUOT.raw_os_error()
    })
}

/// Bytes an unprivileged writer can still put on the filesystem holding `path`.
pub fn available_bytes(path: &Path) -> io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Makes the entries of folder `dir` (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Makes everything written to the filesystem holding `path` durable, in one
/// call (cheaper than syncing each file of a large tree).
pub fn sync_filesystem(path: &Path) -> io::Result<()> {
    let dir = std::fs::File::open(path)?;
    rustix::fs::syncfs(&dir).map_err(io::Error::from)
}

/// Replaces `path` with `contents` atomically and durably: a temporary file
/// beside it (mode 0600), synced, renamed over it, and the folder synced. A
/// link at `path` is replaced, never followed.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().ok_or_else(|| io::Error::other("the path has no folder"))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}-{}", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(no_follow())
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Removes `path` (a file, a link or a whole folder tree) if it exists.
pub fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// Removes the tree at `path` like [`remove_any`], each entry at its top on
/// a thread of its own: removing many files is bound by the file system's
/// latency, not by one core.
pub fn remove_tree_in_parallel(path: &Path) -> io::Result<()> {
    let entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries.map(|entry| entry.map(|e| e.path())).collect::<io::Result<_>>()?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => return remove_any(path),
    };
    std::thread::scope(|scope| {
        let removals: Vec<_> = entries.iter().map(|entry| scope.spawn(move || remove_any(entry))).collect();
        removals
            .into_iter()
            .try_for_each(|removal| removal.join().unwrap_or_else(|_| Err(io::Error::other("panicked"))))
    })?;
    remove_any(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_removed_in_parallel_and_a_missing_one_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        for sub in ["a/x", "b", "c/y/z"] {
            std::fs::create_dir_all(tree.join(sub)).unwrap();
            std::fs::write(tree.join(sub).join("f"), "data").unwrap();
        }
        std::fs::write(tree.join("top"), "data").unwrap();
        remove_tree_in_parallel(&tree).unwrap();
        assert!(!tree.exists());
        remove_tree_in_parallel(&tree).unwrap();
    }

    #[test]
    fn atomic_writes_replace_links_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let path = dir.path().join("file");
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        remove_any(&path).unwrap();
        remove_any(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_full_disk_is_recognised() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error())));
        assert!(!is_disk_full(&io::Error::from_raw_os_error(rustix::io::Errno::ACCESS.raw_os_error())));
        assert!(available_bytes(Path::new("/")).is_ok());
    }
}
