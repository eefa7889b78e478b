//! Jobs: a create, restore or verify split into parts that separate
//! instances run at the same time (the contract's `parts` interface). Each
//! instance starts fresh, so what later calls need travels in the job's
//! state and the parts' outcomes, encoded here as JSON, which the host hands
//! back unread.

pub mod create;
pub mod read;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::{Backup, RestoreReport, VerifyReport};
use create::CreateJob;
use read::ReadJob;

/// The state of a job, as the host hands it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// A create.
    Create(CreateJob),
    /// A restore or a verify.
    Read(ReadJob),
}

/// `value` as bytes for the host to hand back.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| PluginError::Storage(format!("could not encode a job's state: {e}")))
}

/// Bytes the host handed back, as the value they encode.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| PluginError::InvalidInput(format!("the {what} handed back is not one this plugin wrote: {e}")))
}

/// Every outcome of a job's parts, decoded.
pub fn decode_all<T: DeserializeOwned>(outcomes: &[Vec<u8>]) -> Result<Vec<T>> {
    outcomes.iter().map(|bytes| decode(bytes, "outcome of a part")).collect()
}

/// A job as the contract's `job` record carries it: the backup's id, the
/// number of parts and the encoded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The backup the job works on.
    pub id: u64,
    /// How many parts it has.
    pub parts: u32,
    /// Its encoded [`JobState`].
    pub state: Vec<u8>,
}

impl JobState {
    fn planned(self) -> Result<Planned> {
        let (id, parts) = match &self {
            JobState::Create(job) => (job.id, job.parts()),
            JobState::Read(job) => (job.id, job.parts()),
        };
        let parts = u32::try_from(parts).map_err(|_| PluginError::Storage(format!("{parts} parts are too many")))?;
        Ok(Planned { id, parts, state: encode(&self)? })
    }

    fn create(bytes: &[u8]) -> Result<CreateJob> {
        match decode(bytes, "job state")? {
            JobState::Create(job) => Ok(job),
            JobState::Read(_) => Err(PluginError::InvalidInput("the job is not a create".to_string())),
        }
    }

    fn read(bytes: &[u8], restore: bool) -> Result<ReadJob> {
        match decode(bytes, "job state")? {
            JobState::Read(job) if job.restore == restore => Ok(job),
            _ => Err(PluginError::InvalidInput(format!(
                "the job is not a {}",
                if restore { "restore" } else { "verify" }
            ))),
        }
    }
}

/// Begins a create of at most `parts` parts.
pub fn begin_create(ctx: Context, description: &str, expiry: Option<i64>, parts: u32) -> Result<Planned> {
    JobState::Create(CreateJob::begin(ctx, description, expiry, parts)?).planned()
}

/// Begins a restore (`restore`) or a verify of backup `id`.
pub fn begin_read(ctx: Context, id: u64, restore: bool) -> Result<Planned> {
    JobState::Read(ReadJob::begin(ctx, id, restore)?).planned()
}

/// Runs part `part` of the job whose state is `state`; answers its outcome.
pub fn run_part(ctx: Context, state: &[u8], part: u32) -> Result<Vec<u8>> {
    let part = part as usize;
    match decode(state, "job state")? {
        JobState::Create(job) => encode(&job.run_part(ctx, part)?),
        JobState::Read(job) => encode(&job.run_part(ctx, part)?),
    }
}

/// Ends a create job.
pub fn finish_create(ctx: Context, state: &[u8], outcomes: &[Vec<u8>]) -> Result<Backup> {
    JobState::create(state)?.finish(ctx, &decode_all(outcomes)?)
}

/// Ends a restore job.
pub fn finish_restore(ctx: Context, state: &[u8], outcomes: &[Vec<u8>]) -> Result<RestoreReport> {
    JobState::read(state, true)?.finish_restore(ctx, &decode_all(outcomes)?)
}

/// Ends a verify job.
pub fn finish_verify(ctx: Context, state: &[u8], outcomes: &[Vec<u8>]) -> Result<VerifyReport> {
    JobState::read(state, false)?.finish_verify(ctx, &decode_all(outcomes)?)
}

/// Removes what the job left behind; never fails.
pub fn abandon(ctx: Context, state: &[u8]) {
    if let Ok(job) = JobState::create(state) {
        job.abandon(ctx);
    }
}
