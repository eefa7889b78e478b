//! Offsite copies of a tenant's backups in S3-compatible storage, made by
//! the host (never the plugin, which has no network):
//!
//! - [`target`]: `s3://BUCKET/PREFIX` and the object names under it;
//! - [`store`]: the bucket through `object_store`, configured from the
//!   `AWS_*` variables, with streamed multipart uploads and downloads;
//! - [`queue`]: the durable state file (work to do, what the bucket holds);
//! - [`crypt`]: optional age encryption of the remote copies;
//! - [`worker`]: the copy loop with its backoff, on a thread of its own;
//! - [`fetch`]: bringing a remote copy back into `backups/`, checked.
//!
//! [`Offsite`] is what the operations layer holds: it queues a copy after
//! every create, a record update after a change, a removal after a delete
//! or an expiry, and answers each backup's [`OffsiteStatus`].

pub mod crypt;
mod digest;
mod fetch;
pub mod queue;
pub mod store;
pub mod target;
mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chrono::Utc;

use crate::model::{Backup, OffsiteStatus};
use crate::tenant::Tenant;
pub use crypt::{EncryptTo, IdentityFile};
pub use queue::{Job, OffsiteState, RemoteRecord, Task};
pub use store::RemoteStore;
pub use target::OffsiteTarget;

/// Why an offsite step failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OffsiteError {
    /// The offsite settings are not usable.
    #[error("{0}")]
    Config(String),
    /// The bucket answered with an error or could not be reached.
    #[error("offsite storage: {0}")]
    Remote(String),
    /// An object is not in the bucket.
    #[error("offsite storage has no object {0}")]
    Missing(String),
    /// Encrypting or decrypting failed.
    #[error("{0}")]
    Crypto(String),
    /// A fetched copy is not the archive its record names.
    #[error("the offsite copy of {name} does not match its record: {reason}")]
    Mismatch {
        /// The archive.
        name: String,
        /// What differs.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("{0}")]
    Local(String),
}

/// How copies are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; each further failure doubles it.
    pub first_wait: Duration,
    /// The longest wait between two attempts.
    pub longest_wait: Duration,
    /// Attempts before a copy is marked failed and waits for a retry by hand.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { first_wait: Duration::from_secs(1), longest_wait: Duration::from_secs(60), attempts: 8 }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts.
    pub fn wait_after(&self, failures: u32) -> Duration {
        let doubled = self.first_wait.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        doubled.min(self.longest_wait)
    }
}

/// The offsite settings as an operator writes them: host-wide defaults on
/// the command line, a hosted tenant's own in its `hosting.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsiteSettings {
    /// `s3://BUCKET/PREFIX`; `None` makes no offsite copies.
    pub url: Option<String>,
    /// An age X25519 recipient (`age1…`) to encrypt copies to.
    pub recipient: Option<String>,
    /// The age identity file that decrypts fetched copies.
    pub identity: Option<PathBuf>,
    /// How failed copies are retried.
    pub retry: RetryPolicy,
}

impl OffsiteSettings {
    /// These settings with each of `own` that is set instead.
    pub fn overridden_by(&self, own: &OffsiteSettings) -> OffsiteSettings {
        OffsiteSettings {
            url: own.url.clone().or_else(|| self.url.clone()),
            recipient: own.recipient.clone().or_else(|| self.recipient.clone()),
            identity: own.identity.clone().or_else(|| self.identity.clone()),
            retry: self.retry,
        }
    }

    /// The configuration of tenant `tenant`'s copies; `None` without a URL.
    pub fn config_for(&self, tenant: &str) -> Result<Option<OffsiteConfig>, OffsiteError> {
        let Some(url) = &self.url else { return Ok(None) };
        let config = OffsiteConfig::parse(url, tenant, self.recipient.as_deref(), self.identity.as_deref())?;
        Ok(Some(config.with_retry(self.retry)))
    }
}

/// A tenant's offsite settings, checked, with the bucket's client.
#[derive(Debug, Clone)]
pub struct OffsiteConfig {
    /// The bucket and prefix.
    pub target: OffsiteTarget,
    /// The tenant's folder name under the prefix.
    pub tenant: String,
    /// Encrypt remote copies to this recipient.
    pub encrypt_to: Option<EncryptTo>,
    /// Decrypt fetched copies with the keys in this file.
    pub identity: Option<IdentityFile>,
    /// How failed copies are retried.
    pub retry: RetryPolicy,
    /// The tenant's folder in the bucket.
    store: RemoteStore,
}

impl OffsiteConfig {
    /// Settings from their textual form: the target URL, the tenant's
    /// folder name, an optional age recipient and identity file.
    pub fn parse(
        url: &str,
        tenant: &str,
        recipient: Option<&str>,
        identity: Option<&Path>,
    ) -> Result<OffsiteConfig, OffsiteError> {
        let target = OffsiteTarget::parse(url)?;
        let tenant_ok = !tenant.is_empty()
            && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && tenant != "."
            && tenant != "..";
        if !tenant_ok {
            return Err(OffsiteError::Config(format!(
                "{tenant:?} cannot name the tenant's offsite folder (letters, digits, '-', '_' and '.')"
            )));
        }
        let store = RemoteStore::connect(&target, tenant)?;
        Ok(OffsiteConfig {
            store,
            target,
            tenant: tenant.to_owned(),
            encrypt_to: recipient.map(EncryptTo::parse).transpose()?,
            identity: identity.map(IdentityFile::at),
            retry: RetryPolicy::default(),
        })
    }

    /// The same with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> OffsiteConfig {
        self.retry = retry;
        self
    }
}

/// Whether copies run in the background or when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A worker thread copies as soon as there is work (a server).
    Background,
    /// Work runs when [`Offsite::run_pending`] is called (a command that
    /// ends after its operation).
    Foreground,
    /// Nothing is copied and nothing is saved: the tenant is open for
    /// reading, and the process holding its lock owns the queue.
    ReadOnly,
}

/// What the worker and every handle of one tenant share.
struct Shared {
    state: Mutex<OffsiteState>,
    wake: Condvar,
    /// The worker is running.
    working: Mutex<bool>,
    file: PathBuf,
    scratch: PathBuf,
    backups: PathBuf,
    remote: Mutex<Remote>,
    /// Told after every attempt, so that the faces show the new status.
    on_change: Mutex<Option<ChangeHook>>,
}

/// What [`Offsite::on_change`] calls.
pub type ChangeHook = Arc<dyn Fn() + Send + Sync>;

/// The remote side as configured now.
#[derive(Clone)]
struct Remote {
    store: RemoteStore,
    config: OffsiteConfig,
}

/// Each tenant's shared state, by state file, so that a tenant closed and
/// opened again (multi-tenant hosting) finds its worker still running.
static SHARED: LazyLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = LazyLock::new(Mutex::default);

/// The offsite copies of one tenant.
#[derive(Clone)]
pub struct Offsite {
    shared: Arc<Shared>,
    mode: Mode,
}

impl std::fmt::Debug for Offsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offsite").field("mode", &self.mode).field("file", &self.shared.file).finish()
    }
}

/// Locks `mutex`, whatever a panicking holder left.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Offsite {
    /// The offsite copies of `tenant` under `config`, taking up the work a
    /// previous process left (in [`Mode::Background`] at once).
    pub fn open(tenant: &Tenant, config: OffsiteConfig, mode: Mode) -> Offsite {
        let file = tenant.work().offsite_state();
        let remote = Remote { store: config.store.clone(), config };
        let shared = {
            let mut all = lock(&SHARED);
            all.retain(|_, weak| weak.strong_count() > 0);
            match all.get(&file).and_then(Weak::upgrade).filter(|_| mode != Mode::ReadOnly) {
                Some(shared) => {
                    *lock(&shared.remote) = remote;
                    shared
                }
                None => {
                    let state = OffsiteState::load(&file, remote.store.describe());
                    let shared = Arc::new(Shared {
                        state: Mutex::new(state),
                        wake: Condvar::new(),
                        working: Mutex::new(false),
                        scratch: tenant.work().offsite_scratch(),
                        backups: tenant.dirs().backups.clone(),
                        file: file.clone(),
                        remote: Mutex::new(remote),
                        on_change: Mutex::new(None),
                    });
                    if mode != Mode::ReadOnly {
                        all.insert(file, Arc::downgrade(&shared));
                    }
                    shared
                }
            }
        };
        let offsite = Offsite { shared, mode };
        offsite.kick();
        offsite
    }

    /// Calls `hook` after every copy, record or removal attempt, whatever
    /// its outcome (a status a face shows may have changed).
    pub fn on_change(&self, hook: ChangeHook) {
        *lock(&self.shared.on_change) = Some(hook);
    }

    /// `s3://BUCKET/PREFIX/TENANT`.
    pub fn describe(&self) -> String {
        lock(&self.shared.remote).store.describe().to_owned()
    }

    fn remote(&self) -> Remote {
        lock(&self.shared.remote).clone()
    }

    /// Changes the state, saves it (unless read-only), and wakes the worker.
    fn change<T>(&self, edit: impl FnOnce(&mut OffsiteState) -> T) -> T {
        let answer = {
            let mut state = lock(&self.shared.state);
            let answer = edit(&mut state);
            if self.mode != Mode::ReadOnly
                && let Err(err) = state.save(&self.shared.file)
            {
                tracing::error!("cannot save the offsite state {}: {err}", self.shared.file.display());
            }
            answer
        };
        self.kick();
        answer
    }

    /// Starts the worker when there is work and none runs.
    fn kick(&self) {
        self.shared.wake.notify_all();
        if self.mode == Mode::Background {
            worker::ensure_running(&self.shared);
        }
    }

    /// Queues a copy of a new backup.
    pub fn copy(&self, backup: &Backup) {
        let encrypted = self.remote().config.encrypt_to.is_some();
        self.change(|state| {
            state.tasks.insert(
                backup.id,
                Task {
                    job: Job::Copy,
                    backup: backup.clone(),
                    encrypted,
                    attempts: 0,
                    reason: None,
                    gave_up: false,
                    not_before: None,
                },
            );
        });
    }

    /// Queues an update of a changed backup's remote record, when it has one
    /// or is being copied.
    pub fn refresh(&self, backup: &Backup) {
        self.change(|state| {
            if let Some(task) = state.tasks.get_mut(&backup.id)
                && task.job != Job::Remove
            {
                task.backup = backup.clone();
                return;
            }
            let Some(record) = state.remote.get(&backup.id) else { return };
            let task = Task {
                job: Job::Record,
                backup: backup.clone(),
                encrypted: record.encrypted,
                attempts: 0,
                reason: None,
                gave_up: false,
                not_before: None,
            };
            state.tasks.insert(backup.id, task);
        });
    }

    /// Queues the removal of backup `id`'s remote copy (a delete or an
    /// expiry), also of a copy still queued or being made. Answers whether
    /// there was anything offsite to remove.
    pub fn remove(&self, id: u64) -> bool {
        self.change(|state| {
            let queued = state.tasks.remove(&id);
            let known = state.remote.get(&id).cloned();
            let (backup, encrypted) = match (known, queued) {
                (Some(record), _) => (record.backup, record.encrypted),
                (None, Some(task)) => (task.backup, task.encrypted),
                (None, None) => return false,
            };
            let task = Task {
                job: Job::Remove,
                backup,
                encrypted,
                attempts: 0,
                reason: None,
                gave_up: false,
                not_before: None,
            };
            state.tasks.insert(id, task);
            true
        })
    }

    /// Tries a failed copy again now. Answers false when backup `id` has no
    /// failed or waiting offsite work.
    pub fn retry(&self, id: u64) -> bool {
        self.change(|state| match state.tasks.get_mut(&id) {
            Some(task) => {
                task.gave_up = false;
                task.attempts = 0;
                task.not_before = None;
                true
            }
            None => false,
        })
    }

    /// Backup `id`'s offsite status (its local copy aside).
    pub fn status(&self, id: u64) -> OffsiteStatus {
        let state = lock(&self.shared.state);
        match state.tasks.get(&id) {
            Some(task) if task.job == Job::Copy && task.gave_up => OffsiteStatus::failed(task.reason.clone()),
            Some(task) if task.job == Job::Copy => OffsiteStatus::pending(task.reason.clone()),
            Some(task) if task.job == Job::Record && task.gave_up => OffsiteStatus::failed(task.reason.clone()),
            Some(_) => OffsiteStatus::copied(),
            None if state.remote.contains_key(&id) => OffsiteStatus::copied(),
            None => OffsiteStatus::none(),
        }
    }

    /// The remote records not being removed, newest id first.
    pub fn remote_records(&self) -> Vec<RemoteRecord> {
        let state = lock(&self.shared.state);
        let removing = |id: &u64| state.tasks.get(id).is_some_and(|task| task.job == Job::Remove);
        state.remote.iter().rev().filter(|(id, _)| !removing(id)).map(|(_, record)| record.clone()).collect()
    }

    /// Backup `id`'s remote record, when the bucket has it.
    pub fn remote_record(&self, id: u64) -> Option<RemoteRecord> {
        self.remote_records().into_iter().find(|record| record.backup.id == id)
    }

    /// Lists the remote folder again when it was not listed (or tried) for
    /// `max_age`: new records are read, vanished ones forgotten, expired
    /// ones queued for removal. A failure is logged and the known records
    /// stay in use.
    pub fn refresh_listing(&self, max_age: Duration) {
        let listed_at = lock(&self.shared.state).listed_at;
        let fresh =
            listed_at.is_some_and(|at| Utc::now().signed_duration_since(at).to_std().is_ok_and(|d| d < max_age));
        if fresh {
            return;
        }
        if let Err(err) = self.list_remote() {
            // Not tried again for `max_age`: an unreachable bucket must not
            // slow every list down.
            tracing::warn!("cannot list the offsite copies in {}: {err}", self.describe());
            self.change(|state| state.listed_at = Some(Utc::now()));
        }
    }

    /// Lists the remote folder and reads the records it does not know yet.
    pub fn list_remote(&self) -> Result<(), OffsiteError> {
        let remote = self.remote();
        let objects = remote.store.list()?;
        let known: HashMap<String, RemoteRecord> =
            lock(&self.shared.state).remote.values().map(|r| (r.backup.name.clone(), r.clone())).collect();
        let mut found = std::collections::BTreeMap::new();
        for object in &objects {
            let Some(name) = target::name_of_record(&object.name) else { continue };
            let record = match known.get(name) {
                Some(record) => record.clone(),
                None => match read_record(&remote.store, &object.name, name) {
                    Ok(record) => record,
                    Err(err) => {
                        tracing::warn!("the offsite record {} is skipped: {err}", object.name);
                        continue;
                    }
                },
            };
            found.insert(record.backup.id, record);
        }
        let now = Utc::now();
        let expired: Vec<u64> =
            found.values().filter(|r| r.backup.expiry.is_some_and(|at| at <= now)).map(|r| r.backup.id).collect();
        self.change(|state| {
            state.remote = found;
            state.listed_at = Some(now);
        });
        for id in expired {
            self.remove(id);
        }
        Ok(())
    }

    /// Runs every due task once, in this thread (for [`Mode::Foreground`]);
    /// a task that fails waits for its next attempt.
    pub fn run_pending(&self) {
        worker::run_due(&self.shared, &self.remote());
    }

    /// The tasks not yet done.
    pub fn pending(&self) -> usize {
        lock(&self.shared.state).tasks.values().filter(|task| !task.gave_up).count()
    }

    /// Brings backup `record`'s remote copy into `backups/` under its name,
    /// decrypted and checked against the record's SHA-256.
    pub fn fetch(&self, record: &RemoteRecord) -> Result<(), OffsiteError> {
        fetch::fetch(&self.remote(), &self.shared.scratch, &self.shared.backups, record)
    }
}

/// Reads and checks the record `file` of archive `name`.
fn read_record(store: &RemoteStore, file: &str, name: &str) -> Result<RemoteRecord, OffsiteError> {
    let bytes = store.get_small(file)?;
    let record: RemoteRecord =
        serde_json::from_slice(&bytes).map_err(|err| OffsiteError::Remote(format!("{file} is not a record: {err}")))?;
    let sha_ok = record.backup.sha256.len() == 64 && record.backup.sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if record.backup.name != name || !crate::model::is_archive_name(name, record.backup.id) || !sha_ok {
        return Err(OffsiteError::Remote(format!("{file} does not describe the archive {name}")));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=8).map(|n| policy.wait_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn settings_give_a_configuration_per_tenant() {
        let host = OffsiteSettings { url: Some("s3://bucket/prefix".into()), ..OffsiteSettings::default() };
        let own = OffsiteSettings { recipient: Some("age1nope".into()), ..OffsiteSettings::default() };
        assert!(OffsiteSettings::default().config_for("acme").unwrap().is_none());
        let config = host.config_for("acme").unwrap().unwrap();
        assert_eq!(config.target.tenant_folder(&config.tenant).as_ref(), "prefix/acme");
        assert!(matches!(host.overridden_by(&own).config_for("acme"), Err(OffsiteError::Config(_))));
        assert!(matches!(host.config_for("../up"), Err(OffsiteError::Config(_))));
    }
}
