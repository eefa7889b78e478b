//! The WASI context of one plugin call: the tenant's four folders and
//! nothing else. No environment, no arguments, no network, empty stdin;
//! stdout and stderr captured; the wall clock follows the invocation's clock.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::{FsPerms, HostWallClock, WasiCtx, WasiCtxBuilder};

use super::Clock;
use super::captured_output::CapturedOutput;
use super::error::CallError;
use crate::tenant::TenantDirs;

/// Whether the call may change the tenant's data folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantAccess {
    /// `data`, `public` and `translations` read-only (every call but restore).
    ReadOnly,
    /// All four folders writable (restore).
    ReadWrite,
}

/// Builds the WASI context for one call on `dirs`.
pub(crate) fn wasi_ctx(
    dirs: &TenantDirs,
    access: TenantAccess,
    clock: Arc<dyn Clock>,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
) -> Result<WasiCtx, CallError> {
    let mut builder = WasiCtxBuilder::new();
    // The host calls plugins from plain threads: file operations run on the
    // calling thread instead of hopping to a tokio worker.
    builder
        .allow_blocking_current_thread(true)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(GuestWallClock(clock));
    for (name, dir) in dirs.preopens() {
        check_folder(dirs, name, dir)?;
        let perms = match (name, access) {
            ("backups", _) | (_, TenantAccess::ReadWrite) => FsPerms::ReadWrite,
            _ => FsPerms::ReadOnly,
        };
        builder
            .preopened_dir(dir, name, perms)
            .map_err(|e| CallError::Host(format!("cannot open the tenant's {name}/ folder {}: {e}", dir.display())))?;
    }
    Ok(builder.build())
}

/// Refuses a preopen folder that is missing or not a folder.
fn check_folder(dirs: &TenantDirs, name: &str, dir: &Path) -> Result<(), CallError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(CallError::Host(format!(
            "the tenant folder {} has a {name} that is not a folder ({}); move it away so that {name}/ can be a folder",
            dirs.root.display(),
            dir.display()
        ))),
        Err(_) => Err(CallError::Host(format!(
            "the tenant folder {} has no {name}/ folder ({}); create it, or run the CLI once, which creates missing folders",
            dirs.root.display(),
            dir.display()
        ))),
    }
}

/// `wasi:clocks/wall-clock` following the invocation's [`Clock`], so that a
/// test that moves time moves it for the whole guest.
struct GuestWallClock(Arc<dyn Clock>);

impl HostWallClock for GuestWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let now = self.0.now();
        match (u64::try_from(now.timestamp()), now.timestamp_subsec_nanos()) {
            (Ok(secs), nanos) => Duration::new(secs, nanos),
            // Before 1970: WASI's wall clock cannot say so.
            (Err(_), _) => Duration::ZERO,
        }
    }
}
