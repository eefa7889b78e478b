//! Bindings for contract version 1.1.0 (`wit/v1.1.0`, frozen), its linker,
//! the conversions of its types (written by [`v1_glue!`], as for 1.0.0),
//! and its `parts` interface as the [`Parts`] trait.
//!
//! One module per released contract version: a later version gets its own
//! `since_vX_Y_Z` module beside this one, and this one never changes.

use chrono::{DateTime, Utc};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use super::contract::{self, ContractSpec};
use super::error::{CallError, LoadError};
use super::host_imports::{HostContext, LogLevel};
use super::operations::{Answer, Contract, Job, Parts};
use super::store::CallState;
use super::v1_glue::{BadTimestamp, IntoModel, from_wit_opt_time, from_wit_time, to_wit_time, v1_glue};
use crate::model;

wasmtime::component::bindgen!({
    path: "../wit/v1.1.0",
    world: "backup-plugin",
});

use exports::kinesis::backup::parts as wit_parts;
use kinesis::backup::host as wit_host;
use kinesis::backup::types as wit;

/// The contract version of this module.
pub(crate) const VERSION: &str = "1.1.0";

/// What a component must export and may import to implement 1.1.0.
pub(crate) const SPEC: ContractSpec = ContractSpec {
    export: "kinesis:backup/plugin@1.1.0",
    parts_export: Some("kinesis:backup/parts@1.1.0"),
    contract_imports: &["kinesis:backup/host@1.1.0", "kinesis:backup/types@1.1.0"],
};

/// A component prepared for 1.1.0.
pub(crate) type Pre = BackupPluginPre<CallState>;
/// An instance of a 1.1.0 component.
pub(crate) type Instance = BackupPlugin;

v1_glue!();

impl IntoModel for wit_parts::Job {
    type Model = Job;
    fn into_model(self) -> Result<Job, BadTimestamp> {
        Ok(Job { id: self.id, parts: self.parts, state: self.state })
    }
}

fn to_wit_job(job: &Job) -> wit_parts::Job {
    wit_parts::Job { id: job.id, parts: job.parts, state: job.state.clone() }
}

impl Parts for BackupPlugin {
    fn begin_create(
        &self,
        s: &mut Store<CallState>,
        description: &str,
        expiry: Option<DateTime<Utc>>,
        parts: u32,
    ) -> Answer<Job> {
        answer(self.kinesis_backup_parts().call_begin_create(s, description, expiry.map(to_wit_time), parts))
    }
    fn begin_restore(&self, s: &mut Store<CallState>, id: u64, parts: u32) -> Answer<Job> {
        answer(self.kinesis_backup_parts().call_begin_restore(s, id, parts))
    }
    fn begin_verify(&self, s: &mut Store<CallState>, id: u64, parts: u32) -> Answer<Job> {
        answer(self.kinesis_backup_parts().call_begin_verify(s, id, parts))
    }
    fn run_part(&self, s: &mut Store<CallState>, job: &Job, part: u32) -> Answer<Vec<u8>> {
        answer(self.kinesis_backup_parts().call_run_part(s, &to_wit_job(job), part))
    }
    fn finish_create(&self, s: &mut Store<CallState>, job: &Job, outcomes: &[Vec<u8>]) -> Answer<model::Backup> {
        answer(self.kinesis_backup_parts().call_finish_create(s, &to_wit_job(job), outcomes))
    }
    fn finish_restore(
        &self,
        s: &mut Store<CallState>,
        job: &Job,
        outcomes: &[Vec<u8>],
    ) -> Answer<model::RestoreReport> {
        answer(self.kinesis_backup_parts().call_finish_restore(s, &to_wit_job(job), outcomes))
    }
    fn finish_verify(&self, s: &mut Store<CallState>, job: &Job, outcomes: &[Vec<u8>]) -> Answer<model::VerifyReport> {
        answer(self.kinesis_backup_parts().call_finish_verify(s, &to_wit_job(job), outcomes))
    }
    fn abandon(&self, s: &mut Store<CallState>, job: &Job) -> Answer<()> {
        self.kinesis_backup_parts().call_abandon(s, &to_wit_job(job)).map(Ok)
    }
}
