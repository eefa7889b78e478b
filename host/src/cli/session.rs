//! What every backup or schedule command starts with: the tenant opened
//! through the core (folders created when missing, the tenant lock for
//! commands that change anything, an interrupted restore settled), the
//! plugin loaded, and the operations layer over them, with the database
//! checked as files since no server runs; and what every command that
//! changed something ends with: its offsite copies made or removed.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kinesis_backup_core::offsite::{Mode, OffsiteConfig};
use kinesis_backup_core::ops::Backups;
use kinesis_backup_core::runtime::{PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::{Access, Tenant};

use super::CliError;
use crate::db::engine::OfflineDatabase;

/// Rounds of offsite work a command runs before it ends.
const OFFSITE_ROUNDS: u32 = 3;

/// The plugin, its limits and the offsite copies a command was given.
pub(crate) type Setup = (PluginSource, RuntimeOptions, Option<OffsiteConfig>);

/// Opens the tenant at `root` for `access` with the plugin and offsite
/// copies of `setup`.
pub(crate) fn open(root: &Path, (source, options, offsite): Setup, access: Access) -> Result<Backups, CliError> {
    let runtime = Arc::new(Runtime::load(source, options)?);
    let backups = open_with(root, runtime, access)?;
    Ok(match offsite {
        Some(config) => backups.with_offsite(config, Mode::Foreground),
        None => backups,
    })
}

/// Opens the tenant at `root` for `access` with an already loaded plugin.
pub(crate) fn open_with(root: &Path, runtime: Arc<Runtime>, access: Access) -> Result<Backups, CliError> {
    let tenant = Tenant::open(root, access)?;
    let engine = Arc::new(OfflineDatabase::new(tenant.dirs().data.clone()));
    Ok(Backups::new(tenant, runtime, engine))
}

/// Runs the queued offsite work (copies, removals) before the command
/// ends, trying a failure again after a short wait; what is still left is
/// said on stderr and taken up by the next command or server.
pub(crate) fn finish_offsite(backups: &Backups) {
    let Some(offsite) = backups.offsite() else { return };
    for round in 0..OFFSITE_ROUNDS {
        if backups.offsite_run_pending() == 0 {
            return;
        }
        if round + 1 < OFFSITE_ROUNDS {
            std::thread::sleep(Duration::from_secs(1 << round));
        }
    }
    eprintln!(
        "note: {} offsite change(s) to {} are still pending; the next command or the server takes them up",
        offsite.pending(),
        offsite.describe()
    );
}
