//! The backup operations: create, list, get, update and delete.

use crate::catalog::Catalog;
use crate::error::Result;
use crate::host::Context;
use crate::input::{check_description, check_expiry};
use crate::jobs::create::add_backup;
use crate::records::{Backup, BackupPage, ExpiryChange};

/// Makes a full backup now.
pub fn create(ctx: Context, description: &str, expiry: Option<i64>) -> Result<Backup> {
    let now = ctx.host.now();
    check_description(description)?;
    if let Some(expiry) = expiry {
        check_expiry(expiry, now)?;
    }
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    let backup = add_backup(ctx, &mut catalog, now, description.to_string(), expiry, None)?;
    catalog.save(ctx)?;
    Ok(backup)
}

/// A page of backups, newest first, filtered by `search`.
pub fn list(ctx: Context, search: Option<&str>, limit: u32, offset: u32) -> Result<BackupPage> {
    let now = ctx.host.now();
    Catalog::load(ctx)?.search(search, limit, offset, now)
}

/// One backup by id.
pub fn get(ctx: Context, id: u64) -> Result<Backup> {
    let now = ctx.host.now();
    Catalog::load(ctx)?.backup(id, now)
}

/// Changes a backup's description and expiry.
pub fn update(ctx: Context, id: u64, description: Option<&str>, expiry: ExpiryChange) -> Result<Backup> {
    let now = ctx.host.now();
    if let Some(description) = description {
        check_description(description)?;
    }
    if let ExpiryChange::Set(expiry) = expiry {
        check_expiry(expiry, now)?;
    }
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    let backup = catalog.backup_mut(id, now)?;
    if let Some(description) = description {
        backup.description = description.to_string();
    }
    match expiry {
        ExpiryChange::Keep => {}
        ExpiryChange::Clear => backup.expiry = None,
        ExpiryChange::Set(expiry) => backup.expiry = Some(expiry),
    }
    let updated = backup.clone();
    catalog.save(ctx)?;
    Ok(updated)
}

/// Removes a backup: its archive and its record.
pub fn delete(ctx: Context, id: u64) -> Result<()> {
    let now = ctx.host.now();
    let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
    catalog.backup(id, now)?;
    catalog.remove_backup(ctx, id)?;
    catalog.save(ctx)?;
    ctx.info(&format!("deleted backup {id}"));
    Ok(())
}
