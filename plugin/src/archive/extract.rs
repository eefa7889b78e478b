//! Extraction: where the folders and files of an archive being read go.
//! [`Staging`] writes them under a staging folder (a restore in one
//! instance) or straight into the content roots (a part of a restore job,
//! whose roots the host stages), and keeps `.env` in memory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::entry_path::{CONTENT_ROOTS, EntryPath};
use super::plan::fs_path;
use super::read::ExtractSink;
use crate::error::{PluginError, Result};
use crate::fast_write::NewFile;
use crate::folders::{create_folder, remove_tree};
use crate::host::Context;

/// Extracts an archive's folders and files into a destination and keeps
/// `.env` in memory (`None` when the archive has none).
pub struct Staging<'a> {
    to: Destination<'a>,
    /// The archive's `.env`, once read.
    pub env: Option<Vec<u8>>,
    current: Option<Current>,
}

/// Where extracted entries go.
enum Destination<'a> {
    /// Under a staging folder, which holds the three content roots.
    Folder(PathBuf),
    /// Straight into the content roots (empty folders the host stages).
    Roots(Context<'a>),
}

/// Where the file being extracted goes.
enum Current {
    Env,
    File(NewFile, PathBuf),
}

impl<'a> Staging<'a> {
    /// A fresh staging folder with the three content roots in it.
    pub fn create(dir: &Path) -> Result<Self> {
        remove_tree(dir)?;
        create_folder(dir)?;
        for root in CONTENT_ROOTS {
            create_folder(&dir.join(root))?;
        }
        Ok(Staging { to: Destination::Folder(dir.to_path_buf()), env: None, current: None })
    }

    /// Extracts straight into the content roots of `ctx`.
    pub fn into_roots(ctx: Context<'a>) -> Self {
        Staging { to: Destination::Roots(ctx), env: None, current: None }
    }

    fn target(&self, path: &EntryPath) -> Result<PathBuf> {
        match &self.to {
            Destination::Folder(dir) => {
                let mut target = dir.clone();
                target.extend(path.components());
                Ok(target)
            }
            Destination::Roots(ctx) => fs_path(*ctx, path.as_str()),
        }
    }
}

impl ExtractSink for Staging<'_> {
    fn directory(&mut self, path: &EntryPath) -> Result<()> {
        let target = self.target(path)?;
        fs::create_dir_all(&target).map_err(|e| PluginError::io("create", &target, &e))
    }

    fn begin_file(&mut self, path: &EntryPath, size: u64) -> Result<()> {
        if path.is_env() {
            self.env = Some(Vec::with_capacity(size as usize));
            self.current = Some(Current::Env);
            return Ok(());
        }
        let target = self.target(path)?;
        let file = match NewFile::create(&target) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                // The archive had no entry for the parent folder (or another
                // part of it creates that entry).
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(|e| PluginError::io("create", parent, &e))?;
                }
                NewFile::create(&target)
            }
            other => other,
        }
        .map_err(|e| PluginError::io("create", &target, &e))?;
        self.current = Some(Current::File(file, target));
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        match &mut self.current {
            Some(Current::Env) => {
                self.env.get_or_insert_with(Vec::new).extend_from_slice(chunk);
                Ok(())
            }
            Some(Current::File(file, path)) => file.write_all(chunk).map_err(|e| PluginError::io("write", path, &e)),
            None => Ok(()),
        }
    }

    fn end_file(&mut self) -> Result<()> {
        self.current = None;
        Ok(())
    }
}
