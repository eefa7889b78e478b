//! Opening a served tenant: the tenant folder (lock, recovery), its
//! settings and database, the first ROOT user, the plugin, and the
//! operations layer over them. The server and an embedding application
//! both start here.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use kinesis_backup_core::ops::Backups;
use kinesis_backup_core::runtime::{LoadError, PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::settings::{Settings, SettingsError};
use kinesis_backup_core::tenant::{Access, Tenant, TenantError};
use tokio::task::JoinHandle;

use super::{router, scheduler};
use crate::auth::AuthMemory;
use crate::auth::first_start::{self, FirstStartError, SeededRoot};
use crate::blocking::on_blocking_pool;
use crate::db::engine::LiveDatabase;
use crate::db::{Db, DbError, DbGate};
use crate::http::AppState;

/// Why a tenant could not be opened for serving.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The tenant folder could not be opened.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// `.env` could not be read or holds a bad setting.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The first ROOT user could not be created.
    #[error(transparent)]
    FirstStart(#[from] FirstStartError),
    /// The operator's settings of the tenant cannot be read.
    #[error(transparent)]
    Hosting(#[from] kinesis_backup_core::tenant::hosting::HostingError),
    /// The plugin was refused.
    #[error(transparent)]
    Plugin(#[from] LoadError),
    /// The offsite settings are not usable.
    #[error(transparent)]
    Offsite(#[from] kinesis_backup_core::offsite::OffsiteError),
    /// A startup task stopped unexpectedly.
    #[error("a startup task stopped unexpectedly: {0}")]
    Task(String),
}

/// A tenant opened for serving.
pub struct App {
    /// What the handlers share.
    pub state: AppState,
    /// The ROOT user created on this first start, if it was one.
    pub seeded: Option<SeededRoot>,
}

impl App {
    /// Opens the tenant at `root` with `plugin`. The first ROOT user's
    /// password and the plugin are checked before anything is written, so a
    /// start refused for either changes nothing on disk.
    pub async fn open(root: &Path, plugin: PluginSource, options: RuntimeOptions) -> Result<App, OpenError> {
        App::open_adjusted(root, plugin, options, |backups| backups).await
    }

    /// As [`App::open`]; `adjust` may add offsite copies, a quota or a
    /// shared queue to its operations.
    pub async fn open_adjusted(
        root: &Path,
        plugin: PluginSource,
        options: RuntimeOptions,
        adjust: impl FnOnce(Backups) -> Backups,
    ) -> Result<App, OpenError> {
        first_start::check_password_from_env()?;
        let runtime = load_runtime(plugin, options).await?;
        App::open_with(root, runtime, adjust).await
    }

    /// Opens the tenant at `root` with an already loaded plugin; `adjust`
    /// may add a quota or a shared queue to its operations.
    pub async fn open_with(
        root: &Path,
        runtime: Arc<Runtime>,
        adjust: impl FnOnce(Backups) -> Backups,
    ) -> Result<App, OpenError> {
        App::open_remembering(root, runtime, Arc::default(), adjust).await
    }

    /// As [`App::open_with`], keeping the web sessions and sign-in throttle
    /// `auth` of an earlier opening of the same tenant.
    pub async fn open_remembering(
        root: &Path,
        runtime: Arc<Runtime>,
        auth: Arc<AuthMemory>,
        adjust: impl FnOnce(Backups) -> Backups,
    ) -> Result<App, OpenError> {
        let root = root.to_owned();
        let opened = on_blocking_pool(move || ServedTenant::open(&root))
            .await
            .map_err(|err| OpenError::Task(err.to_string()))??;
        let ServedTenant { tenant, settings, db, seeded } = opened;
        let gate = Arc::new(DbGate::new(db));
        let engine = Arc::new(LiveDatabase::new(gate.clone(), tenant.dirs().data.clone()));
        let backups = Arc::new(adjust(Backups::new(tenant, runtime, engine)));
        Ok(App { state: AppState::new(backups, gate, settings, auth), seeded })
    }

    /// Every route: the JSON API, the tenant's files and the web pages.
    pub fn router(&self) -> Router {
        router::build(self.state.clone())
    }

    /// Starts the schedule timer; abort the handle to stop it.
    pub fn spawn_timer(&self) -> JoinHandle<()> {
        tokio::spawn(scheduler::run(self.state.clone()))
    }
}

/// A tenant's files opened for serving: the folder (locked, settled), its
/// settings (`.env` created with a token secret on the first start), its
/// database, and the ROOT user created on the first start. The server opens
/// a tenant with it, and `tenant create` makes one.
pub struct ServedTenant {
    /// The opened, locked folder.
    pub tenant: Tenant,
    /// Its settings.
    pub settings: Settings,
    /// Its database.
    pub db: Db,
    /// The ROOT user created now, if this was the first start.
    pub seeded: Option<SeededRoot>,
}

impl ServedTenant {
    /// Opens (on the first start: creates) the tenant at `root`, on the
    /// calling thread: it reads files and may hash a password.
    pub fn open(root: &Path) -> Result<ServedTenant, OpenError> {
        let tenant = Tenant::open(root, Access::Write)?;
        let settings = Settings::load_or_init(tenant.dirs())?;
        let db = Db::create(&tenant.dirs().data)?;
        let seeded = first_start::seed_root_user_now(&db)?;
        Ok(ServedTenant { tenant, settings, db, seeded })
    }
}

/// Loads (compiles, or takes from the cache) a plugin on the blocking pool.
pub async fn load_runtime(plugin: PluginSource, options: RuntimeOptions) -> Result<Arc<Runtime>, OpenError> {
    let runtime = on_blocking_pool(move || Runtime::load(plugin, options))
        .await
        .map_err(|err| OpenError::Task(err.to_string()))??;
    tracing::info!("plugin loaded: {}", runtime.describe());
    Ok(Arc::new(runtime))
}
