//! The API server (`kinesis-backup serve`): opens the tenant ([`app`]),
//! assembles every route ([`router`]), runs the schedule timer
//! ([`scheduler`]) and serves until Ctrl-C or SIGTERM.

pub mod app;
pub mod hosting;
pub mod router;
pub mod scheduler;

use std::io::Write;
use std::path::PathBuf;

pub use app::{App, OpenError};

use crate::auth::first_start;
use kinesis_backup_core::offsite::{Mode, OffsiteConfig, OffsiteSettings};
use kinesis_backup_core::runtime::{PluginSource, RuntimeOptions};

/// Options of `kinesis-backup serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (`HOST:PORT`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Serve every tenant in this folder (one subfolder each, made with
    /// `kinesis-backup tenant create`), chosen by the request's host,
    /// instead of the one tenant of `--root`.
    #[arg(long, value_name = "DIR")]
    pub tenants: Option<PathBuf>,
    /// With `--tenants`: the domain the tenants' hosts are under; a request
    /// to `acme.DOMAIN` goes to tenant `acme`.
    #[arg(long, value_name = "DOMAIN", default_value = "localhost", requires = "tenants")]
    pub domain: String,
    /// With `--tenants`: long operations (create, restore, verify, due
    /// ticks) running at once across all tenants; others wait their turn,
    /// round robin over tenants. Default: the number of cores.
    #[arg(long, value_name = "N", requires = "tenants")]
    pub max_running: Option<usize>,
    /// With `--tenants`: the default quota on each tenant's backups, in bytes.
    #[arg(long, value_name = "N", requires = "tenants")]
    pub quota_bytes: Option<u64>,
    /// With `--tenants`: the default quota on each tenant's number of backups.
    #[arg(long, value_name = "N", requires = "tenants")]
    pub quota_backups: Option<u64>,
    /// With `--tenants`: the default plugin memory limit in MiB.
    #[arg(long, value_name = "MIB", requires = "tenants", value_parser = clap::value_parser!(u32).range(8..=4096))]
    pub memory_mib: Option<u32>,
    /// With `--tenants`: seconds an unused tenant stays open.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, requires = "tenants")]
    pub idle_seconds: u64,
    /// Most bytes an archive uploaded with `POST /backup/upload` may have.
    #[arg(long, value_name = "BYTES", default_value_t = crate::http::state::DEFAULT_UPLOAD_LIMIT)]
    pub upload_limit: u64,
}

/// Where the served tenants' backups are copied offsite.
#[derive(Debug, Clone)]
pub enum ServeOffsite {
    /// The one tenant of `--root`: its configuration, if any.
    Root(Option<OffsiteConfig>),
    /// `--tenants`: the host-wide defaults each tenant's own settings override.
    Hosted(OffsiteSettings),
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
pub fn run(
    root: PathBuf,
    plugin: PluginSource,
    options: RuntimeOptions,
    args: ServeArgs,
    offsite: ServeOffsite,
) -> Result<(), ServeError> {
    limit_retained_memory();
    let threads = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServeError::Io)?;
    match (args.tenants.clone(), offsite) {
        (Some(dir), ServeOffsite::Hosted(offsite)) => {
            threads.block_on(serve_tenants(dir, plugin, options, args, offsite))
        }
        (Some(dir), ServeOffsite::Root(_)) => {
            threads.block_on(serve_tenants(dir, plugin, options, args, OffsiteSettings::default()))
        }
        (None, ServeOffsite::Root(offsite)) => threads.block_on(serve(root, plugin, options, args, offsite)),
        (None, ServeOffsite::Hosted(_)) => threads.block_on(serve(root, plugin, options, args, None)),
    }
}

/// Serves every tenant of `dir` by host, and shuts down gracefully.
async fn serve_tenants(
    dir: PathBuf,
    plugin: PluginSource,
    mut runtime: RuntimeOptions,
    args: ServeArgs,
    offsite: OffsiteSettings,
) -> Result<(), ServeError> {
    std::fs::create_dir_all(&dir)?;
    if let Some(mib) = args.memory_mib {
        runtime.memory_limit_bytes = mib as usize * 1024 * 1024;
    }
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    let max_running = args.max_running.unwrap_or(cores).max(1);
    // Every long operation and the quick calls beside them need an instance.
    runtime.max_instances = runtime.max_instances.max(max_running as u32 + 32);
    let options = hosting::HostingOptions {
        dir: dir.clone(),
        domain: args.domain.trim_matches('.').to_owned(),
        plugin,
        runtime,
        quota: kinesis_backup_core::ops::Quota { bytes: args.quota_bytes, backups: args.quota_backups },
        max_running,
        idle: std::time::Duration::from_secs(args.idle_seconds),
        offsite,
        upload_limit: args.upload_limit,
    };
    let hosting = hosting::Hosting::new(options);
    let (listener, addr) = bind(&args.addr).await?;
    let timers = tokio::spawn(hosting::run_timers(hosting.clone()));
    announce(&format!(
        "Kinesis Backup is listening on http://{addr} for the tenants in {} (http://TENANT.{}:{})\n",
        dir.display(),
        args.domain,
        addr.port()
    ));
    let router = hosting::router(hosting.clone());
    serve_until_stopped(listener, router, timers, async move { hosting.shut_down().await }).await
}

/// Opens everything, serves, and shuts down gracefully.
async fn serve(
    root: PathBuf,
    plugin: PluginSource,
    options: RuntimeOptions,
    args: ServeArgs,
    offsite: Option<OffsiteConfig>,
) -> Result<(), ServeError> {
    let mut app = App::open_adjusted(&root, plugin, options, |backups| match offsite {
        Some(config) => backups.with_offsite(config, Mode::Background),
        None => backups,
    })
    .await?;
    app.state.upload_limit = args.upload_limit;
    let (listener, addr) = bind(&args.addr).await?;
    let timer = app.spawn_timer();
    announce(&first_start::welcome(&root, addr, app.seeded.as_ref()));
    tracing::info!(%addr, root = %root.display(), "serving");
    let backups = app.state.backups.clone();
    serve_until_stopped(listener, app.router(), timer, async move { backups.runtime().shut_down() }).await
}

/// Listens on `addr`.
async fn bind(addr: &str) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr: addr.to_owned(), source })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Tells the operator on stdout that the server is ready.
fn announce(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Serves `router` until Ctrl-C or SIGTERM. Then `stop_plugins` stops the
/// running plugin calls at once (their operations clean up after them), the
/// answers in flight are sent, and the `timer` task ends.
async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    timer: tokio::task::JoinHandle<()>,
    stop_plugins: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let stopping = async move {
        shutdown_signal().await;
        stop_plugins.await;
    };
    // The peer address of each connection is what sign-in throttling counts by.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(stopping).await;
    timer.abort();
    tracing::info!("stopped");
    served.map_err(ServeError::Io)
}

/// Makes the C allocator give memory back: allocations of 256 KiB or more
/// (password hashing takes 19 MiB at a time) are mapped and unmapped on
/// their own instead of staying in a heap, and at most four heaps serve the
/// many threads of the blocking pool. Without this, freed memory of every
/// sign-in stays with the process.
fn limit_retained_memory() {
    // SAFETY: mallopt only tunes glibc's allocator; it is called before the
    // server starts its threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
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
