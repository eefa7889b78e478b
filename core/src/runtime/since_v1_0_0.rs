//! Bindings for contract version 1.0.0 (`wit/v1.0.0`, frozen), its linker,
//! and the conversions between its types and the host's model
//! (`crate::model`), written by [`v1_glue!`].
//!
//! One module per released contract version: a later version gets its own
//! `since_vX_Y_Z` module beside this one, and this one never changes.

use chrono::{DateTime, Utc};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use super::contract::{self, ContractSpec};
use super::error::{CallError, LoadError};
use super::host_imports::{HostContext, LogLevel};
use super::operations::{Answer, Contract};
use super::store::CallState;
use super::v1_glue::{BadTimestamp, IntoModel, from_wit_opt_time, from_wit_time, to_wit_time, v1_glue};
use crate::model;

wasmtime::component::bindgen!({
    path: "../wit/v1.0.0",
    world: "backup-plugin",
});

use kinesis::backup::host as wit_host;
use kinesis::backup::types as wit;

/// The contract version of this module.
pub(crate) const VERSION: &str = "1.0.0";

/// What a component must export and may import to implement 1.0.0.
pub(crate) const SPEC: ContractSpec = ContractSpec {
    export: "kinesis:backup/plugin@1.0.0",
    parts_export: None,
    contract_imports: &["kinesis:backup/host@1.0.0", "kinesis:backup/types@1.0.0"],
};

/// A component prepared for 1.0.0.
pub(crate) type Pre = BackupPluginPre<CallState>;
/// An instance of a 1.0.0 component.
pub(crate) type Instance = BackupPlugin;

v1_glue!();
