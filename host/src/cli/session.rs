//! What every backup or schedule command starts with: the tenant's folders
//! (created when missing), the tenant lock for commands that change
//! anything, and the loaded plugin.

use std::path::Path;

use super::CliError;
use crate::runtime::{Invocation, PluginSource, Runtime, RuntimeOptions};
use crate::tenants::{TenantDirs, TenantLock};

/// Whether a command changes the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// list, get, verify, schedule list.
    Read,
    /// Everything else: takes the tenant lock.
    Write,
}

/// A tenant opened for one command.
pub(crate) struct Session {
    /// The plugin.
    pub runtime: Runtime,
    /// The tenant.
    pub dirs: TenantDirs,
    _lock: Option<TenantLock>,
}

impl Session {
    /// Opens the tenant at `root` for `access` with the plugin `source`.
    pub(crate) fn open(root: &Path, source: PluginSource, access: Access) -> Result<Session, CliError> {
        let dirs = TenantDirs::for_root(root);
        dirs.ensure_exist().map_err(|source| CliError::Folders { root: root.to_path_buf(), source })?;
        let lock = match access {
            Access::Write => Some(TenantLock::acquire(root)?),
            Access::Read => None,
        };
        let runtime = Runtime::load(source, RuntimeOptions::default())?;
        Ok(Session { runtime, dirs, _lock: lock })
    }

    /// An invocation on this tenant with the system clock.
    pub(crate) fn invocation(&self) -> Invocation {
        Invocation::new(self.dirs.clone())
    }
}
