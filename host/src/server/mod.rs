//! The API server (`kinesis-backup serve`): opens the tenant ([`app`]),
//! assembles every route ([`router`]), runs the schedule timer
//! ([`scheduler`]) and serves until Ctrl-C or SIGTERM.

pub mod app;
pub mod router;
pub mod scheduler;

use std::io::Write;
use std::path::PathBuf;

pub use app::{App, OpenError};

use crate::auth::first_start;
use kinesis_backup_core::runtime::{PluginSource, RuntimeOptions};

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
    /// The tenant or the plugin could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
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
}

/// Runs the server until Ctrl-C or SIGTERM. `root` is the tenant folder,
/// `plugin` the plugin source chosen on the command line. Logs go to the
/// `tracing` subscriber the caller installed (the CLI's: stderr, `RUST_LOG`,
/// `info` by default for `serve`).
pub fn run(root: PathBuf, plugin: PluginSource, options: RuntimeOptions, args: ServeArgs) -> Result<(), ServeError> {
    let threads = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServeError::Io)?;
    threads.block_on(serve(root, plugin, options, args))
}

/// Opens everything, serves, and shuts down gracefully.
async fn serve(
    root: PathBuf,
    plugin: PluginSource,
    options: RuntimeOptions,
    args: ServeArgs,
) -> Result<(), ServeError> {
    let app = App::open(&root, plugin, options).await?;
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|source| ServeError::Listen { addr: args.addr.clone(), source })?;
    let addr = listener.local_addr()?;

    let timer = app.spawn_timer();
    let router = app.router();
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(first_start::welcome(&root, addr, app.seeded.as_ref()).as_bytes());
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(%addr, root = %root.display(), "serving");

    let backups = app.state.backups.clone();
    let stopping = async move {
        shutdown_signal().await;
        // Running plugin calls stop at once; their operations clean up after
        // them, and the answers in flight are sent before the process exits.
        backups.runtime().shut_down();
    };
    let served = axum::serve(listener, router).with_graceful_shutdown(stopping).await;
    timer.abort();
    tracing::info!("stopped");
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
