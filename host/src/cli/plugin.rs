//! `kinesis-backup plugin …`: for authors of replacement plugins. `info`
//! tells what a component is to this host (contract version, imports
//! against what the host grants, size, SHA-256, compile time); `wit` writes
//! every released contract folder to build against.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use kinesis_backup_core::runtime::{PluginSource, RELEASED_CONTRACTS, inspect};

use super::CliError;
use super::output::{self, Output, json};

/// The plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Describe a plugin component (the built-in one when no file is given):
    /// exit 0 when this host loads it, 1 when it refuses it, 2 when the file
    /// is not a component.
    Info {
        /// The component file.
        file: Option<PathBuf>,
    },
    /// Write every released contract folder (`v1.0.0/backup.wit`, …) into DIR.
    Wit {
        /// Where to write them (created when missing).
        dir: PathBuf,
    },
}

/// Runs a plugin command.
pub(crate) fn run(command: PluginCommand, json_output: bool) -> Result<ExitCode, CliError> {
    let out = Output { json: json_output };
    match command {
        PluginCommand::Info { file } => {
            let source = file.map_or(PluginSource::Embedded, PluginSource::File);
            let info = inspect(&source)?;
            let message = match (&info.contract, &info.refusal) {
                (Some(version), _) => format!("{} implements kinesis:backup@{version}", info.origin),
                (None, Some(refusal)) => format!("{} is refused: {refusal}", info.origin),
                (None, None) => format!("{} implements no contract this host runs", info.origin),
            };
            out.emit(&message, &[("plugin", json(&info))], |m| {
                let mut text = format!(
                    "{m}\n  size {} ({} bytes), sha256 {}\n  compiled in {} ms\n  imports:\n",
                    output::size(info.size),
                    info.size,
                    info.sha256,
                    info.compile_ms
                );
                for import in &info.imports {
                    text.push_str(&format!("    {:<8} {}\n", import.grant, import.name));
                }
                text.push_str("  exports:\n");
                for export in &info.exports {
                    text.push_str(&format!("    {export}\n"));
                }
                text.push_str(
                    "  (granted: linked and usable; denied: linked, every use refused; refused: not provided, the \
                     component does not load)",
                );
                text
            });
            if info.contract.is_none() {
                return Ok(ExitCode::from(1));
            }
        }
        PluginCommand::Wit { dir } => {
            let mut written = Vec::new();
            for (version, wit) in RELEASED_CONTRACTS {
                let folder = dir.join(version);
                let file = folder.join("backup.wit");
                std::fs::create_dir_all(&folder)
                    .and_then(|()| std::fs::write(&file, wit))
                    .map_err(|e| CliError::Setup(format!("cannot write {}: {e}", file.display())))?;
                written.push(file.display().to_string());
            }
            out.emit(&format!("Wrote {} contract version(s)", written.len()), &[("files", json(&written))], |m| {
                format!("{m}:\n  {}", written.join("\n  "))
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
