//! Restore: check and extract an archive into a staging folder, then swap
//! the staged content in for the current `data/`, `public/` and
//! `translations/` (keeping the previous content until the swap succeeded,
//! rolling back when it fails) and hand `.env` back to the host.

use std::fs;
use std::path::{Path, PathBuf};

use crate::archive::extract::Staging;
use crate::archive::name::{previous_folder_name, staging_folder_name};
use crate::catalog::Catalog;
use crate::error::{PluginError, Result};
use crate::folders::{create_folder, remove_tree};
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
    let checked = ReadJob::of(ctx, &backup, true).and_then(|job| job.sound(job.read_all(ctx, &mut staging)?));
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

/// Removes a folder tree, logging (not failing) when that is impossible.
fn remove_folder(ctx: Context, path: &Path) {
    if let Err(err) = remove_tree(path) {
        ctx.warn(&err.to_string());
    }
}
