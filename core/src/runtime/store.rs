//! The data of one call's `Store`: the WASI context (the tenant's folders),
//! its resource table, the memory limiter, and the state behind the
//! contract's `host` imports.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::host_imports::HostContext;
use super::limits::MemoryLimiter;

/// The data of one call's `Store`.
pub(crate) struct CallState {
    /// The WASI context: the four preopens, captured output.
    pub wasi: WasiCtx,
    /// WASI's resources.
    pub table: ResourceTable,
    /// Caps linear memory.
    pub limiter: MemoryLimiter,
    /// Behind the contract's `host` imports.
    pub host: HostContext,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
