//! `kinesis-backup plugin …`: for authors of replacement plugins. `info`
//! tells what a component is to this host (contract version, imports
//! against what the host grants, size, SHA-256, compile time); `check` runs
//! the conformance suite against it; `wit` writes every released contract
//! folder to build against.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use kinesis_backup_core::runtime::{PluginSource, RELEASED_CONTRACTS, RuntimeOptions, inspect};

use crate::conformance::{CASES, CaseOutcome, CheckOptions, Checker};

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
    /// Run the conformance cases against a plugin component (the built-in
    /// one when no file is given), each in a throwaway tenant under short
    /// deadlines: exit 0 when all pass, 1 when any fails, 2 when the file
    /// is not a usable component.
    Check {
        /// The component file.
        file: Option<PathBuf>,
        /// Linear memory each plugin instance may use, in MiB (the host's
        /// default is 64).
        #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
        memory_mib: u32,
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
        PluginCommand::Check { file, memory_mib } => return check(file, memory_mib, out),
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

/// `plugin check`: one line per case as it ends, then the verdict.
fn check(file: Option<PathBuf>, memory_mib: u32, out: Output) -> Result<ExitCode, CliError> {
    let source = file.map_or(PluginSource::Embedded, PluginSource::File);
    let mut options = CheckOptions::new(RuntimeOptions::default().cache_dir);
    options.runtime.memory_limit_bytes = memory_mib as usize * 1024 * 1024;
    let line = |case: &CaseOutcome| {
        let verdict = if case.passed { "passed" } else { "FAILED" };
        let mut text = format!("{verdict}  {:<30} {:>6.1} s", case.name, case.millis as f64 / 1000.0);
        if let Some(reason) = &case.reason {
            text.push_str(&format!("\n        {reason}"));
        }
        text
    };
    let checker = Checker::load(&source, &options).map_err(CliError::UnusablePlugin)?;
    if !out.json {
        println!("{} targets kinesis:backup@{}; {} cases:", checker.plugin, checker.contract, CASES.len());
    }
    let report = checker.run(CASES, |case| {
        if !out.json {
            println!("{}", line(case));
        }
    });
    let message = if report.passed() {
        format!("all {} cases passed", CASES.len())
    } else {
        format!("{} of {} cases failed", report.failures().count(), CASES.len())
    };
    out.emit(&message, &[("check", json(&report))], str::to_string);
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
