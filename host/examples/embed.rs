//! An existing axum application that loads the Kinesis backup plugin and
//! mounts the backup routes with one call.
//!
//! ```sh
//! KINESIS_ROOT_PASSWORD=change-me-now cargo run -p kinesis-backup --example embed -- ./my-tenant 127.0.0.1:8090
//! curl http://127.0.0.1:8090/hello
//! curl -X POST http://127.0.0.1:8090/user/login -d '{"auth_data": "root", "password": "change-me-now"}'
//! ```

use std::path::Path;

use axum::Router;
use axum::routing::get;
use kinesis_backup::server::OpenError;
use kinesis_backup_core::runtime::PluginSource;

/// The host application's own routes, with the backup routes mounted on
/// them for the tenant folder `root`.
pub async fn host_application(root: &Path) -> Result<Router, OpenError> {
    let app = Router::new().route("/hello", get(|| async { "hello from the host application" }));
    kinesis_backup::embed::mount(app, root, PluginSource::Embedded).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| "./embedded-tenant".to_owned());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = host_application(Path::new(&root)).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("the host application listens on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
