//! The offsite options every command takes: where copies go
//! (`--offsite s3://BUCKET/PREFIX`) and how they are encrypted. Endpoint and
//! credentials are the process's standard `AWS_*` variables. Under
//! `serve --tenants` they are the host-wide defaults; for `tenant create`
//! and `tenant update` they are the tenant's own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kinesis_backup_core::offsite::{OffsiteConfig, OffsiteSettings, RetryPolicy};

use super::CliError;

/// Offsite copies in S3-compatible storage.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OffsiteArgs {
    /// Copy every new backup to S3-compatible storage, under
    /// `s3://BUCKET/PREFIX/TENANT/` (endpoint and credentials from the
    /// AWS_* variables); TENANT is the tenant folder's name.
    #[arg(long, global = true, value_name = "s3://BUCKET/PREFIX")]
    pub offsite: Option<String>,
    /// Encrypt the offsite copies to this age X25519 recipient (`age1…`).
    #[arg(long, global = true, value_name = "AGE1…")]
    pub offsite_recipient: Option<String>,
    /// The age identity file (`AGE-SECRET-KEY-1…`) that decrypts fetched copies.
    #[arg(long, global = true, value_name = "FILE")]
    pub offsite_identity: Option<PathBuf>,
    /// Milliseconds before the first retry of a failed copy (doubling after).
    #[arg(long, global = true, value_name = "MS", hide = true)]
    pub offsite_retry_ms: Option<u64>,
}

impl OffsiteArgs {
    /// The settings as given.
    pub fn settings(&self) -> OffsiteSettings {
        let mut retry = RetryPolicy::default();
        if let Some(ms) = self.offsite_retry_ms {
            retry.first_wait = Duration::from_millis(ms.max(1));
            retry.longest_wait = retry.longest_wait.min(retry.first_wait * 16);
        }
        OffsiteSettings {
            url: self.offsite.clone(),
            recipient: self.offsite_recipient.clone(),
            identity: self.offsite_identity.clone(),
            retry,
        }
    }

    /// The configuration of the tenant folder `root`'s copies, named by its
    /// folder name; `None` without `--offsite`.
    pub fn config_for_root(&self, root: &Path) -> Result<Option<OffsiteConfig>, CliError> {
        if self.offsite.is_none() {
            return Ok(None);
        }
        let name = tenant_name(root)?;
        self.settings().config_for(&name).map_err(|err| CliError::Usage(err.to_string()))
    }
}

/// The name of the tenant folder `root`.
pub fn tenant_name(root: &Path) -> Result<String, CliError> {
    let absolute = std::path::absolute(root).map_err(|e| CliError::Usage(format!("{}: {e}", root.display())))?;
    let normal = absolute.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect::<PathBuf>();
    normal
        .file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| CliError::Usage(format!("{} has no folder name to name its offsite copies", root.display())))
}
