//! Running synchronous work (plugin calls, file copies, password hashing,
//! database queries) on tokio's blocking pool, with one error for a task
//! that stopped unexpectedly. The work finishes even when the request that
//! started it goes away.

/// A blocking task panicked or was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("a background task stopped unexpectedly: {0}")]
pub struct TaskStopped(String);

/// Runs `work` on the blocking pool and waits for it.
pub async fn on_blocking_pool<T, F>(work: F) -> Result<T, TaskStopped>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|err| TaskStopped(err.to_string()))
}
