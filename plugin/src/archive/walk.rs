//! Walks the three content folders without following links, in a stable
//! order, reporting every folder and regular file with its archive path.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::error::{PluginError, Result};
use crate::host::Context;

/// Something found in a content folder.
pub enum Found<'a> {
    /// A folder (including each root itself).
    Directory {
        /// Path inside the archive, such as `data/sub`.
        archive_path: &'a str,
        /// Modification time, seconds since the epoch.
        mtime: u64,
    },
    /// A regular file.
    File {
        /// Path inside the archive, such as `data/sub/file`.
        archive_path: &'a str,
        /// Where the file is.
        fs_path: &'a Path,
        /// Its size when it was listed.
        size: u64,
        /// Modification time, seconds since the epoch.
        mtime: u64,
    },
}

/// Calls `visit` for every folder and regular file under the content roots.
/// Anything else (links, devices, names that are not UTF-8) is skipped and,
/// when `log_skipped` is set, logged. Links are never followed.
pub fn walk(ctx: Context, log_skipped: bool, visit: &mut dyn FnMut(Found) -> Result<()>) -> Result<()> {
    for (name, root) in ctx.roots.content() {
        let mtime = modified(&fs::metadata(root).map_err(|e| PluginError::io("read", root, &e))?);
        visit(Found::Directory { archive_path: name, mtime })?;
        // Explicit stack: deep trees must not exhaust the guest's stack.
        let mut pending: Vec<(PathBuf, String)> = vec![(root.clone(), name.to_string())];
        while let Some((dir, archive_dir)) = pending.pop() {
            let mut subdirs = Vec::new();
            for (entry_name, file_type, fs_path) in sorted_entries(&dir)? {
                let Some(entry_name) = entry_name else {
                    if log_skipped {
                        ctx.warn(&format!("skipped {}: its name is not valid UTF-8", fs_path.display()));
                    }
                    continue;
                };
                let archive_path = format!("{archive_dir}/{entry_name}");
                if file_type.is_dir() {
                    let meta = fs::symlink_metadata(&fs_path).map_err(|e| PluginError::io("read", &fs_path, &e))?;
                    visit(Found::Directory { archive_path: &archive_path, mtime: modified(&meta) })?;
                    subdirs.push((fs_path, archive_path));
                } else if file_type.is_file() {
                    let meta = fs::symlink_metadata(&fs_path).map_err(|e| PluginError::io("read", &fs_path, &e))?;
                    visit(Found::File {
                        archive_path: &archive_path,
                        fs_path: &fs_path,
                        size: meta.len(),
                        mtime: modified(&meta),
                    })?;
                } else if log_skipped {
                    ctx.warn(&format!(
                        "skipped {}: only regular files and folders are backed up (links are not followed)",
                        fs_path.display()
                    ));
                }
            }
            pending.extend(subdirs.into_iter().rev());
        }
    }
    Ok(())
}

type Listed = (Option<String>, fs::FileType, PathBuf);

/// The entries of `dir` sorted by name (names that are not UTF-8 last).
fn sorted_entries(dir: &Path) -> Result<Vec<Listed>> {
    let mut listed = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| PluginError::io("list", dir, &e))? {
        let entry = entry.map_err(|e| PluginError::io("list", dir, &e))?;
        let file_type = entry.file_type().map_err(|e| PluginError::io("read", &entry.path(), &e))?;
        listed.push((entry.file_name().into_string().ok(), file_type, entry.path()));
    }
    listed.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    Ok(listed)
}

fn modified(meta: &fs::Metadata) -> u64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs())
}
