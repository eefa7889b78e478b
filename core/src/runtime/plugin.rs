//! The one boundary between the host and the contract's versions, after
//! Zed's `extension_host`: [`PluginPre`] and [`Plugin`] are enums with one
//! arm per supported contract version, and [`Plugin::contract`] gives the
//! instance as the [`Contract`] trait, one method per operation. Each version module (`since_vX_Y_Z`) owns its bindings and
//! converts its types to and from the host's model ([`crate::model`]), so
//! every arm here is one line. A new contract version is a new module, one
//! arm in each enum and one line in [`PluginPre::prepare`].

use wasmtime::component::Component;
use wasmtime::{Engine, Store};

use super::contract::{self, ContractSpec};
use super::error::LoadError;
use super::operations::{Contract, Parts};
use super::store::CallState;
use super::{since_v1_0_0, since_v1_1_0};

/// What each supported contract version requires, oldest first.
pub(crate) const SPECS: [ContractSpec; 2] = [since_v1_0_0::SPEC, since_v1_1_0::SPEC];

/// A checked component, prepared once for fast instantiation.
pub(crate) enum PluginPre {
    /// Implements `kinesis:backup@1.0.0`.
    V1_0_0(since_v1_0_0::Pre),
    /// Implements `kinesis:backup@1.1.0`.
    V1_1_0(since_v1_1_0::Pre),
}

/// One instance of the plugin, for one call.
pub(crate) enum Plugin {
    /// Implements `kinesis:backup@1.0.0`.
    V1_0_0(since_v1_0_0::Instance),
    /// Implements `kinesis:backup@1.1.0`.
    V1_1_0(since_v1_1_0::Instance),
}

impl PluginPre {
    /// Checks `component` against the contract version it targets (the
    /// version of the `plugin` interface it exports; 1.0.0 when none this
    /// host knows) and prepares it.
    pub(crate) fn prepare(engine: &Engine, component: &Component) -> Result<PluginPre, LoadError> {
        if contract::targets(engine, component, &since_v1_1_0::SPEC) {
            return since_v1_1_0::prepare(engine, component).map(PluginPre::V1_1_0);
        }
        since_v1_0_0::prepare(engine, component).map(PluginPre::V1_0_0)
    }

    /// The contract version the component implements.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            PluginPre::V1_0_0(_) => since_v1_0_0::VERSION,
            PluginPre::V1_1_0(_) => since_v1_1_0::VERSION,
        }
    }

    /// A fresh instance in `store`.
    pub(crate) fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Plugin> {
        match self {
            PluginPre::V1_0_0(pre) => pre.instantiate(store).map(Plugin::V1_0_0),
            PluginPre::V1_1_0(pre) => pre.instantiate(store).map(Plugin::V1_1_0),
        }
    }

    /// Whether the component can split a create, restore or verify over
    /// several instances (the `parts` interface).
    pub(crate) fn has_parts(&self) -> bool {
        matches!(self, PluginPre::V1_1_0(_))
    }
}

impl Plugin {
    /// The instance as the version-independent [`Contract`].
    pub(crate) fn contract(&self) -> &dyn Contract {
        match self {
            Plugin::V1_0_0(instance) => instance,
            Plugin::V1_1_0(instance) => instance,
        }
    }

    /// The instance's `parts` interface, when its version has one.
    pub(crate) fn parts(&self) -> Option<&dyn Parts> {
        match self {
            Plugin::V1_0_0(_) => None,
            Plugin::V1_1_0(instance) => Some(instance),
        }
    }
}
