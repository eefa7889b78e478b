//! What a plugin file is, for its author: which contract version it
//! implements, what it imports against what the host grants, its size,
//! SHA-256 and compile time; and the released contract folders, so an author
//! can build against them (`kinesis-backup plugin info` and `plugin wit`).

use std::time::Instant;

use serde::Serialize;
use wasmtime::component::Component;

use super::contract::is_provided;
use super::error::LoadError;
use super::plugin::{PluginPre, SPECS};
use super::{PluginSource, load};

/// Every released contract version and the text of its WIT file.
pub const RELEASED_CONTRACTS: [(&str, &str); 2] = [
    ("v1.0.0", include_str!("../../../wit/v1.0.0/backup.wit")),
    ("v1.1.0", include_str!("../../../wit/v1.1.0/backup.wit")),
];

/// What the host does with an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Linked and usable: a contract interface, or WASI for files, clocks,
    /// random numbers, the command line's streams.
    Granted,
    /// Linked, but every use is refused (WASI sockets: no network).
    Denied,
    /// Not provided: a component importing it does not load.
    Refused,
}

/// What the host does with the import `name` (under any contract version).
pub(crate) fn grant_of(name: &str) -> Grant {
    if !SPECS.iter().any(|spec| is_provided(spec, name)) {
        return Grant::Refused;
    }
    if name.starts_with("wasi:sockets/") { Grant::Denied } else { Grant::Granted }
}

/// One import of a component and what the host does with it.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    /// The interface, e.g. `wasi:filesystem/types@0.2.6`.
    pub name: String,
    /// `granted`, `denied` (linked, every use refused) or `refused` (the
    /// host does not provide it: the component does not load).
    pub grant: &'static str,
}

/// What `plugin info` tells about a component.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Where it came from.
    pub origin: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// How long compiling it took, in milliseconds.
    pub compile_ms: u64,
    /// The contract version it implements (`1.0.0`, `1.1.0`), if it
    /// implements one.
    pub contract: Option<String>,
    /// Why it does not load, when it does not.
    pub refusal: Option<String>,
    /// What it imports.
    pub imports: Vec<Import>,
    /// What it exports.
    pub exports: Vec<String>,
}

/// Reads, compiles (without the cache, to time it) and checks `source`.
/// Fails only when the bytes are not a component at all.
pub fn inspect(source: &PluginSource) -> Result<PluginInfo, LoadError> {
    let plugin = load::read(source)?;
    let engine = super::engine::build_engine(64 * 1024 * 1024, 1)?;
    let started = Instant::now();
    let (component, _) = load::compile(&engine, &plugin, None)?;
    let compile_ms = started.elapsed().as_millis() as u64;
    let ty = component.component_type();
    let imports = ty
        .imports(&engine)
        .map(|(name, _)| Import {
            name: name.to_owned(),
            grant: match grant_of(name) {
                Grant::Granted => "granted",
                Grant::Denied => "denied",
                Grant::Refused => "refused",
            },
        })
        .collect();
    let exports = ty.exports(&engine).map(|(name, _)| name.to_owned()).collect();
    let (contract, refusal) = match prepare(&engine, &component) {
        Ok(version) => (Some(version.to_owned()), None),
        Err(err) => (None, Some(err.to_string())),
    };
    Ok(PluginInfo {
        origin: plugin.origin,
        size: plugin.bytes.len() as u64,
        sha256: plugin.sha256,
        compile_ms,
        contract,
        refusal,
        imports,
        exports,
    })
}

fn prepare(engine: &wasmtime::Engine, component: &Component) -> Result<&'static str, LoadError> {
    PluginPre::prepare(engine, component).map(|pre| pre.version())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_granted_denied_or_refused_under_any_version() {
        assert_eq!(grant_of("kinesis:backup/host@1.0.0"), Grant::Granted);
        assert_eq!(grant_of("kinesis:backup/host@1.1.0"), Grant::Granted);
        assert_eq!(grant_of("wasi:filesystem/types@0.2.3"), Grant::Granted);
        assert_eq!(grant_of("wasi:sockets/tcp@0.2.0"), Grant::Denied);
        assert_eq!(grant_of("kinesis:backup/host@1.2.0"), Grant::Refused);
        assert_eq!(grant_of("wasi:http/types@0.2.0"), Grant::Refused);
    }
}
