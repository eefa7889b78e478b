//! Loading the backup plugin inside another axum application: one call
//! opens a tenant folder, loads the plugin, starts the schedule timer and
//! mounts every backup route (the JSON API, the web pages, sign-in) on the
//! application's router. See `docs/embedding.md` and `examples/embed.rs`.

use std::path::Path;

use axum::Router;
use kinesis_backup_core::runtime::{PluginSource, RuntimeOptions};

use crate::server::{App, OpenError};

/// Opens the tenant at `root` with `plugin`, starts its schedule timer, and
/// returns `app` with the backup routes merged in. The tenant stays locked
/// against other writer processes while the returned router lives in the
/// running server.
pub async fn mount(app: Router, root: &Path, plugin: PluginSource) -> Result<Router, OpenError> {
    let backups = App::open(root, plugin, RuntimeOptions::default()).await?;
    if let Some(seeded) = &backups.seeded {
        let password = seeded.generated_password.as_deref().unwrap_or("(the value of KINESIS_ROOT_PASSWORD)");
        tracing::warn!("first start of {}: created the ROOT user `root` with password {password}", root.display());
    }
    // The timer runs as long as the tokio runtime does.
    drop(backups.spawn_timer());
    Ok(app.merge(backups.router()))
}
