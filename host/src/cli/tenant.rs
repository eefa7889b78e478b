//! `kinesis-backup tenant …`: the host operator's administration of the
//! tenants that `serve --tenants DIR` serves. Each tenant is a subfolder of
//! `DIR` named by a DNS label, with its own `.env` and token secret,
//! database and ROOT user; its plugin, quotas and limits are kept in its
//! `.kinesis/hosting.json`, with its own offsite target when the global
//! `--offsite` options are given. A running server picks up every change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use kinesis_backup_core::runtime::{PluginSource, Runtime, RuntimeOptions};
use kinesis_backup_core::tenant::hosting::{HostingSettings, holds_tenant, is_tenant_name, tenant_names};
use kinesis_backup_core::tenant::{Access, LockError, TenantLock, WorkDirs};
use serde::Serialize;

use super::output::{self, Output, json};
use super::{CliError, OffsiteArgs, session};
use crate::auth::first_start::{self, ROOT_USERNAME};
use crate::server::app::ServedTenant;

/// The tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Make a tenant: its folder, `.env`, database and ROOT user `root`
    /// (password from KINESIS_ROOT_PASSWORD, else generated and printed once).
    /// `--plugin FILE.wasm` gives it its own plugin.
    Create {
        /// Its name, a DNS label: lowercase letters, digits, inner hyphens.
        name: String,
        /// The folder of tenants.
        #[arg(long, value_name = "DIR")]
        tenants: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the tenants: backups, bytes used, quotas, plugin.
    List {
        /// The folder of tenants.
        #[arg(long, value_name = "DIR")]
        tenants: PathBuf,
    },
    /// Change a tenant's plugin (`--plugin FILE.wasm`), quotas or limits.
    Update {
        /// The tenant.
        name: String,
        /// The folder of tenants.
        #[arg(long, value_name = "DIR")]
        tenants: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Use the server's plugin again.
        #[arg(long)]
        default_plugin: bool,
        /// Remove the tenant's quotas (the server's defaults apply).
        #[arg(long, conflicts_with_all = ["quota_bytes", "quota_backups"])]
        default_quotas: bool,
        /// Remove the tenant's own offsite settings (the server's apply).
        #[arg(long)]
        default_offsite: bool,
    },
    /// Delete a tenant and everything in its folder, backups included
    /// (refused while a server or command has it open).
    Delete {
        /// The tenant.
        name: String,
        /// The folder of tenants.
        #[arg(long, value_name = "DIR")]
        tenants: PathBuf,
    },
}

/// The operator's settings a tenant may override.
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Most bytes the tenant's backups may take.
    #[arg(long, value_name = "N")]
    quota_bytes: Option<u64>,
    /// Most backups the tenant may keep.
    #[arg(long, value_name = "N")]
    quota_backups: Option<u64>,
    /// Plugin memory limit in MiB.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(8..=4096))]
    memory_mib: Option<u32>,
    /// Seconds a long plugin call may go without progress.
    #[arg(long, value_name = "SECONDS")]
    liveness_seconds: Option<u64>,
}

impl SettingsArgs {
    /// Applies the given settings, and `plugin` (the command's `--plugin`,
    /// which names the tenant's own plugin here), over `settings`.
    fn apply(&self, plugin: Option<&Path>, settings: &mut HostingSettings) -> Result<(), CliError> {
        if let Some(plugin) = plugin {
            let plugin = std::fs::canonicalize(plugin)
                .map_err(|e| CliError::Usage(format!("--plugin {}: {e}", plugin.display())))?;
            // Refused now, not at the tenant's first request.
            Runtime::load(PluginSource::File(plugin.clone()), RuntimeOptions::default())?;
            settings.plugin = Some(plugin);
        }
        settings.quota_bytes = self.quota_bytes.or(settings.quota_bytes);
        settings.quota_backups = self.quota_backups.or(settings.quota_backups);
        settings.memory_mib = self.memory_mib.or(settings.memory_mib);
        settings.liveness_seconds = self.liveness_seconds.or(settings.liveness_seconds);
        Ok(())
    }
}

/// Applies the global offsite options given, checked, as the tenant's own.
fn apply_offsite(offsite: &OffsiteArgs, settings: &mut HostingSettings) -> Result<(), CliError> {
    let given = offsite.settings();
    let merged = settings.offsite_settings().overridden_by(&given);
    if merged.url.is_some() {
        // Refused now, not at the tenant's first request.
        merged.config_for("check").map_err(|err| CliError::Usage(err.to_string()))?;
    } else if given.recipient.is_some() || given.identity.is_some() {
        return Err(CliError::Usage("--offsite-recipient and --offsite-identity need --offsite".into()));
    }
    settings.offsite = merged.url;
    settings.offsite_recipient = merged.recipient;
    settings.offsite_identity = merged.identity.map(|file| std::path::absolute(&file).unwrap_or(file));
    Ok(())
}

/// One line of `tenant list`.
#[derive(Debug, Serialize)]
struct TenantLine {
    name: String,
    backups: u64,
    bytes_used: u64,
    quota_bytes: Option<u64>,
    quota_backups: Option<u64>,
    plugin: String,
    open: bool,
}

/// The folder of tenant `name`, which must be a DNS label.
fn folder(tenants: &Path, name: &str) -> Result<PathBuf, CliError> {
    if !is_tenant_name(name) {
        return Err(CliError::Usage(format!(
            "{name:?} cannot name a tenant: use 1 to 63 lowercase letters, digits and inner hyphens (a DNS label)"
        )));
    }
    Ok(tenants.join(name))
}

fn existing(tenants: &Path, name: &str) -> Result<PathBuf, CliError> {
    let root = folder(tenants, name)?;
    if !holds_tenant(&root) {
        return Err(CliError::NoSuchTenant(format!(
            "there is no tenant {name:?} in {}; `kinesis-backup tenant list --tenants {}` shows them",
            tenants.display(),
            tenants.display()
        )));
    }
    Ok(root)
}

/// Runs a tenant command.
/// Runs a tenant command; `plugin` is the command line's `--plugin`, the
/// tenant's own plugin for `create` and `update`.
pub(crate) fn run(
    command: TenantCommand,
    plugin: Option<&Path>,
    offsite: &OffsiteArgs,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let out = Output { json: json_output };
    match command {
        TenantCommand::Create { name, tenants, settings } => {
            let root = folder(&tenants, &name)?;
            if root.exists() {
                return Err(CliError::Usage(format!("{} exists already; choose another name", root.display())));
            }
            first_start::check_password_from_env().map_err(|e| CliError::Usage(e.to_string()))?;
            let mut hosting = HostingSettings::default();
            settings.apply(plugin, &mut hosting)?;
            apply_offsite(offsite, &mut hosting)?;
            let ServedTenant { tenant, seeded, .. } =
                ServedTenant::open(&root).map_err(|e| CliError::Setup(e.to_string()))?;
            hosting.save(&tenant.work().hosting_settings())?;
            let password = seeded.and_then(|s| s.generated_password);
            let message = format!("Created tenant {name} in {}", root.display());
            let shown = password.clone().unwrap_or_else(|| "(the value of KINESIS_ROOT_PASSWORD)".to_owned());
            out.emit(
                &message,
                &[("tenant", json(&name)), ("username", json(&ROOT_USERNAME)), ("password", json(&password))],
                |m| format!("{m}.\n  username: {ROOT_USERNAME}\n  password: {shown}"),
            );
        }
        TenantCommand::List { tenants } => {
            let mut lines = Vec::new();
            let mut runtimes = HashMap::new();
            for name in tenant_names(&tenants) {
                lines.push(describe(&tenants.join(&name), name, &mut runtimes)?);
            }
            let footer = format!("{} tenants", lines.len());
            out.emit(&footer, &[("tenants", json(&lines))], |m| {
                let mut text = String::new();
                for line in &lines {
                    text.push_str(&format!(
                        "{:<20} {:>5} backups {:>10}  quota {} / {}  {}{}\n",
                        line.name,
                        line.backups,
                        output::size(line.bytes_used),
                        line.quota_backups.map_or("-".to_owned(), |n| n.to_string()),
                        line.quota_bytes.map_or("-".to_owned(), output::size),
                        line.plugin,
                        if line.open { "  (open)" } else { "" }
                    ));
                }
                format!("{text}{m}")
            });
        }
        TenantCommand::Update { name, tenants, settings, default_plugin, default_quotas, default_offsite } => {
            let root = existing(&tenants, &name)?;
            let file = WorkDirs::for_root(&root).hosting_settings();
            let mut hosting = HostingSettings::load(&file)?;
            if default_plugin {
                if plugin.is_some() {
                    return Err(CliError::Usage("give --plugin or --default-plugin, not both".into()));
                }
                hosting.plugin = None;
            }
            if default_quotas {
                hosting.quota_bytes = None;
                hosting.quota_backups = None;
            }
            if default_offsite {
                hosting.offsite = None;
                hosting.offsite_recipient = None;
                hosting.offsite_identity = None;
            }
            settings.apply(plugin, &mut hosting)?;
            apply_offsite(offsite, &mut hosting)?;
            hosting.save(&file)?;
            out.emit(&format!("Updated tenant {name}"), &[("settings", json(&hosting))], |m| {
                format!("{m}; a running server applies it when the tenant is next opened.")
            });
        }
        TenantCommand::Delete { name, tenants } => {
            let root = existing(&tenants, &name)?;
            let lock = TenantLock::acquire(&root).map_err(|err| match err {
                LockError::Held { .. } => CliError::Usage(format!(
                    "tenant {name} is in use by a server or a command; it closes after it has been idle, or stop the \
                     server, then try again"
                )),
                other => CliError::Tenant(other.into()),
            })?;
            std::fs::remove_dir_all(&root)
                .map_err(|e| CliError::Setup(format!("cannot delete {}: {e}", root.display())))?;
            drop(lock);
            out.emit(&format!("Deleted tenant {name}"), &[], |m| format!("{m} and all of its backups."));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One tenant's line: its backups through its plugin, read-only. Each
/// plugin is loaded once for all the tenants that use it (`runtimes`).
fn describe(
    root: &Path,
    name: String,
    runtimes: &mut HashMap<Option<PathBuf>, Arc<Runtime>>,
) -> Result<TenantLine, CliError> {
    let hosting = HostingSettings::load(&WorkDirs::for_root(root).hosting_settings())?;
    let runtime = match runtimes.get(&hosting.plugin) {
        Some(runtime) => runtime.clone(),
        None => {
            let plugin = hosting.plugin.clone().map_or(PluginSource::Embedded, PluginSource::File);
            let runtime = Arc::new(Runtime::load(plugin, RuntimeOptions::default())?);
            runtimes.insert(hosting.plugin.clone(), runtime.clone());
            runtime
        }
    };
    let open = matches!(TenantLock::acquire(root), Err(LockError::Held { .. }));
    let backups = session::open_with(root, runtime, Access::Read)?;
    let page = backups.list(None, 1000, 0)?;
    let bytes_used = page.backups.iter().map(|b| b.size).sum::<u64>();
    Ok(TenantLine {
        name,
        backups: page.amount,
        bytes_used,
        quota_bytes: hosting.quota_bytes,
        quota_backups: hosting.quota_backups,
        plugin: hosting.plugin.map_or_else(|| "default".to_owned(), |p| p.display().to_string()),
        open,
    })
}
