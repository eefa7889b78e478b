//! Runs a backup plugin: owns the wasmtime `Engine`, loads and checks the
//! component once, and runs each operation in a fresh, limited `Store`.
//!
//! One concern per file: `engine` (engine and epoch ticker), `load` and
//! `cache` (bytes and compiled artifact), `contract` (what a component must
//! export and may import), `plugin` (the version boundary: one enum over the
//! contract versions) with one `since_vX_Y_Z` module per version,
//! `operations` (the contract's operations, listed once), `invoke` (one
//! call), `sandbox` (preopens, no environment or network), `limits`
//! (memory, failure classification), `host_imports` and `captured_output`
//! (what the plugin may say), `tenant_mutexes` (serialized changes).

mod budget;
mod cache;
mod captured_output;
mod contract;
mod distrust;
mod engine;
mod error;
mod host_imports;
mod inspect;
mod invoke;
mod jobs;
mod limits;
mod liveness;
mod load;
mod operations;
mod plugin;
mod sandbox;
mod since_v1_0_0;
mod since_v1_1_0;
mod store;
mod tenant_mutexes;
mod v1_glue;

pub use cache::ArtifactOrigin;
pub use error::{CallError, LoadError};
pub use inspect::{Import, PluginInfo, RELEASED_CONTRACTS, inspect};

use distrust::Asked;
use operations::{JobKind, JobSteps, Operation, Parts};
use plugin::PluginPre;
use tenant_mutexes::TenantMutexes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{
    Backup, BackupPage, ExpiryChange, RestoreReport, Schedule, ScheduleInput, SchedulePage, SchedulePatch, TickReport,
    VerifyReport,
};
use crate::tenant::TenantDirs;

/// Where the plugin comes from.
#[derive(Debug, Clone)]
pub enum PluginSource {
    /// The default plugin built from `plugin/` and embedded in the binary.
    Embedded,
    /// A component file given by the operator (`--plugin FILE.wasm`).
    File(PathBuf),
}

/// Limits and settings of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Most linear memory one plugin instance may use.
    pub memory_limit_bytes: usize,
    /// Time limit for quick calls (list, get, update, delete, schedule-*).
    pub quick_deadline: Duration,
    /// Base of the hard cap of long calls (create, restore, verify,
    /// schedule-tick); a second per MiB of the data a call works on is added.
    pub long_deadline: Duration,
    /// Longest a long call may go without a progress report before it is
    /// stopped.
    pub liveness: Duration,
    /// Where precompiled plugins are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Plugin instances that may run at once (the pooling allocator is sized
    /// for them); a call beyond that answers Busy.
    pub max_instances: u32,
    /// Instances one create, restore or verify may run at once, for a
    /// plugin that can split them (contract 1.1.0); 1 runs them in one.
    pub jobs: u32,
}

/// The default of [`RuntimeOptions::jobs`]: the cores of this machine.
pub fn default_jobs() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

impl Default for RuntimeOptions {
    /// 64 MiB of guest memory, 30 s for quick calls, 2 h (plus a second per
    /// MiB of data) for long ones which must report progress every 60 s, and
    /// the cache in `$XDG_CACHE_HOME/kinesis-backup` (or
    /// `~/.cache/kinesis-backup`), and as many instances per create, restore
    /// or verify as the machine has cores.
    fn default() -> Self {
        RuntimeOptions {
            memory_limit_bytes: 64 * 1024 * 1024,
            quick_deadline: Duration::from_secs(30),
            long_deadline: Duration::from_secs(2 * 60 * 60),
            liveness: Duration::from_secs(60),
            cache_dir: cache::default_cache_dir(),
            max_instances: 16,
            jobs: default_jobs(),
        }
    }
}

/// The time as the host sees it; tests move it.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Progress of a long call: `(done, total)` bytes.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What one operation runs against.
#[derive(Clone)]
pub struct Invocation {
    /// The tenant's folders (`data` may be a snapshot).
    pub dirs: TenantDirs,
    /// The clock the plugin's `now` import reads.
    pub clock: Arc<dyn Clock>,
    /// Called with progress reports of long calls.
    pub progress: Option<ProgressFn>,
    /// Bytes of data the call works on, which raise a long call's hard cap.
    pub data_bytes: u64,
}

impl Invocation {
    /// An invocation on `dirs` with the system clock and no progress.
    pub fn new(dirs: TenantDirs) -> Self {
        Invocation { dirs, clock: Arc::new(SystemClock), progress: None, data_bytes: 0 }
    }
}

/// A loaded, checked plugin, ready to run operations. Shared across
/// threads: every call gets its own instance.
pub struct Runtime {
    engine: wasmtime::Engine,
    pre: PluginPre,
    options: RuntimeOptions,
    name: String,
    description: String,
    artifact_origin: ArtifactOrigin,
    cache_file: Option<PathBuf>,
    tenant_mutexes: TenantMutexes,
    shut_down: Arc<AtomicBool>,
    // Dropped last among what matters: stops the deadline thread.
    _ticker: engine::EpochTicker,
}

impl Runtime {
    /// Loads, checks and prepares the plugin.
    pub fn load(source: PluginSource, options: RuntimeOptions) -> Result<Runtime, LoadError> {
        let plugin = load::read(&source)?;
        let engine = engine::build_engine(options.memory_limit_bytes, options.max_instances)?;
        let cache_file = options.cache_dir.as_deref().map(|dir| cache::cache_file(dir, &engine, &plugin.sha256));
        let (component, artifact_origin) = load::compile(&engine, &plugin, cache_file.as_deref())?;
        let pre = PluginPre::prepare(&engine, &component)?;
        let ticker = engine::EpochTicker::start(&engine)?;
        let description = format!("{} (kinesis:backup@{}, sha256 {})", plugin.origin, pre.version(), plugin.sha256);
        tracing::info!(artifact = ?artifact_origin, "loaded {description}");
        Ok(Runtime {
            name: plugin.origin.clone(),
            engine,
            pre,
            options,
            description,
            artifact_origin,
            cache_file,
            tenant_mutexes: TenantMutexes::default(),
            shut_down: Arc::new(AtomicBool::new(false)),
            _ticker: ticker,
        })
    }

    /// A short description of the loaded plugin for logs: where it came from
    /// and the SHA-256 of its bytes.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Whether this load compiled the plugin or used the cached artifact.
    pub fn artifact_origin(&self) -> ArtifactOrigin {
        self.artifact_origin
    }

    /// The precompiled artifact's cache file, when the cache is enabled.
    pub fn cache_file(&self) -> Option<&Path> {
        self.cache_file.as_deref()
    }

    /// Waits until no call that may change the tenant at `root` runs, and
    /// holds such calls back while the returned value lives: for the host's
    /// own changes to the tenant's `backups/` (cleaning up after a stopped
    /// call).
    pub fn hold_tenant(&self, root: &Path) -> impl Drop + '_ {
        self.tenant_mutexes.lock(root)
    }

    /// Stops every running call at once and refuses new ones: for a host
    /// that is shutting down.
    pub fn shut_down(&self) {
        self.shut_down.store(true, Ordering::Relaxed);
    }

    /// Whether [`Runtime::shut_down`] was called: every call is refused.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Relaxed)
    }

    /// The options this runtime was loaded with.
    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    /// How many instances a create, restore or verify runs on at most.
    pub fn instances_per_job(&self) -> u32 {
        self.job_instances().unwrap_or(1)
    }

    /// The contract version the plugin implements, e.g. `1.0.0`.
    pub fn contract_version(&self) -> &'static str {
        self.pre.version()
    }

    /// See the WIT `create`; split over up to [`RuntimeOptions::jobs`]
    /// instances when the plugin can.
    pub fn create(
        &self,
        inv: &Invocation,
        description: &str,
        expiry: Option<DateTime<Utc>>,
    ) -> Result<Backup, CallError> {
        let steps = JobSteps {
            kind: JobKind::Create,
            begin: |p: &dyn Parts, s: &mut _, parts| p.begin_create(s, description, expiry, parts),
            finish: |p: &dyn Parts, s: &mut _, job: &_, outcomes: &_| p.finish_create(s, job, outcomes),
        };
        self.run_split(inv, Asked::default(), true, |p, s| p.create(s, description, expiry), steps)
    }
    /// See the WIT `list`.
    pub fn list(
        &self,
        inv: &Invocation,
        search: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<BackupPage, CallError> {
        self.run(inv, Operation::LIST, Asked::page(limit), |p, s| p.list(s, search, limit, offset))
    }
    /// See the WIT `get`.
    pub fn get(&self, inv: &Invocation, id: u64) -> Result<Backup, CallError> {
        self.run(inv, Operation::GET, Asked::id(id), |p, s| p.get(s, id))
    }
    /// See the WIT `update`.
    pub fn update(
        &self,
        inv: &Invocation,
        id: u64,
        description: Option<&str>,
        expiry: ExpiryChange,
    ) -> Result<Backup, CallError> {
        self.run(inv, Operation::UPDATE, Asked::id(id), |p, s| p.update(s, id, description, expiry))
    }
    /// See the WIT `restore`. `data`, `public`, `translations` and `.env`
    /// are writable for this call only; the operations layer points them at
    /// a staging area, never at the live folders.
    ///
    /// In parts only into empty content folders, as the contract 1.1.0
    /// promises the plugin (the operations layer stages every restore so);
    /// into folders with content it runs in one instance, which replaces
    /// them itself.
    pub fn restore(&self, inv: &Invocation, id: u64) -> Result<RestoreReport, CallError> {
        let steps = JobSteps {
            kind: JobKind::Restore,
            begin: |p: &dyn Parts, s: &mut _, parts| p.begin_restore(s, id, parts),
            finish: |p: &dyn Parts, s: &mut _, job: &_, outcomes: &_| p.finish_restore(s, job, outcomes),
        };
        let may_split = inv.dirs.content_is_empty();
        self.run_split(inv, Asked::id(id), may_split, |p, s| p.restore(s, id), steps)
    }
    /// See the WIT `delete`.
    pub fn delete(&self, inv: &Invocation, id: u64) -> Result<(), CallError> {
        self.run(inv, Operation::DELETE, Asked::id(id), |p, s| p.delete(s, id))
    }
    /// See the WIT `verify`.
    pub fn verify(&self, inv: &Invocation, id: u64) -> Result<VerifyReport, CallError> {
        let steps = JobSteps {
            kind: JobKind::Verify,
            begin: |p: &dyn Parts, s: &mut _, parts| p.begin_verify(s, id, parts),
            finish: |p: &dyn Parts, s: &mut _, job: &_, outcomes: &_| p.finish_verify(s, job, outcomes),
        };
        self.run_split(inv, Asked::id(id), true, |p, s| p.verify(s, id), steps)
    }
    /// See the WIT `schedule-create`.
    pub fn schedule_create(&self, inv: &Invocation, input: &ScheduleInput) -> Result<Schedule, CallError> {
        self.run(inv, Operation::SCHEDULE_CREATE, Asked::default(), |p, s| p.schedule_create(s, input))
    }
    /// See the WIT `schedule-list`.
    pub fn schedule_list(&self, inv: &Invocation, limit: u32, offset: u32) -> Result<SchedulePage, CallError> {
        self.run(inv, Operation::SCHEDULE_LIST, Asked::page(limit), |p, s| p.schedule_list(s, limit, offset))
    }
    /// See the WIT `schedule-update`.
    pub fn schedule_update(&self, inv: &Invocation, id: u64, patch: &SchedulePatch) -> Result<Schedule, CallError> {
        self.run(inv, Operation::SCHEDULE_UPDATE, Asked::id(id), |p, s| p.schedule_update(s, id, patch))
    }
    /// See the WIT `schedule-delete`.
    pub fn schedule_delete(&self, inv: &Invocation, id: u64) -> Result<(), CallError> {
        self.run(inv, Operation::SCHEDULE_DELETE, Asked::id(id), |p, s| p.schedule_delete(s, id))
    }
    /// See the WIT `schedule-tick`.
    pub fn schedule_tick(&self, inv: &Invocation, now: DateTime<Utc>) -> Result<TickReport, CallError> {
        self.run(inv, Operation::SCHEDULE_TICK, Asked::default(), |p, s| p.schedule_tick(s, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Runtime>();
        assert_send_sync::<Invocation>();
    }

    #[test]
    fn default_limits_are_64_mib_30_s_and_2_h() {
        let options = RuntimeOptions::default();
        assert_eq!(options.memory_limit_bytes, 64 * 1024 * 1024);
        assert_eq!(options.quick_deadline, Duration::from_secs(30));
        assert_eq!(options.long_deadline, Duration::from_secs(7200));
        assert_eq!(options.liveness, Duration::from_secs(60));
        assert!(options.jobs >= 1);
    }
}
