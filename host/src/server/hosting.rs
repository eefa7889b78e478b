//! Many tenants in one process (`serve --tenants DIR`). Each subfolder of
//! `DIR` whose name is a DNS label and that holds a tenant (`.env` and
//! `data/`) is a tenant; a request's tenant is the first label of its
//! `Host` header under the serving domain (`acme.localhost:8080` is `acme`).
//!
//! Tenants open on their first request (their own lock, settings, database,
//! users, plugin instance and preopens, exactly as `serve --root` opens
//! one) and close again when idle, so a tenant created, changed or deleted
//! with `kinesis-backup tenant …` is picked up without a restart. Each
//! distinct plugin (file, memory limit, liveness) is compiled once and
//! shared. Long operations of all tenants share one fair queue of
//! `--max-running` turns; one timer ticks every tenant each minute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kinesis_backup_core::offsite::{Mode, OffsiteSettings};
use kinesis_backup_core::ops::{FairQueue, Quota};
use kinesis_backup_core::runtime::{PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::hosting::{HostingSettings, holds_tenant, is_tenant_name, tenant_names};
use kinesis_backup_core::tenant::{TenantError, WorkDirs};
use tower::ServiceExt;

use super::app::{App, OpenError, load_runtime};
use crate::auth::AuthMemory;
use crate::http::response::ApiError;

/// What `serve --tenants` was started with: the host-wide defaults.
#[derive(Debug, Clone)]
pub struct HostingOptions {
    /// The folder of tenants.
    pub dir: PathBuf,
    /// The domain the tenants' hosts are under (`localhost`).
    pub domain: String,
    /// The plugin of tenants without their own.
    pub plugin: PluginSource,
    /// Memory limit, liveness and cache of plugin calls.
    pub runtime: RuntimeOptions,
    /// The quota of tenants without their own.
    pub quota: Quota,
    /// Long operations running at once across all tenants.
    pub max_running: usize,
    /// How long an unused tenant stays open.
    pub idle: Duration,
    /// The offsite copies of tenants without their own settings.
    pub offsite: OffsiteSettings,
    /// Most bytes an uploaded archive may have.
    pub upload_limit: u64,
}

/// One open tenant.
struct Hosted {
    app: App,
    router: Router,
    settings_changed_at: Option<SystemTime>,
    last_used: Mutex<Instant>,
}

impl Hosted {
    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }
}

/// The plugins loaded so far: one per file and limits.
type RuntimeKey = (Option<PathBuf>, usize, Duration);

/// The tenants of one process.
pub struct Hosting {
    options: HostingOptions,
    queue: Arc<FairQueue>,
    runtimes: tokio::sync::Mutex<HashMap<RuntimeKey, Arc<Runtime>>>,
    open: tokio::sync::Mutex<HashMap<String, Arc<Hosted>>>,
    /// Each served tenant's web sessions and sign-in throttle, kept while
    /// the tenant is closed for being idle (so nobody is signed out by it)
    /// and dropped when the tenant is found deleted. Sessions are also
    /// bound to the tenant's token secret, so a tenant made again under the
    /// same name never accepts the old one's sessions.
    auth: std::sync::Mutex<HashMap<String, Arc<AuthMemory>>>,
}

/// Why a request has no tenant to go to.
#[derive(Debug, thiserror::Error)]
pub enum NoTenant {
    /// No tenant is named by the request's host.
    #[error("{0}")]
    Unknown(String),
    /// The tenant exists but could not be opened.
    #[error("the tenant {name} cannot be opened: {source}")]
    Open {
        /// The tenant.
        name: String,
        /// Why.
        source: OpenError,
    },
}

impl From<NoTenant> for ApiError {
    fn from(err: NoTenant) -> Self {
        match err {
            NoTenant::Unknown(message) => ApiError::not_found(message),
            NoTenant::Open { source: OpenError::Tenant(TenantError::Locked(_)), .. } => {
                ApiError::conflict(format!("{err}; try again when the other process has finished"))
            }
            NoTenant::Open { .. } => ApiError::internal(err.to_string()),
        }
    }
}

impl Hosting {
    /// The tenants of `options.dir`, none open yet.
    pub fn new(options: HostingOptions) -> Arc<Hosting> {
        Arc::new(Hosting {
            queue: FairQueue::new(options.max_running),
            options,
            runtimes: tokio::sync::Mutex::default(),
            open: tokio::sync::Mutex::default(),
            auth: std::sync::Mutex::default(),
        })
    }

    /// The tenant a `Host` header names, if it has the shape of one.
    pub fn tenant_of_host(&self, host: &str) -> Option<String> {
        let host =
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        let label = host.strip_suffix(&self.options.domain)?.strip_suffix('.')?;
        is_tenant_name(label).then(|| label.to_owned())
    }

    /// The folder of tenant `name`.
    fn root_of(&self, name: &str) -> PathBuf {
        self.options.dir.join(name)
    }

    /// The names of the tenants in the folder, in name order.
    pub fn tenant_names(&self) -> Vec<String> {
        tenant_names(&self.options.dir)
    }

    /// The open tenant `name`, opened now if needed.
    async fn get(self: &Arc<Self>, name: &str) -> Result<Arc<Hosted>, NoTenant> {
        let root = self.root_of(name);
        if !holds_tenant(&root) {
            self.open.lock().await.remove(name);
            self.auth.lock().unwrap_or_else(PoisonError::into_inner).remove(name);
            return Err(NoTenant::Unknown(format!(
                "there is no tenant {name:?} on this server; check the address, or create it with \
                 `kinesis-backup tenant create {name}`"
            )));
        }
        let settings_file = WorkDirs::for_root(&root).hosting_settings();
        let changed_at = modified(&settings_file);
        let mut open = self.open.lock().await;
        if let Some(hosted) = open.get(name) {
            let stale = hosted.settings_changed_at != changed_at && Arc::strong_count(hosted) == 1;
            if !stale {
                hosted.touch();
                return Ok(hosted.clone());
            }
            open.remove(name);
        }
        let hosted = self
            .open_tenant(name, &root, changed_at)
            .await
            .map_err(|source| NoTenant::Open { name: name.to_owned(), source })?;
        open.insert(name.to_owned(), hosted.clone());
        Ok(hosted)
    }

    async fn open_tenant(
        self: &Arc<Self>,
        name: &str,
        root: &Path,
        settings_changed_at: Option<SystemTime>,
    ) -> Result<Arc<Hosted>, OpenError> {
        let settings = HostingSettings::load(&WorkDirs::for_root(root).hosting_settings())?;
        let runtime = self.runtime_for(&settings).await?;
        let quota = Quota {
            bytes: settings.quota_bytes.or(self.options.quota.bytes),
            backups: settings.quota_backups.or(self.options.quota.backups),
        };
        let offsite = self.options.offsite.overridden_by(&settings.offsite_settings()).config_for(name)?;
        let queue = self.queue.clone();
        let auth = self.auth.lock().unwrap_or_else(PoisonError::into_inner).entry(name.to_owned()).or_default().clone();
        let mut app = App::open_remembering(root, runtime, auth, |backups| {
            let backups = backups.with_quota(quota).with_admission(Arc::new(queue));
            match offsite {
                Some(config) => backups.with_offsite(config, Mode::Background),
                None => backups,
            }
        })
        .await?;
        app.state.upload_limit = self.options.upload_limit;
        tracing::info!(tenant = name, "opened");
        let router = app.router();
        Ok(Arc::new(Hosted { app, router, settings_changed_at, last_used: Mutex::new(Instant::now()) }))
    }

    /// The loaded plugin for a tenant's settings, loaded once per file and
    /// limits.
    async fn runtime_for(&self, settings: &HostingSettings) -> Result<Arc<Runtime>, OpenError> {
        let mut options = self.options.runtime.clone();
        if let Some(mib) = settings.memory_mib {
            options.memory_limit_bytes = mib as usize * 1024 * 1024;
        }
        if let Some(seconds) = settings.liveness_seconds {
            options.liveness = Duration::from_secs(seconds);
        }
        let plugin = match &settings.plugin {
            Some(file) => PluginSource::File(file.clone()),
            None => self.options.plugin.clone(),
        };
        let key = (
            match &plugin {
                PluginSource::File(file) => Some(file.clone()),
                PluginSource::Embedded => None,
            },
            options.memory_limit_bytes,
            options.liveness,
        );
        let mut runtimes = self.runtimes.lock().await;
        if let Some(runtime) = runtimes.get(&key) {
            return Ok(runtime.clone());
        }
        let runtime = load_runtime(plugin, options).await?;
        runtimes.insert(key, runtime.clone());
        Ok(runtime)
    }

    /// Closes the tenants nobody used for the idle time (and that no request
    /// or tick holds), releasing their lock and database.
    pub async fn close_idle(&self) {
        let idle = self.options.idle;
        let mut open = self.open.lock().await;
        open.retain(|name, hosted| {
            let keep = Arc::strong_count(hosted) > 1 || hosted.idle_for() < idle;
            if !keep {
                tracing::info!(tenant = name.as_str(), "closed after {idle:?} without use");
            }
            keep
        });
    }

    /// Stops every running plugin call, for a shutdown.
    pub async fn shut_down(&self) {
        for runtime in self.runtimes.lock().await.values() {
            runtime.shut_down();
        }
    }

    /// Ticks every tenant's schedules once; a tenant whose tick fails is
    /// logged and the others go on.
    pub async fn tick_all(self: &Arc<Self>) {
        // As many ticks at once as long operations may run: a thousand
        // tenants' ticks must not take every plugin instance at the minute.
        let permits = Arc::new(tokio::sync::Semaphore::new(self.options.max_running));
        let mut ticks = tokio::task::JoinSet::new();
        for name in self.tenant_names() {
            let hosting = self.clone();
            let permits = permits.clone();
            ticks.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else { return };
                let hosted = match hosting.get(&name).await {
                    Ok(hosted) => hosted,
                    Err(err) => return tracing::error!(tenant = name, "cannot tick: {err}"),
                };
                let now = Utc::now();
                match hosted.app.state.ops(move |backups| backups.tick(now)).await {
                    Ok(Some(report)) => super::scheduler::log_report(&report),
                    Ok(None) => tracing::info!(tenant = name, "a backup or restore is running; the due schedule waits"),
                    Err(err) => tracing::error!(tenant = name, "the schedule tick failed: {}", err.message),
                }
            });
        }
        while ticks.join_next().await.is_some() {}
    }
}

fn modified(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|meta| meta.modified()).ok()
}

/// Routes a request to its tenant's router by its `Host` header.
pub async fn dispatch(State(hosting): State<Arc<Hosting>>, request: Request) -> Response {
    let host = request.headers().get(HOST).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let Some(name) = hosting.tenant_of_host(&host) else {
        return ApiError::not_found(format!(
            "no tenant is served at the host {host:?}; use TENANT.{}, e.g. acme.{}",
            hosting.options.domain, hosting.options.domain
        ))
        .into_response();
    };
    match hosting.get(&name).await {
        Ok(hosted) => match hosted.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// The router of the whole process: every request goes to its tenant.
pub fn router(hosting: Arc<Hosting>) -> Router {
    Router::new().fallback(dispatch).with_state(hosting)
}

/// Runs the shared timer and the idle reaper until the task is aborted.
pub async fn run_timers(hosting: Arc<Hosting>) {
    let reaper = async {
        let every = (hosting.options.idle / 2).max(Duration::from_millis(200));
        loop {
            tokio::time::sleep(every).await;
            hosting.close_idle().await;
        }
    };
    let timer = async {
        loop {
            hosting.tick_all().await;
            tokio::time::sleep(super::scheduler::until_next_minute(Utc::now())).await;
        }
    };
    tokio::join!(reaper, timer);
}
