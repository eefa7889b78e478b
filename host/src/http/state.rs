//! What every handler and the timer share: the tenant's backups (the
//! operations layer), its database, its settings, and what it remembers of
//! signing in (web sessions, the sign-in throttle).

use std::sync::{Arc, PoisonError, RwLock};

use kinesis_backup_core::ops::{Backups, OpsError};
use kinesis_backup_core::tenant::settings::{Settings, SettingsError};

use super::response::ApiError;
use crate::auth::memory::AuthMemory;
use crate::blocking::on_blocking_pool;
use crate::db::DbGate;

/// The server's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The tenant's backups.
    pub backups: Arc<Backups>,
    /// The tenant's database.
    pub db: Arc<DbGate>,
    /// The tenant's web sessions and sign-in throttle.
    pub auth: Arc<AuthMemory>,
    /// Most bytes an uploaded archive may have.
    pub upload_limit: u64,
    settings: Arc<RwLock<Settings>>,
}

/// The upload limit unless the server is told otherwise: 8 GiB.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 8 << 30;

impl AppState {
    /// The state of a server over `backups`, `db`, `settings` and `auth`.
    pub fn new(backups: Arc<Backups>, db: Arc<DbGate>, settings: Settings, auth: Arc<AuthMemory>) -> AppState {
        AppState { backups, db, auth, upload_limit: DEFAULT_UPLOAD_LIMIT, settings: Arc::new(RwLock::new(settings)) }
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads `.env` again (after a restore replaced it).
    pub fn reload_settings(&self) -> Result<(), SettingsError> {
        let fresh = Settings::load_or_init(self.backups.tenant().dirs())?;
        *self.settings.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Runs a backup operation on the blocking pool: operations are
    /// synchronous and may take minutes. The work finishes even when the
    /// request that started it goes away.
    pub async fn ops<T, F>(&self, operation: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Backups) -> Result<T, OpsError> + Send + 'static,
    {
        let backups = self.backups.clone();
        on_blocking_pool(move || operation(&backups).map_err(ApiError::from))
            .await
            .map_err(|err| ApiError::internal(err.to_string()))?
    }
}
