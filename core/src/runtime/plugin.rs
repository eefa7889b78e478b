//! The one boundary between the host and the contract's versions, after
//! Zed's `extension_host`: [`PluginPre`] and [`Plugin`] are enums with one
//! arm per supported contract version, and [`Plugin`] has one method per
//! operation. Each version module (`since_vX_Y_Z`) owns its bindings and
//! converts its types to and from the host's model ([`crate::model`]), so
//! every arm here is one line. A new contract version is a new module, one
//! arm in each enum and one line in [`PluginPre::prepare`].

use chrono::{DateTime, Utc};
use wasmtime::component::Component;
use wasmtime::{Engine, Store};

use super::invoke::CallState;
use super::{CallError, LoadError, since_v1_0_0};
use crate::model::{
    Backup, BackupPage, ExpiryChange, RestoreReport, Schedule, ScheduleInput, SchedulePage, SchedulePatch, TickReport,
    VerifyReport,
};

/// What one call answers: a trap or host failure (outer), or the plugin's
/// answer in the host's model (inner).
pub(crate) type Answer<T> = wasmtime::Result<Result<T, CallError>>;

/// The operations of the contract in the host's types; each version module
/// implements it for its instantiated bindings.
pub(crate) trait Contract {
    fn create(&self, s: &mut Store<CallState>, description: &str, expiry: Option<DateTime<Utc>>) -> Answer<Backup>;
    fn list(&self, s: &mut Store<CallState>, search: Option<&str>, limit: u32, offset: u32) -> Answer<BackupPage>;
    fn get(&self, s: &mut Store<CallState>, id: u64) -> Answer<Backup>;
    fn update(
        &self,
        s: &mut Store<CallState>,
        id: u64,
        description: Option<&str>,
        expiry: ExpiryChange,
    ) -> Answer<Backup>;
    fn restore(&self, s: &mut Store<CallState>, id: u64) -> Answer<RestoreReport>;
    fn delete(&self, s: &mut Store<CallState>, id: u64) -> Answer<()>;
    fn verify(&self, s: &mut Store<CallState>, id: u64) -> Answer<VerifyReport>;
    fn schedule_create(&self, s: &mut Store<CallState>, input: &ScheduleInput) -> Answer<Schedule>;
    fn schedule_list(&self, s: &mut Store<CallState>, limit: u32, offset: u32) -> Answer<SchedulePage>;
    fn schedule_update(&self, s: &mut Store<CallState>, id: u64, patch: &SchedulePatch) -> Answer<Schedule>;
    fn schedule_delete(&self, s: &mut Store<CallState>, id: u64) -> Answer<()>;
    fn schedule_tick(&self, s: &mut Store<CallState>, now: DateTime<Utc>) -> Answer<TickReport>;
}

/// A checked component, prepared once for fast instantiation.
pub(crate) enum PluginPre {
    /// Implements `kinesis:backup@1.0.0`.
    V1_0_0(since_v1_0_0::Pre),
}

/// One instance of the plugin, for one call.
pub(crate) enum Plugin {
    /// Implements `kinesis:backup@1.0.0`.
    V1_0_0(since_v1_0_0::Instance),
}

impl PluginPre {
    /// Checks `component` against the contract versions this host supports
    /// and prepares it with the newest one it implements.
    pub(crate) fn prepare(engine: &Engine, component: &Component) -> Result<PluginPre, LoadError> {
        since_v1_0_0::prepare(engine, component).map(PluginPre::V1_0_0)
    }

    /// The contract version the component implements.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            PluginPre::V1_0_0(_) => since_v1_0_0::VERSION,
        }
    }

    /// A fresh instance in `store`.
    pub(crate) fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Plugin> {
        match self {
            PluginPre::V1_0_0(pre) => pre.instantiate(store).map(Plugin::V1_0_0),
        }
    }
}

impl Plugin {
    /// The instance as the version-independent [`Contract`].
    pub(crate) fn contract(&self) -> &dyn Contract {
        match self {
            Plugin::V1_0_0(instance) => instance,
        }
    }
}
