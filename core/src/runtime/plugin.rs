//! The one boundary between the host and the contract's versions, after
//! Zed's `extension_host`: [`PluginPre`] and [`Plugin`] are enums with one
//! arm per supported contract version, and [`Plugin::contract`] gives the
//! instance as the [`Contract`] trait, one method per operation. Each version module (`since_vX_Y_Z`) owns its bindings and
//! converts its types to and from the host's model ([`crate::model`]), so
//! every arm here is one line. A new contract version is a new module, one
//! arm in each enum and one line in [`PluginPre::prepare`].

use wasmtime::component::Component;
use wasmtime::{Engine, Store};

use super::operations::Contract;
use super::store::CallState;
use super::{LoadError, since_v1_0_0};

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
