//! What every backup or schedule command starts with: the tenant opened
//! through the core (folders created when missing, the tenant lock for
//! commands that change anything, an interrupted restore settled), the
//! plugin loaded, and the operations layer over them, with the database
//! checked as files since no server runs.

use std::path::Path;
use std::sync::Arc;

use kinesis_backup_core::ops::Backups;
use kinesis_backup_core::runtime::{PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::{Access, Tenant};

use super::CliError;
use crate::db::engine::OfflineDatabase;

/// Opens the tenant at `root` for `access` with the plugin `source`.
pub(crate) fn open(
    root: &Path,
    (source, options): (PluginSource, RuntimeOptions),
    access: Access,
) -> Result<Backups, CliError> {
    let runtime = Arc::new(Runtime::load(source, options)?);
    open_with(root, runtime, access)
}

/// Opens the tenant at `root` for `access` with an already loaded plugin.
pub(crate) fn open_with(root: &Path, runtime: Arc<Runtime>, access: Access) -> Result<Backups, CliError> {
    let tenant = Tenant::open(root, access)?;
    let engine = Arc::new(OfflineDatabase::new(tenant.dirs().data.clone()));
    Ok(Backups::new(tenant, runtime, engine))
}
