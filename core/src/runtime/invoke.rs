//! Runs one plugin operation: a fresh `Store` from the prepared instance,
//! the tenant's WASI context, the memory limit and the deadline; then turns
//! the outcome into the host's model or a [`CallError`].

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{PoolConcurrencyLimitError, Store, UpdateDeadline};

use super::budget::LogBudget;
use super::captured_output::CapturedOutput;
use super::distrust::{Asked, Distrusted, bounded_error};
use super::engine::ticks_for;
use super::error::CallError;
use super::host_imports::HostContext;
use super::limits::{Failure, MemoryLimiter};
use super::liveness::{CHECK_EVERY, Watch};
use super::operations::Operation;
use super::operations::{Answer, Contract};
use super::plugin::Plugin;
use super::sandbox::{TenantAccess, wasi_ctx};
use super::store::CallState;
use super::{Invocation, Runtime};

/// How long a call waits for a free instance slot before answering Busy.
const POOL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

impl Runtime {
    /// Runs `call` on a fresh instance for `inv` under `op`'s rules.
    pub(crate) fn run<T: Distrusted>(
        &self,
        inv: &Invocation,
        op: Operation,
        asked: Asked,
        call: impl FnOnce(&dyn Contract, &mut Store<CallState>) -> Answer<T>,
    ) -> Result<T, CallError> {
        let _tenant = op.mutates.then(|| self.tenant_mutexes.lock(&inv.dirs.root));
        self.run_on_instance(inv, op, asked, |plugin, store| call(plugin.contract(), store))
    }

    /// Runs `call` on a fresh instance for `inv` under `op`'s rules (but
    /// for serializing changes: the caller holds the tenant when it must).
    pub(crate) fn run_on_instance<T: Distrusted>(
        &self,
        inv: &Invocation,
        op: Operation,
        asked: Asked,
        call: impl FnOnce(&Plugin, &mut Store<CallState>) -> Answer<T>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let stdout = CapturedOutput::default();
        let stderr = CapturedOutput::default();
        let watch = if op.long {
            Watch::long(self.options.long_deadline, self.options.liveness, inv.data_bytes, self.shut_down.clone())
        } else {
            Watch::quick(self.options.quick_deadline, self.shut_down.clone())
        };

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
                log: LogBudget::default(),
                last_sign: Instant::now(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        let check_every = ticks_for(CHECK_EVERY);
        store.set_epoch_deadline(check_every);
        store.epoch_deadline_callback(move |ctx| match watch.check(ctx.data().host.last_sign) {
            None => Ok(UpdateDeadline::Continue(check_every)),
            Some(stop) => Err(stop.into()),
        });

        let outcome = match self.instantiate(&mut store) {
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
        store.data().host.finish();
        tracing::debug!(operation = op.name, elapsed_ms = started.elapsed().as_millis() as u64, "plugin call finished");

        match outcome {
            Ok(Ok(answer)) => answer.distrust(&asked).map_err(|rule| self.violation(op, rule)),
            Ok(Err(CallError::Violation { rule, .. })) => Err(self.violation(op, rule)),
            Ok(Err(error)) => Err(bounded_error(error)),
            Err(error) => Err(Failure {
                operation: op.name,
                memory_limit: self.options.memory_limit_bytes,
                memory_exceeded: store.data().limiter.exceeded(),
                stderr: stderr.text().0,
            }
            .classify(&error)),
        }
    }

    /// A fresh instance in `store`. When every instance slot of the pool is
    /// taken, waits a little for one to come free (calls are short) before
    /// giving up.
    fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Plugin> {
        let patience = Instant::now() + POOL_PATIENCE;
        loop {
            match self.pre.instantiate(store) {
                Err(e) if e.is::<PoolConcurrencyLimitError>() && Instant::now() < patience => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                outcome => return outcome,
            }
        }
    }

    /// Instantiates the plugin for `inv` in a fresh store, as every call
    /// does, and calls nothing: how long that takes, for the hosting
    /// benchmark.
    #[doc(hidden)]
    pub fn time_instantiation(&self, inv: &Invocation) -> Result<std::time::Duration, CallError> {
        let started = Instant::now();
        let mut took = std::time::Duration::ZERO;
        self.run(inv, Operation::LIST, Asked::default(), |_, _| {
            took = started.elapsed();
            Ok(Ok(()))
        })?;
        Ok(took)
    }

    /// The error for an answer that breaks `rule`, naming the plugin.
    pub(crate) fn violation(&self, op: Operation, rule: String) -> CallError {
        tracing::warn!(operation = op.name, "{} broke a rule of the host: {rule}", self.name);
        CallError::Violation { plugin: self.name.clone(), operation: op.name.to_string(), rule }
    }
}
