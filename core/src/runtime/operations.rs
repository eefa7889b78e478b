//! The operations of the contract, listed once: their names as the WIT
//! exports them and how the runtime treats each (deadline, per-tenant
//! serialization, write access) in [`Operation`], and their signatures in
//! the host's types in [`Contract`], which every version module implements.
//! The contract check, the version modules and the runtime's methods all
//! use these.

use chrono::{DateTime, Utc};
use wasmtime::Store;

use super::error::CallError;
use super::sandbox::TenantAccess;
use super::store::CallState;
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

/// A create, restore or verify a 1.1.0 plugin has planned in parts (the
/// contract's `job`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    /// The backup it works on.
    pub(crate) id: u64,
    /// How many parts it has.
    pub(crate) parts: u32,
    /// The plugin's state, handed back unread.
    pub(crate) state: Vec<u8>,
}

/// The `parts` interface (1.1.0) in the host's types.
pub(crate) trait Parts {
    fn begin_create(
        &self,
        s: &mut Store<CallState>,
        description: &str,
        expiry: Option<DateTime<Utc>>,
        parts: u32,
    ) -> Answer<Job>;
    fn begin_restore(&self, s: &mut Store<CallState>, id: u64, parts: u32) -> Answer<Job>;
    fn begin_verify(&self, s: &mut Store<CallState>, id: u64, parts: u32) -> Answer<Job>;
    fn run_part(&self, s: &mut Store<CallState>, job: &Job, part: u32) -> Answer<Vec<u8>>;
    fn finish_create(&self, s: &mut Store<CallState>, job: &Job, outcomes: &[Vec<u8>]) -> Answer<Backup>;
    fn finish_restore(&self, s: &mut Store<CallState>, job: &Job, outcomes: &[Vec<u8>]) -> Answer<RestoreReport>;
    fn finish_verify(&self, s: &mut Store<CallState>, job: &Job, outcomes: &[Vec<u8>]) -> Answer<VerifyReport>;
    fn abandon(&self, s: &mut Store<CallState>, job: &Job) -> Answer<()>;
}

/// The operations a plugin with the `parts` interface runs as jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// `create`.
    Create,
    /// `restore`.
    Restore,
    /// `verify`.
    Verify,
}

impl JobKind {
    /// The operation the job is.
    pub(crate) const fn operation(self) -> Operation {
        match self {
            JobKind::Create => Operation::CREATE,
            JobKind::Restore => Operation::RESTORE,
            JobKind::Verify => Operation::VERIFY,
        }
    }

    /// Its `begin-*` step.
    pub(crate) const fn begin_step(self) -> Operation {
        self.operation().step(match self {
            JobKind::Create => "begin-create",
            JobKind::Restore => "begin-restore",
            JobKind::Verify => "begin-verify",
        })
    }

    /// Its `finish-*` step.
    pub(crate) const fn finish_step(self) -> Operation {
        self.operation().step(match self {
            JobKind::Create => "finish-create",
            JobKind::Restore => "finish-restore",
            JobKind::Verify => "finish-verify",
        })
    }
}

/// The steps of one kind of job, each calling the plugin's `parts`.
pub(crate) struct JobSteps<B, F> {
    /// What the job is.
    pub(crate) kind: JobKind,
    /// The `begin-*` call, given the number of instances.
    pub(crate) begin: B,
    /// The `finish-*` call.
    pub(crate) finish: F,
}

/// The functions of the `parts` interface, which a 1.1.0 plugin exports.
pub(crate) const PARTS_FUNCTIONS: [&str; 8] = [
    "begin-create",
    "begin-restore",
    "begin-verify",
    "run-part",
    "finish-create",
    "finish-restore",
    "finish-verify",
    "abandon",
];

/// What the runtime needs to know about an operation of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// The contract's name for it.
    pub(crate) name: &'static str,
    /// Whether it is a long call (create, restore, verify, tick): held to
    /// liveness and the long deadline instead of the quick one.
    pub(crate) long: bool,
    /// Whether it may change the tenant (serialized per tenant).
    pub(crate) mutates: bool,
    /// Whether it may write the data folders and `.env` (restore only).
    pub(crate) access: TenantAccess,
}

impl Operation {
    const fn new(name: &'static str, long: bool, mutates: bool) -> Self {
        Operation { name, long, mutates, access: TenantAccess::ReadOnly }
    }

    /// `create`.
    pub(crate) const CREATE: Operation = Operation::new("create", true, true);
    /// `list`.
    pub(crate) const LIST: Operation = Operation::new("list", false, false);
    /// `get`.
    pub(crate) const GET: Operation = Operation::new("get", false, false);
    /// `update`.
    pub(crate) const UPDATE: Operation = Operation::new("update", false, true);
    /// `restore`: the only call that may write the data folders and `.env`.
    pub(crate) const RESTORE: Operation =
        Operation { name: "restore", long: true, mutates: true, access: TenantAccess::ReadWrite };
    /// `delete`.
    pub(crate) const DELETE: Operation = Operation::new("delete", false, true);
    /// `verify`.
    pub(crate) const VERIFY: Operation = Operation::new("verify", true, false);
    /// `schedule-create`.
    pub(crate) const SCHEDULE_CREATE: Operation = Operation::new("schedule-create", false, true);
    /// `schedule-list`.
    pub(crate) const SCHEDULE_LIST: Operation = Operation::new("schedule-list", false, false);
    /// `schedule-update`.
    pub(crate) const SCHEDULE_UPDATE: Operation = Operation::new("schedule-update", false, true);
    /// `schedule-delete`.
    pub(crate) const SCHEDULE_DELETE: Operation = Operation::new("schedule-delete", false, true);
    /// `schedule-tick`.
    pub(crate) const SCHEDULE_TICK: Operation = Operation::new("schedule-tick", true, true);

    /// A step of a job (`begin-*`, `run-part`, `finish-*`, `abandon`) of
    /// the job operation `self` (create, restore or verify): named `step`,
    /// a long call with the job's access; the job holds the tenant.
    pub(crate) const fn step(self, step: &'static str) -> Operation {
        Operation { name: step, long: true, mutates: false, access: self.access }
    }

    /// `abandon` of a job of the operation `self`: a quick call, held to the
    /// quick deadline, since it only removes what the job left.
    pub(crate) const fn abandon_step(self) -> Operation {
        Operation { name: "abandon", long: false, mutates: false, access: self.access }
    }

    /// Every operation, in the contract's order.
    pub(crate) const ALL: [Operation; 12] = [
        Operation::CREATE,
        Operation::LIST,
        Operation::GET,
        Operation::UPDATE,
        Operation::RESTORE,
        Operation::DELETE,
        Operation::VERIFY,
        Operation::SCHEDULE_CREATE,
        Operation::SCHEDULE_LIST,
        Operation::SCHEDULE_UPDATE,
        Operation::SCHEDULE_DELETE,
        Operation::SCHEDULE_TICK,
    ];
}
