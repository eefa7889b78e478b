//! Runs one plugin operation: a fresh `Store` from the prepared instance,
//! the tenant's WASI context, the memory limit and the deadline; then turns
//! the outcome into the host's model or a [`CallError`].

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{PoolConcurrencyLimitError, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::captured_output::CapturedOutput;
use super::engine::ticks_for;
use super::host_imports::HostContext;
use super::limits::{Failure, MemoryLimiter};
use super::sandbox::{TenantAccess, wasi_ctx};
use super::since_v1_0_0::{IntoModel, from_wit_error, wit};
use super::{CallError, Invocation, Runtime};

/// What the runtime needs to know about an operation of the contract.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    /// The contract's name for it.
    pub name: &'static str,
    /// Whether it gets the long deadline (create, restore, verify, tick).
    pub long: bool,
    /// Whether it may change the tenant (serialized per tenant).
    pub mutates: bool,
    /// Whether it may write the tenant's data folders and `.env` (restore).
    pub access: TenantAccess,
}

impl Operation {
    const fn new(name: &'static str, long: bool, mutates: bool) -> Self {
        Operation { name, long, mutates, access: TenantAccess::ReadOnly }
    }

    pub(crate) const CREATE: Operation = Operation::new("create", true, true);
    pub(crate) const LIST: Operation = Operation::new("list", false, false);
    pub(crate) const GET: Operation = Operation::new("get", false, false);
    pub(crate) const UPDATE: Operation = Operation::new("update", false, true);
    pub(crate) const RESTORE: Operation =
        Operation { name: "restore", long: true, mutates: true, access: TenantAccess::ReadWrite };
    pub(crate) const DELETE: Operation = Operation::new("delete", false, true);
    pub(crate) const VERIFY: Operation = Operation::new("verify", true, false);
    pub(crate) const SCHEDULE_CREATE: Operation = Operation::new("schedule-create", false, true);
    pub(crate) const SCHEDULE_LIST: Operation = Operation::new("schedule-list", false, false);
    pub(crate) const SCHEDULE_UPDATE: Operation = Operation::new("schedule-update", false, true);
    pub(crate) const SCHEDULE_DELETE: Operation = Operation::new("schedule-delete", false, true);
    pub(crate) const SCHEDULE_TICK: Operation = Operation::new("schedule-tick", true, true);
}

/// The data of one call's `Store`.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// Behind the contract's `host` imports.
    pub(crate) host: HostContext,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The generated bindings of an instantiated plugin.
pub(crate) type Plugin = super::since_v1_0_0::BackupPlugin;

/// An operation's answer as the contract gives it.
pub(crate) type WitAnswer<R> = wasmtime::Result<Result<R, wit::Error>>;

impl Runtime {
    /// Runs `call` on a fresh instance for `inv` under `op`'s rules.
    pub(crate) fn run<R: IntoModel>(
        &self,
        inv: &Invocation,
        op: Operation,
        call: impl FnOnce(&Plugin, &mut Store<CallState>) -> WitAnswer<R>,
    ) -> Result<R::Model, CallError> {
        let _tenant = op.mutates.then(|| self.tenant_mutexes.lock(&inv.dirs.root));
        let started = Instant::now();
        let stdout = CapturedOutput::default();
        let stderr = CapturedOutput::default();
        let deadline = if op.long { self.options.long_deadline } else { self.options.quick_deadline };

        let wasi = wasi_ctx(&inv.dirs, op.access, inv.clock.clone(), &stdout, &stderr)?;
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(self.options.memory_limit_bytes),
            host: HostContext {
                operation: op.name,
                dirs: inv.dirs.clone(),
                env_writable: op.access == TenantAccess::ReadWrite,
                clock: inv.clock.clone(),
                progress: inv.progress.clone(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(ticks_for(deadline));
        store.epoch_deadline_trap();

        let outcome = match self.pre.instantiate(&mut store) {
            Ok(plugin) => call(&plugin, &mut store),
            Err(e) if e.is::<PoolConcurrencyLimitError>() => {
                return Err(CallError::Busy(
                    "too many plugin calls are running at once; try again in a moment".to_string(),
                ));
            }
            Err(e) => Err(e),
        };

        stdout.log_lines("stdout", op.name, false);
        stderr.log_lines("stderr", op.name, true);
        tracing::debug!(operation = op.name, elapsed_ms = started.elapsed().as_millis() as u64, "plugin call finished");

        match outcome {
            Ok(Ok(answer)) => answer
                .into_model()
                .map_err(|e| CallError::Host(format!("{} failed: {e}", op.name))),
            Ok(Err(error)) => Err(from_wit_error(error)),
            Err(error) => Err(Failure {
                operation: op.name,
                deadline,
                memory_limit: self.options.memory_limit_bytes,
                memory_exceeded: store.data().limiter.exceeded(),
                stderr: stderr.text().0,
            }
            .classify(&error)),
        }
    }
}
