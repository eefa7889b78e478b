//! The API server (`kinesis-backup serve`): opens the tenant (lock, `.env`,
//! database, first ROOT user), loads the plugin, and serves the JSON API,
//! the tenant's public files and the web pages, with the schedule timer
//! running beside it, until Ctrl-C or SIGTERM.

pub mod api;
pub mod auth;
pub mod db;
pub mod env_file;
pub mod extract;
pub mod first_start;
pub mod password;
pub mod request_log;
pub mod response;
pub mod restore;
pub mod router;
pub mod safe_files;
pub mod scheduler;
pub mod settings;
pub mod snapshot;
pub mod state;
pub mod tenant;
pub mod token;
pub mod tree_copy;
pub mod web;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

pub use state::AppState;

use crate::runtime::{LoadError, PluginSource, Runtime, RuntimeOptions};
use first_start::FirstStartError;
use tenant::{Tenant, TenantError};

/// Options of `kinesis-backup serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (`HOST:PORT`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The tenant could not be opened.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The first ROOT user could not be created.
    #[error(transparent)]
    FirstStart(#[from] FirstStartError),
    /// The plugin was refused.
    #[error(transparent)]
    Plugin(#[from] LoadError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The async runtime or the server failed.
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
    /// A startup task stopped unexpectedly.
    #[error("a startup task stopped unexpectedly: {0}")]
    Task(String),
}

/// Runs the server until Ctrl-C or SIGTERM. `root` is the tenant folder,
/// `plugin` the plugin source chosen on the command line. Logs go to the
/// `tracing` subscriber the caller installed (the CLI's: stderr, `RUST_LOG`,
/// `info` by default for `serve`).
pub fn run(
    root: PathBuf,
    plugin: PluginSource,
    args: ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Io)?;
    threads.block_on(serve(root, plugin, args))?;
    Ok(())
}

/// Opens everything, serves, and shuts down gracefully.
async fn serve(root: PathBuf, plugin: PluginSource, args: ServeArgs) -> Result<(), ServeError> {
    let tenant = Arc::new(Tenant::open(&root)?);
    let seeded = first_start::seed_root_user(&tenant).await?;
    let runtime =
        tokio::task::spawn_blocking(move || Runtime::load(plugin, RuntimeOptions::default()))
            .await
            .map_err(|err| ServeError::Task(err.to_string()))??;
    tracing::info!("plugin loaded: {}", runtime.describe());
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: args.addr.clone(),
            source,
        })?;
    let addr = listener.local_addr()?;

    let state = AppState {
        runtime: Arc::new(runtime),
        tenant,
    };
    let timer = tokio::spawn(scheduler::run(state.clone()));
    let app = router::build(state);

    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(first_start::welcome(&root, addr, seeded.as_ref()).as_bytes());
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(%addr, root = %root.display(), "serving");

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    timer.abort();
    tracing::info!("stopped; running plugin calls finish before the process exits");
    served.map_err(ServeError::Io)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
