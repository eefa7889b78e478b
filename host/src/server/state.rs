//! What every handler and the timer share: the loaded plugin and the tenant.

use std::sync::Arc;

use super::response::ApiError;
use super::tenant::Tenant;
use crate::runtime::{CallError, Invocation, Runtime};
use crate::tenants::TenantDirs;

/// The server's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The loaded backup plugin.
    pub runtime: Arc<Runtime>,
    /// The tenant this server serves.
    pub tenant: Arc<Tenant>,
}

impl AppState {
    /// Runs a plugin operation on the tenant's own folders.
    pub async fn call<T, F>(&self, operation: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Runtime, &Invocation) -> Result<T, CallError> + Send + 'static,
    {
        self.call_on(self.tenant.dirs().clone(), operation).await
    }

    /// Runs a plugin operation on `dirs` (the tenant's folders, perhaps with
    /// a snapshot as `data`) on the blocking pool: plugin calls are
    /// synchronous and may take minutes.
    pub async fn call_on<T, F>(&self, dirs: TenantDirs, operation: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Runtime, &Invocation) -> Result<T, CallError> + Send + 'static,
    {
        let runtime = self.runtime.clone();
        let invocation = Invocation::new(dirs);
        blocking(move || operation(&runtime, &invocation).map_err(ApiError::from)).await
    }
}

/// Runs synchronous `work` (plugin calls, file copies) on the blocking pool.
/// The work finishes even when the request that started it goes away.
pub async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        ApiError::internal(format!("a background task stopped unexpectedly: {err}"))
    })?
}
