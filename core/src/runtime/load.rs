//! Loading a plugin: read its bytes and compile them (or load the cached
//! artifact). Checking the contract and preparing the instance is the
//! version boundary's work (`plugin.rs`).

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginSource;
use super::cache::{self, ArtifactOrigin};
use super::error::LoadError;

/// The default plugin, built from `plugin/` by `host/build.rs`.
static EMBEDDED_PLUGIN: &[u8] = include_bytes!(env!("KINESIS_DEFAULT_PLUGIN_WASM"));

/// A plugin's bytes and where they came from.
pub(crate) struct PluginBytes {
    /// The component.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lowercase hex.
    pub sha256: String,
    /// For logs: "the embedded default plugin" or the file.
    pub origin: String,
}

/// Reads the plugin's bytes.
pub(crate) fn read(source: &PluginSource) -> Result<PluginBytes, LoadError> {
    let (bytes, origin) = match source {
        PluginSource::Embedded => (EMBEDDED_PLUGIN.to_vec(), "the embedded default plugin".to_string()),
        PluginSource::File(path) => (
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.clone(), source })?,
            format!("the plugin file {}", path.display()),
        ),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(PluginBytes { bytes, sha256, origin })
}

/// The compiled component, from the cache when an intact artifact is there.
pub(crate) fn compile(
    engine: &Engine,
    plugin: &PluginBytes,
    cache_file: Option<&std::path::Path>,
) -> Result<(Component, ArtifactOrigin), LoadError> {
    if let Some(component) = cache_file.and_then(|file| cache::load(engine, file)) {
        return Ok((component, ArtifactOrigin::Cache));
    }
    let component = Component::new(engine, &plugin.bytes)
        .map_err(|e| LoadError::NotAComponent(describe_compile_error(&plugin.bytes, &e)))?;
    if let Some(file) = cache_file {
        cache::store(&component, file);
    }
    Ok((component, ArtifactOrigin::Compiled))
}

/// Why compiling failed, in words a plugin author can act on.
fn describe_compile_error(bytes: &[u8], error: &wasmtime::Error) -> String {
    const MAGIC: &[u8] = b"\0asm";
    match bytes.get(..8) {
        Some(head) if head.starts_with(MAGIC) && head[4..] == [1, 0, 0, 0] => {
            "it is a core WebAssembly module, not a component; build it for wasm32-wasip2 (or wrap it with \
             `wasm-tools component new`)"
                .to_string()
        }
        Some(head) if head.starts_with(MAGIC) => format!("{error:#}"),
        _ => "the file does not start with the WebAssembly magic bytes (\\0asm); is it a .wasm file?".to_string(),
    }
}
