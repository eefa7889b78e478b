//! Restore: check and extract an archive into a staging folder, then swap
//! the staged content in for the current `data/`, `public/` and
//! `translations/` (keeping the previous content until the swap succeeded,
//! rolling back when it fails) and hand `.env` back to the host.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::archive::entry_path::{CONTENT_ROOTS, EntryPath};
use crate::archive::name::{previous_folder_name, staging_folder_name};
use crate::archive::plan::fs_path;
use crate::archive::read::ExtractSink;
use crate::catalog::Catalog;
use crate::error::{PluginError, Result};
use crate::fast_write::NewFile;
use crate::folders::remove_tree;
use crate::host::{Context, LogLevel};
use crate::jobs::read::ReadJob;
use crate::records::RestoreReport;

/// Replaces `.env`, `data/`, `public/` and `translations/` with the content
/// of backup `id`. The archive is checked completely first; when anything
/// fails the current files stay as they were.
pub fn restore(ctx: Context, id: u64) -> Result<RestoreReport> {
    let now = ctx.host.now();
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    let backup = catalog.backup(id, now)?;
    let staging_dir = ctx.roots.backups.join(staging_folder_name(id));
    let mut staging = Staging::create(&staging_dir)?;
    let checked = ReadJob::of(ctx, &backup, true).and_then(|job| job.read_all(ctx, &mut staging)).and_then(|check| {
        if check.problems.is_empty() {
            Ok(check)
        } else {
            Err(PluginError::CorruptArchive(format!(
                "backup {id} ({}) was not restored, nothing was changed: {}",
                backup.name,
                check.problems.join("; ")
            )))
        }
    });
    let check = match checked {
        Ok(check) => check,
        Err(err) => {
            remove_folder(ctx, &staging_dir);
            return Err(err);
        }
    };
    let previous_dir = ctx.roots.backups.join(previous_folder_name(id, now));
    let env = staging.env.take();
    swap_in(ctx, &staging_dir, &previous_dir, env.as_deref())
        .map_err(|err| PluginError::Storage(format!("backup {id} was not restored: {err}")))?;
    ctx.info(&format!("restored backup {id}: {} files, {} bytes", check.files, check.bytes));
    // The staging folders came and went in backups/: a new folder note
    // spares the next calls a listing. The restore is done either way.
    catalog.folder_changed();
    if let Err(err) = catalog.save(ctx) {
        ctx.warn(&format!("could not note the backups folder after the restore: {err}"));
    }
    Ok(RestoreReport { id, files: check.files, bytes: check.bytes })
}

/// Moves the current content aside and the staged content in, then writes
/// `.env` (left as it is when the archive had none). On failure every move
/// is undone.
fn swap_in(ctx: Context, staging_dir: &Path, previous_dir: &Path, env: Option<&[u8]>) -> Result<()> {
    let mut moves = Moves::default();
    let result = (|| {
        create_folder(previous_dir)?;
        for (name, root) in ctx.roots.content() {
            let previous = previous_dir.join(name);
            create_folder(&previous)?;
            moves.move_children(root, &previous)?;
            moves.move_children(&staging_dir.join(name), root)?;
        }
        match env {
            Some(env) => ctx
                .host
                .write_env(env)
                .map_err(|e| PluginError::Storage(format!("could not write the tenant's .env: {e}"))),
            None => Ok(()),
        }
    })();
    match result {
        Ok(()) => {
            remove_folder(ctx, previous_dir);
            remove_folder(ctx, staging_dir);
            Ok(())
        }
        Err(err) if moves.undo(ctx) => {
            remove_folder(ctx, previous_dir);
            remove_folder(ctx, staging_dir);
            Err(PluginError::Storage(format!("{err}; the previous files were put back")))
        }
        Err(err) => Err(PluginError::Storage(format!(
            "{err}; some previous files could not be put back and are still in {}",
            previous_dir.display()
        ))),
    }
}

/// The renames done so far, so they can be undone.
#[derive(Default)]
struct Moves {
    done: Vec<(PathBuf, PathBuf)>,
}

impl Moves {
    /// Moves every entry of `from` into `to`.
    fn move_children(&mut self, from: &Path, to: &Path) -> Result<()> {
        for entry in fs::read_dir(from).map_err(|e| PluginError::io("list", from, &e))? {
            let entry = entry.map_err(|e| PluginError::io("list", from, &e))?;
            let source = entry.path();
            let target = to.join(entry.file_name());
            fs::rename(&source, &target).map_err(|e| {
                PluginError::Storage(format!("could not move {} to {}: {e}", source.display(), target.display()))
            })?;
            self.done.push((source, target));
        }
        Ok(())
    }

    /// Undoes every move, newest first; false when one could not be undone
    /// (each failure is logged).
    fn undo(self, ctx: Context) -> bool {
        let mut complete = true;
        for (source, target) in self.done.into_iter().rev() {
            if let Err(err) = fs::rename(&target, &source) {
                complete = false;
                ctx.host.log(
                    LogLevel::Error,
                    &format!("could not move {} back to {}: {err}", target.display(), source.display()),
                );
            }
        }
        complete
    }
}

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
    fn create(dir: &Path) -> Result<Self> {
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

fn create_folder(path: &Path) -> Result<()> {
    fs::create_dir(path).map_err(|e| PluginError::io("create", path, &e))
}

/// Removes a folder tree, logging (not failing) when that is impossible.
fn remove_folder(ctx: Context, path: &Path) {
    if let Err(err) = remove_tree(path) {
        ctx.warn(&err.to_string());
    }
}
